public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// Incoming letters of the caller's unit: the inbox, a letter's view, registration with
/// the unit's agenda number.
public final class InboxService: Sendable {
    let pool: PostgresPool
    let pki: PKIService
    let blocking: BlockingWork

    public init(pool: PostgresPool, pki: PKIService, blocking: BlockingWork) {
        self.pool = pool
        self.pki = pki
        self.blocking = blocking
    }

    public struct Entry: Sendable {
        public var id: UUID
        public var letterID: UUID
        public var number: String?
        public var subject: String
        public var fromUnitID: UUID
        public var fromUnitName: String
        public var receivedAt: Date
        public var agendaNumber: Int?
        public var state: String
        public var role: String
        public var urgency: Urgency
        public var securityLevel: SecurityLevel
        /// When the caller first opened it; nil while it is unread for them.
        public var readAt: Date? = nil
    }


    /// Rahasia and Sangat Rahasia letters are for the receiving unit's head (held or
    /// delegated) only; the rest for everyone in the unit.
    func mayRead(_ caller: IdentityService.Authenticated, unitID: UUID, security: SecurityLevel, on connection: PostgresConnection? = nil) async throws -> Bool {
        let units = Set([caller.user.unitID] + caller.actor.positions.map(\.unitID))
        guard units.contains(unitID) else { return false }
        guard security.restrictedToNamedPositions else { return true }
        let positions = caller.actor.positions.map(\.positionID)
        let query: PostgresQuery = "SELECT 1 FROM positions WHERE unit_id = $1 AND is_head AND id = ANY($2)"
        let rows = if let connection { try await connection.query(query, [unitID, positions]) } else { try await pool.query(query, [unitID, positions]) }
        return !rows.isEmpty
    }

    public func list(caller: IdentityService.Authenticated, state: String, urgency: String?, search: String?, page: PageRequest) async throws -> Page<Entry> {
        var check = Validator()
        check.check(["new", "registered", "all"].contains(state), "state", "must be new, registered or all")
        if let urgency { check.check(Urgency(rawValue: urgency) != nil, "urgency", "must be biasa, segera or sangat_segera") }
        if let search { check.text(search, "q", length: 1...200) }
        try check.throwIfInvalid()
        let after = try TimeCursor.after(page)
        let units = Array(Set([caller.user.unitID] + caller.actor.positions.map(\.unitID)))
        let heads = try await pool.query("SELECT unit_id FROM positions WHERE is_head AND id = ANY($1)", [caller.actor.positions.map(\.positionID)])
            .map { try $0.decode("unit_id", as: UUID.self) }
        let rows = try await pool.query(
            """
            SELECT e.id, e.letter_id, l.number, l.subject, l.unit_id AS from_unit, u.name AS from_name, e.received_at, e.agenda_number,
                   e.state, e.role, l.urgency, l.security_level, rd.read_at
            FROM inbox_entries e JOIN letters l ON l.id = e.letter_id JOIN units u ON u.id = l.unit_id
            LEFT JOIN inbox_entry_reads rd ON rd.inbox_entry_id = e.id AND rd.user_id = $9
            WHERE e.unit_id = ANY($1)
              AND (l.security_level IN ('biasa', 'terbatas') OR e.unit_id = ANY($2))
              AND ($3 = 'all' OR e.state = $3)
              AND ($4::text IS NULL OR l.urgency = $4)
              AND ($5::text IS NULL OR to_tsvector('indonesian', l.subject || ' ' || coalesce(l.number, '')) @@ plainto_tsquery('indonesian', $5))
              AND ($6::timestamptz IS NULL OR (e.received_at, e.id) < ($6, $7))
            ORDER BY e.received_at DESC, e.id DESC LIMIT $8
            """, [units, heads, state, urgency, search, after?.time, after?.id, page.limit + 1, caller.user.id])
        let entries = try rows.map(Self.entry)
        return page.page(entries, key: { TimeCursor.key(time: $0.receivedAt, id: $0.id) })
    }

