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

    /// Writes the evidence of `kind` for every delivery matching (letter, unit); unit nil:
    /// every delivery of the letter.
    static func record(_ kind: Kind, letter: UUID, unit: UUID?, pki: PKIService, blocking: BlockingWork, on tx: PostgresConnection) async throws {
        let rows = try await tx.query(
            """
            SELECT d.id, d.recipient_unit_id, d.attempts, l.number, l.unit_id AS sender, encode(sha256(ld.document), 'hex') AS document_sha256
            FROM deliveries d JOIN letters l ON l.id = d.letter_id JOIN letter_documents ld ON ld.letter_id = l.id
            WHERE d.letter_id = $1 AND ($2::uuid IS NULL OR d.recipient_unit_id = $2)
            """, [letter, unit])
        let signer = try pki.evidenceSigner()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for row in rows {
            let delivery: UUID = try row.decode("id")
            let now = Date()
            let record: JSONValue = .object([
                "format": .string("esurat/evidence/1"),
                "event": .string(kind.rawValue),
                "deliveryId": .string(delivery.uuidString.lowercased()),
                "letterId": .string(letter.uuidString.lowercased()),
                "letterNumber": .string(try row.decode("number", as: String?.self) ?? ""),
                "documentSha256": .string(try row.decode("document_sha256")),
                "senderUnitId": .string(try row.decode("sender", as: UUID.self).uuidString.lowercased()),
                "recipientUnitId": .string(try row.decode("recipient_unit_id", as: UUID.self).uuidString.lowercased()),
                "attempt": .number(Double(try row.decode("attempts", as: Int.self))),
                "time": .string(formatter.string(from: now)),
            ])
            let bytes = try CanonicalJSON.encode(record)
            let signature = try await blocking.run { try signer.sign(bytes, at: now) }
            try await tx.query(
                """
                INSERT INTO delivery_evidence (delivery_id, letter_id, kind, record, signature) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (delivery_id, kind) DO NOTHING
                """, [delivery, letter, kind.rawValue, PostgresBytes(bytes), PostgresBytes(signature)])
        }
    }
}
