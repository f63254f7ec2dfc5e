public import EsuratDomain
public import EsuratPostgres
import EsuratSigning
public import Foundation

/// The hash chain over the audit events, and its signed checkpoints.
///
/// Why a sealer, and why a chain position of its own (`chain_seq`) instead of `seq`:
/// chaining at insert time would make every transaction that writes an event wait for the
/// previous event's hash, i.e. put the whole server behind one lock held until commit.
/// Instead events are inserted freely (as before), and the sealer, one at a time across all
/// replicas (`pg_try_advisory_xact_lock`), chains the committed, unsealed events in batches.
/// The identity `seq` is taken at insert but transactions commit in any order: a lower `seq`
/// can become visible after a higher one was sealed. Waiting for it ("seal only below the
/// lowest in-flight seq") would need a snapshot of in-flight transactions and stalls behind
/// one long transaction. So the sealer assigns `chain_seq` itself, in the order it finds the
/// events committed (by `seq` within a batch): a late event simply joins the chain in a later
/// batch, nothing is skipped, and the chain order is total and gap-free.
///
/// An event's hash is the SHA-256 of the RFC 8785 JSON object of its fields together with
/// `chainSeq` and `prevHash` (the previous event's hash, hex; 64 zeros for the first), so
/// anyone can recompute it from an exported line with any JCS implementation.
public final class AuditChain: Sendable {
    let pool: PostgresPool
    let pki: PKIService
    let blocking: BlockingWork
    /// The advisory lock key of the sealer ("esuraud").
    static let sealerLock: Int64 = 0x6573_7572_6175_64

    public init(pool: PostgresPool, pki: PKIService, blocking: BlockingWork) {
        self.pool = pool
        self.pki = pki
        self.blocking = blocking
    }

    /// The hash of the first event's predecessor.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The canonical fields of an event row (without its own hash). Queries give occurred_at
    /// as the exact RFC 3339 text with microseconds that is hashed, and details as JSON text.
    static func fields(_ row: PostgresRow, chainSeq: Int64, prevHash: String) throws -> [String: JSONValue] {
        func text(_ column: String) throws -> JSONValue {
            (try row.decode(column, as: String?.self)).map(JSONValue.string) ?? .null
        }
        func id(_ column: String) throws -> JSONValue {
            (try row.decode(column, as: UUID?.self)).map { .string($0.lowercasedString) } ?? .null
        }
        let details = try JSONValue.parse(try row.decode("details", as: String.self))
        return [
            "chainSeq": .number(Double(chainSeq)),
            "seq": .number(Double(try row.decode("seq", as: Int64.self))),
            "id": .string(try row.decode("id", as: UUID.self).lowercasedString),
            "occurredAt": try text("occurred_at"),
            "actorUserId": try id("actor_user_id"),
            "actingPositionId": try id("acting_position_id"),
            "actingCapacity": try text("acting_capacity"),
            "action": try text("action"),
            "objectType": try text("object_type"),
            "objectId": try text("object_id"),
            "clientAddress": try text("client_address"),
            "requestId": try text("request_id"),
            "details": details,
            "prevHash": .string(prevHash),
        ]
    }

    /// The hash (hex) of an event's canonical fields.
    public static func hash(of fields: [String: JSONValue]) throws -> String {
        Digest.hex(try Digest.sha256(try CanonicalJSON.encode(.object(fields))))
    }

    /// A sealed event as exported and listed: its canonical fields plus `hash`.
    static func sealedEvent(_ row: PostgresRow) throws -> [String: JSONValue] {
        var fields = try fields(row, chainSeq: try row.decode("chain_seq"), prevHash: try row.decode("prev_hash"))
        fields["hash"] = .string(try row.decode("hash"))
        return fields
    }

    // MARK: Sealing

