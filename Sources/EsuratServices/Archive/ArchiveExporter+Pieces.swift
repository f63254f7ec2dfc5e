import EsuratDomain
import EsuratPostgres
import EsuratSigning
import Foundation

/// The bag being written: the tar, the manifests spooled to disk, the Payload-Oxum counts.
final class BagOutput {
    let tar: TarWriter
    let name: String
    let manifest256: SpoolFile
    let manifest512: SpoolFile
    private(set) var payloadBytes = 0
    private(set) var payloadFiles = 0

    init(tar: TarWriter, name: String) throws {
        self.tar = tar
        self.name = name
        manifest256 = try SpoolFile(name: "manifest-sha256.txt")
        manifest512 = try SpoolFile(name: "manifest-sha512.txt")
    }

    /// A payload file (`path` under the bag, starting with `data/`) whose bytes are in hand.
    func add(_ path: String, _ bytes: [UInt8]) async throws {
        let digests = try await tar.add(path: "\(name)/\(path)", bytes: bytes)
        try record(path, digests, size: bytes.count)
    }

    var payload: (String, [UInt8]) async throws -> Void { { try await self.add($0, $1) } }

    /// A payload file written in pieces: its manifest lines and its share of the oxum.
    func record(_ path: String, _ digests: (sha256: String, sha512: String), size: Int) throws {
        try manifest256.append("\(digests.sha256)  \(path)\n")
        try manifest512.append("\(digests.sha512)  \(path)\n")
        payloadBytes += size
        payloadFiles += 1
    }

    func removeSpools() {
        manifest256.remove()
        manifest512.remove()
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

/// What a page of letters needs besides its own rows, fetched with one query per kind.
struct Related {
    struct Attachment {
        var id: UUID
        var filename: String
        var mediaType: String
        var size: Int
        var sha256: String
    }

    struct EvidenceRecord {
        var deliveryID: UUID
        var kind: String
        var record: [UInt8]
        var signature: [UInt8]
    }

    var attachments: [UUID: [Attachment]] = [:]
    var history: [UUID: [[String: JSONValue]]] = [:]
    var deliveries: [UUID: String] = [:]
    var evidence: [UUID: [EvidenceRecord]] = [:]
    var dispositions: [UUID: String] = [:]

    static func load(_ ids: [UUID], on pool: PostgresPool) async throws -> Related {
        var related = Related()
        for row in try await pool.query(
            "SELECT id, letter_id, filename, media_type, size, sha256 FROM attachments WHERE letter_id = ANY($1) ORDER BY created_at, id", [ids]) {
            related.attachments[try row.decode("letter_id"), default: []].append(Attachment(
                id: try row.decode("id"), filename: try row.decode("filename"), mediaType: try row.decode("media_type"),
                size: try row.decode("size"), sha256: try row.decode("sha256")))
        }
        // The letter's history: its own audit events, sealed, as in the audit segment.
        for row in try await pool.query(
            """
            SELECT seq, chain_seq, id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
                   actor_user_id, acting_position_id, acting_capacity, action, object_type, object_id, client_address, request_id,
                   details::text AS details, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
            FROM audit_events WHERE object_type = 'letter' AND object_id = ANY($1) AND chain_seq IS NOT NULL ORDER BY chain_seq
            """, [ids.map { $0.uuidString }]) {
            guard let letter = UUID(uuidString: try row.decode("object_id", as: String.self)) else { continue }
            related.history[letter, default: []].append(try AuditChain.sealedEvent(row))
        }
        for row in try await pool.query(
            """
            SELECT d.letter_id, jsonb_agg(jsonb_build_object(
                       'deliveryId', d.id, 'recipientUnitId', d.recipient_unit_id, 'recipientUnitCode', u.code, 'recipientUnitName', u.name,
                       'role', d.role, 'state', d.state, 'attempts', d.attempts, 'deliveredAt', d.delivered_at, 'acceptedAt', d.accepted_at,
                       'inboxEntryId', ie.id, 'agendaNumber', ie.agenda_number, 'registeredAt', ie.registered_at) ORDER BY u.code)::text AS items
            FROM deliveries d JOIN units u ON u.id = d.recipient_unit_id LEFT JOIN inbox_entries ie ON ie.delivery_id = d.id
            WHERE d.letter_id = ANY($1) GROUP BY d.letter_id
            """, [ids]) {
            related.deliveries[try row.decode("letter_id")] = try row.decode("items")
        }
        for row in try await pool.query(
            """
            SELECT e.letter_id, e.delivery_id, e.kind, e.record, e.signature FROM deliveries d JOIN delivery_evidence e ON e.delivery_id = d.id
            WHERE d.letter_id = ANY($1) ORDER BY e.created_at, e.id
            """, [ids]) {
            related.evidence[try row.decode("letter_id"), default: []].append(EvidenceRecord(
                deliveryID: try row.decode("delivery_id"), kind: try row.decode("kind"),
                record: try row.decode("record", as: PostgresBytes.self).bytes, signature: try row.decode("signature", as: PostgresBytes.self).bytes))
        }
        for row in try await pool.query(
            """
            SELECT ie.letter_id, jsonb_agg(jsonb_build_object(
                       'id', d.id, 'inboxEntryId', ie.id, 'unitId', ie.unit_id, 'agendaNumber', ie.agenda_number, 'parentId', d.parent_id,
                       'fromPositionId', d.from_position_id, 'fromUserId', d.from_user_id, 'actingCapacity', d.acting_capacity,
                       'instructions', d.instructions, 'note', d.note, 'dueDate', d.due_date, 'createdAt', d.created_at,
                       'recipients', (SELECT jsonb_agg(jsonb_build_object(
                                          'positionId', r.position_id, 'state', r.state, 'readAt', r.read_at, 'completedAt', r.completed_at,
                                          'report', r.report, 'escalatedAt', r.escalated_at) ORDER BY r.position_id)
                                      FROM disposition_recipients r WHERE r.disposition_id = d.id))
                   ORDER BY d.created_at, d.id)::text AS items
            FROM dispositions d JOIN inbox_entries ie ON ie.id = d.inbox_entry_id
            WHERE ie.letter_id = ANY($1) GROUP BY ie.letter_id
            """, [ids]) {
            related.dispositions[try row.decode("letter_id")] = try row.decode("items")
        }
        return related
    }
}
