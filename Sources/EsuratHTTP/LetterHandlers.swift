import EsuratDomain
import EsuratServices
import EsuratSigning
import Foundation
import OpenAPIRuntime
import HTTPTypes

/// Outgoing letters.
struct LetterHandlers: Sendable {
    let letters: LetterService

    static func draft(_ body: Components.Schemas.LetterDraft) throws -> LetterDraft {
        LetterDraft(
            type: body._type, subject: body.subject, classificationCode: body.classificationCode, securityLevel: body.securityLevel,
            urgency: body.urgency, body: body.body,
            recipients: try body.recipients.enumerated().map { index, recipient in
                (try Wire.uuid(recipient.unitId, field: "recipients[\(index)].unitId"), recipient.role)
            },
            signerPositionID: try Wire.optionalUUID(body.signerPositionId, field: "signerPositionId"),
            reviewerPositionIDs: try body.reviewerPositionIds?.enumerated().map { try Wire.uuid($1, field: "reviewerPositionIds[\($0)]") },
            signingCapacity: body.signingCapacity?.rawValue)
    }

    static func letter(_ record: LetterRecord) -> Components.Schemas.Letter {
        .init(
            id: Wire.id(record.id), status: .init(rawValue: record.status.rawValue)!, version: record.version, number: record.number,
            signedAt: record.signedAt, _type: record.type.rawValue, subject: record.subject, classificationCode: record.classificationCode,
            securityLevel: record.securityLevel.rawValue, urgency: record.urgency.rawValue, body: record.body, unitId: Wire.id(record.unitID),
            recipients: record.recipients.map { .init(unitId: Wire.id($0.unitID), role: $0.role) },
            attachments: record.attachments.map(Self.attachment),
            route: record.route.enumerated().map { index, step in
                .init(kind: step.kind.rawValue, positionId: Wire.id(step.positionID), current: record.currentStep == index,
                      capacity: step.capacity.map { .init(rawValue: $0.rawValue)! }, principalPositionId: step.principalPositionID.map(Wire.id))
            },
            history: record.history.map {
                .init(at: $0.at, action: $0.action, actorUserId: $0.actorUserID.map(Wire.id), actingPositionId: $0.actingPositionID.map(Wire.id),
                      actingCapacity: $0.actingCapacity, note: $0.note)
            },
            retention: record.retention.map(AuditHandlers.retention))
    }

    static func attachment(_ record: LetterService.AttachmentRecord) -> Components.Schemas.Attachment {
        .init(id: Wire.id(record.id), filename: record.filename, mediaType: record.mediaType, size: record.size, sha256: record.sha256)
    }

    // Served by plain handlers in HTTPServer (raw bodies both ways); these satisfy the protocol.
    func addAttachment(_ input: Operations.AddAttachment.Input) async throws -> Operations.AddAttachment.Output {
        throw ServiceError(.conflict, "attachments are handled by the raw route")
    }

    func getAttachment(_ input: Operations.GetAttachment.Input) async throws -> Operations.GetAttachment.Output {
        throw ServiceError(.conflict, "attachments are handled by the raw route")
    }