    /// Chains up to `batchSize` committed, unsealed events. With `wait` false it returns 0 at
    /// once when another sealer (another replica) holds the lock; with `wait` true it waits
    /// for it (sealing on demand, before a checkpoint or an export).
    @discardableResult
    public func seal(batchSize: Int = 1000, wait: Bool = false) async throws -> Int {
        try await pool.withTransaction { tx in
            if wait {
                try await tx.query("SELECT pg_advisory_xact_lock($1)", [Self.sealerLock])
            } else {
                guard try await tx.query("SELECT pg_try_advisory_xact_lock($1) AS ok", [Self.sealerLock]).single().decode("ok", as: Bool.self) else { return 0 }
            }
            let head = try await tx.query("SELECT chain_seq, encode(hash, 'hex') AS hash FROM audit_events WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1").first
            var previous = try head?.decode("hash", as: String.self) ?? Self.genesisHash
            var next = (try head?.decode("chain_seq", as: Int64.self) ?? 0) + 1
            let rows = try await tx.query(
                """
                SELECT seq, NULL::bigint AS chain_seq, id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
                       actor_user_id, acting_position_id, acting_capacity, action, object_type, object_id, client_address, request_id,
                       details::text AS details
                FROM audit_events WHERE chain_seq IS NULL ORDER BY seq LIMIT $1
                """, [batchSize])
            if rows.isEmpty { return 0 }
            var seqs: [Int64] = [], chainSeqs: [Int64] = [], prevs: [PostgresBytes] = [], hashes: [PostgresBytes] = []
            for row in rows {
                let hash = try Self.hash(of: try Self.fields(row, chainSeq: next, prevHash: previous))
                seqs.append(try row.decode("seq"))
                chainSeqs.append(next)
                prevs.append(PostgresBytes(Self.bytes(hex: previous)))
                hashes.append(PostgresBytes(Self.bytes(hex: hash)))
                previous = hash
                next += 1
            }
            try await tx.query(
                """
                UPDATE audit_events e SET chain_seq = u.c, prev_hash = u.p, hash = u.h, sealed_at = now()
                FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS u(seq, c, p, h) WHERE e.seq = u.seq
                """, [seqs, chainSeqs, prevs, hashes])
            return rows.count
        }
    }