    public func entry(_ id: UUID, caller: IdentityService.Authenticated) async throws -> Entry {
        guard let row = try await pool.query(
            """
            SELECT e.id, e.letter_id, l.number, l.subject, l.unit_id AS from_unit, u.name AS from_name, e.received_at, e.agenda_number,
                   e.state, e.role, l.urgency, l.security_level, e.unit_id, rd.read_at
            FROM inbox_entries e JOIN letters l ON l.id = e.letter_id JOIN units u ON u.id = l.unit_id
            LEFT JOIN inbox_entry_reads rd ON rd.inbox_entry_id = e.id AND rd.user_id = $2
            WHERE e.id = $1
            """, [id, caller.user.id]).first
        else { throw ServiceError.notFound("The incoming letter") }
        let entry = try Self.entry(row)
        guard try await mayRead(caller, unitID: try row.decode("unit_id"), security: entry.securityLevel) else {
            throw ServiceError.notFound("The incoming letter")
        }
        return entry
    }

    /// An incoming letter as its readers need it: the entry, the signed canonical document
    /// (byte for byte as signed; its signature at `GET /api/v1/letters/{id}/signature`) and
    /// the attachments' descriptions.
    public struct View: Sendable {
        public var entry: Entry
        public var document: [UInt8]
        public var documentSHA256: String
        public var attachments: [LetterService.AttachmentRecord]
    }

    public func view(_ id: UUID, caller: IdentityService.Authenticated) async throws -> View {
        let entry = try await entry(id, caller: caller)
        let results = try await pool.withConnection { connection in
            try await connection.pipelined([
                PostgresStatement("SELECT document, document_sha256 AS sha256 FROM letter_documents WHERE letter_id = $1", [entry.letterID]),
                PostgresStatement("SELECT id, filename, media_type, size, sha256 FROM attachments WHERE letter_id = $1 ORDER BY created_at, id", [entry.letterID]),
            ])
        }
        let document = try results[0].single()
        return View(
            entry: entry, document: try document.decode("document", as: PostgresBytes.self).bytes, documentSHA256: try document.decode("sha256"),
            attachments: try results[1].map {
                LetterService.AttachmentRecord(id: try $0.decode("id"), filename: try $0.decode("filename"), mediaType: try $0.decode("media_type"),
                                               size: try $0.decode("size"), sha256: try $0.decode("sha256"))
            })
    }

    /// Incoming letters of the units the caller heads (held or as Plt./Plh.) that have no
    /// disposition yet: what waits for the head's Disposisikan. Newest first.
    public func awaitingDisposition(caller: IdentityService.Authenticated, limit: Int = 100) async throws -> [Entry] {
        let rows = try await pool.query(
            """
            SELECT e.id, e.letter_id, l.number, l.subject, l.unit_id AS from_unit, u.name AS from_name, e.received_at, e.agenda_number,
                   e.state, e.role, l.urgency, l.security_level, rd.read_at
            FROM inbox_entries e JOIN letters l ON l.id = e.letter_id JOIN units u ON u.id = l.unit_id
            LEFT JOIN inbox_entry_reads rd ON rd.inbox_entry_id = e.id AND rd.user_id = $3
            WHERE e.unit_id IN (SELECT unit_id FROM positions WHERE is_head AND id = ANY($1))
              AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.inbox_entry_id = e.id)
            ORDER BY e.received_at DESC, e.id DESC LIMIT $2
            """, [caller.actor.positions.map(\.positionID), limit, caller.user.id])
        return try rows.map(Self.entry)
    }

    /// An attachment of an incoming letter, for those who may read the entry.
    public func attachment(_ attachmentID: UUID, entry id: UUID, caller: IdentityService.Authenticated) async throws
        -> (record: LetterService.AttachmentRecord, content: [UInt8])
    {
        let entry = try await entry(id, caller: caller)
        guard let row = try await pool.query(
            "SELECT id, filename, media_type, size, sha256, content FROM attachments WHERE id = $1 AND letter_id = $2", [attachmentID, entry.letterID]).first
        else { throw ServiceError.notFound("The attachment") }
        return (LetterService.AttachmentRecord(id: try row.decode("id"), filename: try row.decode("filename"), mediaType: try row.decode("media_type"),
                                               size: try row.decode("size"), sha256: try row.decode("sha256")),
                try row.decode("content", as: PostgresBytes.self).bytes)
    }

