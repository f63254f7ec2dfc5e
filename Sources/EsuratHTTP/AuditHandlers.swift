import EsuratDomain
import EsuratServices
import Foundation
import OpenAPIRuntime

/// The audit log, its checkpoints, archive exports and the retention report.
struct AuditHandlers: Sendable {
    let chain: AuditChain
    let archive: ArchiveService
    let retention: RetentionService

    static func event(_ fields: [String: JSONValue]) throws -> Components.Schemas.AuditEvent {
        var hashed = fields
        hashed["hash"] = nil
        let canonical = String(decoding: try CanonicalJSON.encode(.object(hashed)), as: UTF8.self)
        func string(_ key: String) -> String? {
            if case .string(let value)? = fields[key] { return value }
            return nil
        }
        func integer(_ key: String) -> Int64 {
            if case .number(let value)? = fields[key] { return Int64(value) }
            return 0
        }
        let details = try JSONDecoder().decode(Components.Schemas.AuditEvent.DetailsPayload.self, from: Data(try CanonicalJSON.encode(fields["details"] ?? .object([:]))))
        return .init(
            chainSeq: integer("chainSeq"), seq: integer("seq"), id: string("id") ?? "", occurredAt: string("occurredAt") ?? "",
            action: string("action") ?? "", objectType: string("objectType") ?? "", objectId: string("objectId"),
            actorUserId: string("actorUserId"), actingPositionId: string("actingPositionId"), actingCapacity: string("actingCapacity"),
            clientAddress: string("clientAddress"), requestId: string("requestId"), details: details,
            prevHash: string("prevHash") ?? "", hash: string("hash") ?? "", canonical: canonical)
    }

    static func checkpoint(_ checkpoint: AuditChain.Checkpoint) -> Components.Schemas.AuditCheckpoint {
        .init(
            id: checkpoint.id, sequence: checkpoint.sequence, headHash: checkpoint.headHash, createdAt: checkpoint.createdAt,
            statement: String(decoding: checkpoint.statement, as: UTF8.self), signature: Data(checkpoint.signature).base64EncodedString())
    }

    static func export(_ job: ArchiveService.Job) -> Components.Schemas.ArchiveExport {
        .init(
            id: Wire.id(job.id), state: .init(rawValue: job.state) ?? .failed, from: job.from, to: job.to, unitId: job.unitID.map(Wire.id),
            classification: job.classification, letters: job.letters, bytes: Int64(job.bytes), sha256: job.sha256, error: job.error,
            createdAt: job.createdAt, finishedAt: job.finishedAt)
    }

    static func retention(_ status: RetentionStatus) -> Components.Schemas.Retention {
        .init(
            scheduleCode: status.schedule.code, activeYears: status.schedule.activeYears, inactiveYears: status.schedule.inactiveYears,
            finalDisposition: .init(rawValue: status.schedule.finalDisposition.rawValue) ?? .dinilaiKembali,
            activeUntil: status.activeUntil, inactiveUntil: status.inactiveUntil, state: .init(rawValue: status.phase.rawValue) ?? .active)
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let page = try await chain.events(actor: try RequestScope.caller().actor, page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map(Self.event), nextCursor: page.nextCursor))))
    }

    func listAuditCheckpoints(_ input: Operations.ListAuditCheckpoints.Input) async throws -> Operations.ListAuditCheckpoints.Output {
        let page = try await chain.checkpoints(actor: try RequestScope.caller().actor, page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.checkpoint), nextCursor: page.nextCursor))))
    }

    func createAuditCheckpoint(_ input: Operations.CreateAuditCheckpoint.Input) async throws -> Operations.CreateAuditCheckpoint.Output {
        let checkpoint = try await chain.checkpoint(actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.checkpoint(checkpoint))))
    }

    func createArchiveExport(_ input: Operations.CreateArchiveExport.Input) async throws -> Operations.CreateArchiveExport.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let job = try await archive.request(
            from: body.from, to: body.to, unitID: try Wire.optionalUUID(body.unitId, field: "unitId"), classification: body.classification,
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .accepted(.init(body: .json(Self.export(job))))
    }

    func getArchiveExport(_ input: Operations.GetArchiveExport.Input) async throws -> Operations.GetArchiveExport.Output {
        let job = try await archive.job(try Wire.uuid(input.path.exportId, field: "exportId"), actor: try RequestScope.caller().actor)
        return .ok(.init(body: .json(Self.export(job))))
    }

    // Served by a plain handler in HTTPServer (the tar is streamed); this satisfies the protocol.
    func downloadArchiveExport(_ input: Operations.DownloadArchiveExport.Input) async throws -> Operations.DownloadArchiveExport.Output {
        throw ServiceError(.conflict, "downloads are served by the raw route")
    }

    func getRetentionReport(_ input: Operations.GetRetentionReport.Input) async throws -> Operations.GetRetentionReport.Output {
        let page = try await retention.report(
            dueOnly: input.query.due ?? false, actor: try RequestScope.caller().actor,
            page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        let items = page.items.map {
            Components.Schemas.RetentionReportItem(
                letterId: Wire.id($0.letterID), number: $0.number, subject: $0.subject, unitId: Wire.id($0.unitID),
                classificationCode: $0.classificationCode, signedAt: $0.signedAt, retention: Self.retention($0.status))
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.nextCursor))))
    }

    func setRetentionSchedule(_ input: Operations.SetRetentionSchedule.Input) async throws -> Operations.SetRetentionSchedule.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let schedule = try await retention.setSchedule(
            code: input.path.code, activeYears: body.activeYears, inactiveYears: body.inactiveYears, finalDisposition: body.finalDisposition,
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .ok(.init(body: .json(.init(
            code: schedule.code, activeYears: schedule.activeYears, inactiveYears: schedule.inactiveYears,
            finalDisposition: .init(rawValue: schedule.finalDisposition.rawValue) ?? .dinilaiKembali))))
    }
}