    func createLetter(_ input: Operations.CreateLetter.Input) async throws -> Operations.CreateLetter.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let record = try await letters.create(try Self.draft(body), caller: try RequestScope.caller(), request: RequestScope.info)
        return .created(.init(body: .json(Self.letter(record))))
    }

    func listLetters(_ input: Operations.ListLetters.Input) async throws -> Operations.ListLetters.Output {
        let page = try await letters.list(
            box: input.query.box.rawValue, caller: try RequestScope.caller(), page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.letter), nextCursor: page.nextCursor))))
    }

    func getLetter(_ input: Operations.GetLetter.Input) async throws -> Operations.GetLetter.Output {
        let record = try await letters.letter(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller())
        return .ok(.init(headers: .init(eTag: "\"\(record.version)\""), body: .json(Self.letter(record))))
    }

    func updateLetter(_ input: Operations.UpdateLetter.Input) async throws -> Operations.UpdateLetter.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let tag = input.headers.ifMatch.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))
        guard let version = Int(tag) else { throw ServiceError.invalid("If-Match", "must be the letter's version, as its ETag gives it") }
        let record = try await letters.update(
            try Wire.uuid(input.path.letterId, field: "letterId"), try Self.draft(body), expectedVersion: version,
            caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.letter(record))))
    }

    func submitLetter(_ input: Operations.SubmitLetter.Input) async throws -> Operations.SubmitLetter.Output {
        let record = try await letters.submit(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.letter(record))))
    }

    func reviewLetter(_ input: Operations.ReviewLetter.Input) async throws -> Operations.ReviewLetter.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let record = try await letters.review(
            try Wire.uuid(input.path.letterId, field: "letterId"), approve: body.decision == .approve, note: body.note,
            caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.letter(record))))
    }

    func signLetter(_ input: Operations.SignLetter.Input) async throws -> Operations.SignLetter.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let record = try await letters.sign(
            try Wire.uuid(input.path.letterId, field: "letterId"), passphrase: body.passphrase, caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.letter(record))))
    }

    func withdrawLetter(_ input: Operations.WithdrawLetter.Input) async throws -> Operations.WithdrawLetter.Output {
        let record = try await letters.withdraw(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.letter(record))))
    }

    func getLetterDocument(_ input: Operations.GetLetterDocument.Input) async throws -> Operations.GetLetterDocument.Output {
        let (document, _) = try await letters.signedDocument(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller())
        // HTTPServer serves this operation with a plain handler (the generated JSON body would
        // re-encode the signed bytes); this implementation only satisfies the protocol.
        return .undocumented(statusCode: 200, .init(headerFields: [.contentType: "application/json"], body: HTTPBody(document)))
    }

    func getLetterSignature(_ input: Operations.GetLetterSignature.Input) async throws -> Operations.GetLetterSignature.Output {
        let (_, signature) = try await letters.signedDocument(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller())
        return .ok(.init(body: .applicationPkcs7Signature(HTTPBody(signature))))
    }

    func getLetterDeliveries(_ input: Operations.GetLetterDeliveries.Input) async throws -> Operations.GetLetterDeliveries.Output {
        let items = try await letters.deliveries(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller()).map {
            Operations.GetLetterDeliveries.Output.Ok.Body.JsonPayload.ItemsPayloadPayload(
                unitId: Wire.id($0.unitID), role: $0.role, state: .init(rawValue: $0.state) ?? .pending, attempts: $0.attempts,
                deliveredAt: $0.deliveredAt, acceptedAt: $0.acceptedAt)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func listLetterEvidence(_ input: Operations.ListLetterEvidence.Input) async throws -> Operations.ListLetterEvidence.Output {
        let items = try await letters.evidenceList(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller()).map {
            Operations.ListLetterEvidence.Output.Ok.Body.JsonPayload.ItemsPayloadPayload(
                id: Wire.id($0.id), kind: .init(rawValue: $0.kind) ?? .submissionAcceptance, unitId: Wire.id($0.unitID), createdAt: $0.createdAt)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    // Served by a plain handler in HTTPServer (raw bytes); this satisfies the protocol.
    func getLetterEvidence(_ input: Operations.GetLetterEvidence.Input) async throws -> Operations.GetLetterEvidence.Output {
        throw ServiceError(.conflict, "evidence is served by the raw route")
    }

    func getLetterVerification(_ input: Operations.GetLetterVerification.Input) async throws -> Operations.GetLetterVerification.Output {
        let report = try await letters.verification(try Wire.uuid(input.path.letterId, field: "letterId"), caller: try RequestScope.caller())
        let object = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(try report.json().utf8))
        return .ok(.init(body: .json(.init(additionalProperties: object))))
    }
}
