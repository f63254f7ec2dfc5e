public import EsuratDomain
public import EsuratPostgres
import EsuratSigning
public import Foundation

/// Evidence records after ETSI REM (EN 319 532): an RFC 8785 JSON record of the event,
/// signed by the server (CAdES-T), stored with the delivery.
public enum Evidence {
    public enum Kind: String, Sendable, CaseIterable {
        case submissionAcceptance = "SubmissionAcceptance"
        case contentConsignment = "ContentConsignment"
        case contentHandover = "ContentHandover"
    }

    /// What an evidence record states about one delivery.
    struct Subject: Sendable {
        var deliveryID: UUID
        var letterID: UUID
        var letterNumber: String
        var documentSHA256: String
        var senderUnitID: UUID
        var recipientUnitID: UUID
        var attempt: Int
    }

    /// Writes the evidence of `kind` for every delivery matching (letter, unit); unit nil:
    /// every delivery of the letter.
    static func record(_ kind: Kind, letter: UUID, unit: UUID?, pki: PKIService, blocking: BlockingWork, on tx: PostgresConnection) async throws {
        let rows = try await tx.query(
            """
            SELECT d.id, d.recipient_unit_id, d.attempts, l.number, l.unit_id AS sender, ld.document_sha256
            FROM deliveries d JOIN letters l ON l.id = d.letter_id JOIN letter_documents ld ON ld.letter_id = l.id
            WHERE d.letter_id = $1 AND ($2::uuid IS NULL OR d.recipient_unit_id = $2)
            """, [letter, unit])
        let subjects = try rows.map { row in
            Subject(
                deliveryID: try row.decode("id"), letterID: letter, letterNumber: try row.decode("number", as: String?.self) ?? "",
                documentSHA256: try row.decode("document_sha256"), senderUnitID: try row.decode("sender"),
                recipientUnitID: try row.decode("recipient_unit_id"), attempt: try row.decode("attempts"))
        }
        _ = try await tx.pipelined(try await statements(kind, for: subjects, pki: pki, blocking: blocking))
    }

    /// Records and their signatures, as parallel arrays (for `unnest` in one statement).
    struct SignedRecords: Sendable {
        var deliveryIDs: [UUID]
        var records: [PostgresBytes]
        var signatures: [PostgresBytes]
    }

    /// The records of `kind` for `subjects`, signed in one trip to the blocking pool.
    static func sign(_ kind: Kind, for subjects: [Subject], pki: PKIService, blocking: BlockingWork) async throws -> SignedRecords {
        if subjects.isEmpty { return SignedRecords(deliveryIDs: [], records: [], signatures: []) }
        let signer = try pki.evidenceSigner()
        let now = Date()
        return try await blocking.run { try sign(kind, for: subjects, signer: signer, at: now) }
    }

    /// The records of `kind` for `subjects`, signed here and now: for a caller already on a
    /// thread of the blocking pool.
    static func sign(_ kind: Kind, for subjects: [Subject], signer: CMSSigner, at now: Date) throws -> SignedRecords {
        let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(now)
        let records = try subjects.map { subject in
            try CanonicalJSON.encode(.object([
                "format": .string("esurat/evidence/1"),
                "event": .string(kind.rawValue),
                "deliveryId": .string(subject.deliveryID.lowercasedString),
                "letterId": .string(subject.letterID.lowercasedString),
                "letterNumber": .string(subject.letterNumber),
                "documentSha256": .string(subject.documentSHA256),
                "senderUnitId": .string(subject.senderUnitID.lowercasedString),
                "recipientUnitId": .string(subject.recipientUnitID.lowercasedString),
                "attempt": .number(Double(subject.attempt)),
                "time": .string(time),
            ]))
        }
        let signatures = try records.map { try signer.sign($0, at: now) }
        return SignedRecords(deliveryIDs: subjects.map(\.deliveryID), records: records.map(PostgresBytes.init), signatures: signatures.map(PostgresBytes.init))
    }

    /// The signed records of `kind` for `subjects`, as inserts for the caller's transaction.
    static func statements(_ kind: Kind, for subjects: [Subject], pki: PKIService, blocking: BlockingWork) async throws -> [PostgresStatement] {
        statements(kind, signed: try await sign(kind, for: subjects, pki: pki, blocking: blocking), for: subjects)
    }

    /// Inserts of records signed before.
    static func statements(_ kind: Kind, signed: SignedRecords, for subjects: [Subject]) -> [PostgresStatement] {
        signed.deliveryIDs.indices.map { index in
            PostgresStatement(
                """
                INSERT INTO delivery_evidence (delivery_id, letter_id, kind, record, signature) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (delivery_id, kind) DO NOTHING
                """, [signed.deliveryIDs[index], subjects[index].letterID, kind.rawValue, signed.records[index], signed.signatures[index]])
        }
    }
}