    /// Seals every event committed so far, waiting for a sealer that is running elsewhere.
    public func sealAll() async throws {
        while try await seal(batchSize: 5000, wait: true) == 5000 {}
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c >= 97 ? c - 87 : (c >= 65 ? c - 55 : c - 48)
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    // MARK: Checkpoints

    /// A signed statement of the chain head.
    public struct Checkpoint: Sendable {
        public var id: Int64
        public var sequence: Int64
        public var headHash: String
        public var createdAt: Date
        /// The RFC 8785 statement that was signed.
        public var statement: [UInt8]
        /// Its detached CAdES-T signature (DER) by the server's evidence key.
        public var signature: [UInt8]
    }

    /// Seals what is committed and signs the head, unless the newest checkpoint already
    /// states that head (then that one is returned). Nil when the log is empty.
    @discardableResult
    public func checkpoint() async throws -> Checkpoint? {
        try await sealAll()
        let signer = try pki.evidenceSigner(timestamped: true)
        let organization = pki.organization
        let blocking = self.blocking
        return try await pool.withTransaction { tx -> Checkpoint? in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", [Self.sealerLock])
            guard let head = try await tx.query("SELECT chain_seq, encode(hash, 'hex') AS hash FROM audit_events WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1").first else {
                return nil
            }
            let sequence: Int64 = try head.decode("chain_seq")
            if let existing = try await tx.query(
                "SELECT id, chain_seq, encode(head_hash, 'hex') AS head_hash, statement, signature, created_at FROM audit_checkpoints WHERE chain_seq = $1",
                [sequence]).first {
                return try Self.checkpoint(existing)
            }
            let hash: String = try head.decode("hash")
            let now = Date()
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let statement = try CanonicalJSON.encode(.object([
                "format": .string("esurat/audit-checkpoint/1"),
                "organization": .string(organization),
                "sequence": .number(Double(sequence)),
                "headHash": .string(hash),
                "time": .string(formatter.string(from: now)),
            ]))
            let signature = try await blocking.run { try signer.sign(statement, at: now) }
            let row = try await tx.query(
                """
                INSERT INTO audit_checkpoints (chain_seq, head_hash, statement, signature, created_at) VALUES ($1, $2, $3, $4, $5)
                RETURNING id, chain_seq, encode(head_hash, 'hex') AS head_hash, statement, signature, created_at
                """, [sequence, PostgresBytes(Self.bytes(hex: hash)), PostgresBytes(statement), PostgresBytes(signature), now]).single()
            return try Self.checkpoint(row)
        }
    }

    static func checkpoint(_ row: PostgresRow) throws -> Checkpoint {
        Checkpoint(
            id: try row.decode("id"), sequence: try row.decode("chain_seq"), headHash: try row.decode("head_hash"),
            createdAt: try row.decode("created_at"), statement: try row.decode("statement", as: PostgresBytes.self).bytes,
            signature: try row.decode("signature", as: PostgresBytes.self).bytes)
    }

    /// Makes a checkpoint when the chain grew since the newest one and that one is older than
    /// `interval` (the periodic checkpoint of the sealer service).
    func checkpointIfDue(interval: TimeInterval) async throws -> Checkpoint? {
        let rows = try await pool.query(
            """
            SELECT (SELECT max(chain_seq) FROM audit_events) AS head,
                   (SELECT max(chain_seq) FROM audit_checkpoints) AS checkpointed,
                   (SELECT max(created_at) FROM audit_checkpoints) AS last_at
            """)
        let row = try rows.single()
        guard let head = try row.decode("head", as: Int64?.self) else { return nil }
        let checkpointed = try row.decode("checkpointed", as: Int64?.self) ?? 0
        let lastAt = try row.decode("last_at", as: Date?.self) ?? .distantPast
        guard head > checkpointed, Date().timeIntervalSince(lastAt) >= interval else { return nil }
        return try await checkpoint()
    }

    // MARK: Reading (auditors and admins)

    /// Sealed events in chain order after the cursor's chain position.
    public func events(actor: Actor, page: PageRequest) async throws -> Page<[String: JSONValue]> {
        try Self.authorize(actor)
        let after = try page.after.map { key -> Int64 in
            guard let value = Int64(key), value >= 0 else { throw ServiceError.invalid("cursor", "is not a cursor this server issued") }
            return value
        } ?? 0
        // Sealed now, so the page reaches what was committed a moment ago (another sealer
        // running elsewhere does it just as well: then this does nothing).
        try await seal(wait: false)
        let rows = try await pool.query(
            """
            SELECT seq, chain_seq, id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
                   actor_user_id, acting_position_id, acting_capacity, action, object_type, object_id, client_address, request_id,
                   details::text AS details, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
            FROM audit_events WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2
            """, [after, page.limit + 1])
        let events = try rows.map(Self.sealedEvent)
        return page.page(events) { event in
            if case .number(let n) = event["chainSeq"] { return String(Int64(n)) }
            return "0"
        }
    }

    /// Checkpoints, oldest first, after the cursor's id.
    public func checkpoints(actor: Actor, page: PageRequest) async throws -> Page<Checkpoint> {
        try Self.authorize(actor)
        let after = try page.after.map { key -> Int64 in
            guard let value = Int64(key), value >= 0 else { throw ServiceError.invalid("cursor", "is not a cursor this server issued") }
            return value
        } ?? 0
        let rows = try await pool.query(
            """
            SELECT id, chain_seq, encode(head_hash, 'hex') AS head_hash, statement, signature, created_at
            FROM audit_checkpoints WHERE id > $1 ORDER BY id LIMIT $2
            """, [after, page.limit + 1])
        return page.page(try rows.map(Self.checkpoint)) { String($0.id) }
    }

    /// A checkpoint on demand (auditors and admins); audited like every change.
    public func checkpoint(actor: Actor, request: RequestInfo) async throws -> Checkpoint {
        try Self.authorize(actor)
        try await pool.withTransaction { tx in
            try await AuditLog.append(.init("audit.checkpoint_requested", objectType: "audit", actorUserID: actor.userID), request: request, on: tx)
        }
        guard let checkpoint = try await checkpoint() else { throw ServiceError(.conflict, "The audit log is empty.") }
        return checkpoint
    }

    static func authorize(_ actor: Actor) throws {
        switch AccessPolicy.decide(actor, .readAudit) {
        case .allow: return
        case .forbidden(let why): throw ServiceError(.forbidden, why)
        case .notVisible: throw ServiceError.notFound("The audit log")
        }
    }
}