    /// The clerk (or the head) of the receiving unit registers the letter: it gets the next
    /// agenda number of the unit's year, with no gaps.
    public func register(_ id: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Entry {
        try await pool.withTransaction { tx in
            guard let row = try await tx.query(
                "SELECT e.unit_id, e.state, e.letter_id, l.security_level FROM inbox_entries e JOIN letters l ON l.id = e.letter_id WHERE e.id = $1 FOR UPDATE OF e",
                [id]).first
            else { throw ServiceError.notFound("The incoming letter") }
            let unitID: UUID = try row.decode("unit_id")
            guard try await self.mayRead(caller, unitID: unitID, security: SecurityLevel(rawValue: try row.decode("security_level")) ?? .biasa, on: tx) else {
                throw ServiceError.notFound("The incoming letter")
            }
            guard caller.actor.roles.contains(.clerk) || caller.actor.roles.contains(.official) else {
                throw ServiceError(.forbidden, "Registering incoming letters is for the unit's clerk (TU) or its officials.")
            }
            let state: String = try row.decode("state")
            guard state == "new" else { throw ServiceError(.conflict, "The letter is registered already.", fields: [.init("state", state)]) }
            let year = Calendar(identifier: .gregorian).component(.year, from: Date())
            let agenda: Int = try await tx.query(
                """
                INSERT INTO agenda_number_sequences (unit_id, year, last_value) VALUES ($1, $2, 1)
                ON CONFLICT (unit_id, year) DO UPDATE SET last_value = agenda_number_sequences.last_value + 1 RETURNING last_value
                """, [unitID, year]).single().decode("last_value")
            try await tx.query(
                "UPDATE inbox_entries SET state = 'registered', agenda_number = $2, registered_at = now(), registered_by = $3 WHERE id = $1",
                [id, agenda, caller.user.id])
            let letterID: UUID = try row.decode("letter_id")
            try await tx.query("UPDATE deliveries SET accepted_at = now() WHERE letter_id = $1 AND recipient_unit_id = $2", [letterID, unitID])
            try await Evidence.record(.contentHandover, letter: letterID, unit: unitID, pki: self.pki, blocking: self.blocking, on: tx)
            try await AuditLog.append(
                .init("inbox.registered", objectType: "inbox_entry", objectID: id.uuidString, actorUserID: caller.user.id,
                      details: ["agendaNumber": String(agenda)]),
                request: request, on: tx)
        }
        return try await entry(id, caller: caller)
    }

    static func entry(_ row: PostgresRow) throws -> Entry {
        Entry(
            id: try row.decode("id"), letterID: try row.decode("letter_id"), number: try row.decode("number"), subject: try row.decode("subject"),
            fromUnitID: try row.decode("from_unit"), fromUnitName: try row.decode("from_name"), receivedAt: try row.decode("received_at"),
            agendaNumber: try row.decode("agenda_number"), state: try row.decode("state"), role: try row.decode("role"),
            urgency: Urgency(rawValue: try row.decode("urgency")) ?? .biasa, securityLevel: SecurityLevel(rawValue: try row.decode("security_level")) ?? .biasa,
            readAt: try row.decode("read_at"))
    }

    /// Marks the entry read by the caller (the first time only) and returns it; audited once.
    @discardableResult
    public func markRead(_ id: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Entry {
        _ = try await entry(id, caller: caller)
        try await pool.withTransaction { tx in
            let inserted = try await tx.query(
                "INSERT INTO inbox_entry_reads (inbox_entry_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING read_at", [id, caller.user.id])
            if !inserted.isEmpty {
                try await AuditLog.append(
                    .init("inbox.read", objectType: "inbox_entry", objectID: id.uuidString, actorUserID: caller.user.id,
                          actingPosition: caller.actor.positions.first),
                    request: request, on: tx)
            }
        }
        return try await entry(id, caller: caller)
    }
}
