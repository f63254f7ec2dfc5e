public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// Dispositions: from the receiving unit's head (or its Plt./Plh.) to subordinate positions,
/// forwarded further down as a tree — never up, never outside the unit — and closed with a
/// report. Every action is audited.
public final class DispositionService: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public struct Node: Sendable {
        public struct Recipient: Sendable {
            public var positionID: UUID
            public var state: String
            public var readAt: Date?
            public var completedAt: Date?
            public var report: String?
            public var escalatedAt: Date?
        }
        public var id: UUID
        public var inboxEntryID: UUID
        public var parentID: UUID?
        public var fromPositionID: UUID
        public var fromUserID: UUID
        public var actingCapacity: String?
        public var instructions: [String]
        public var note: String?
        public var dueDate: String
        public var overdue: Bool
        public var recipients: [Recipient]
    }

    public struct Order: Sendable {
        public var toPositionIDs: [UUID]
        public var instructions: [String]
        public var note: String?
        public var dueDate: String?
        public init(toPositionIDs: [UUID], instructions: [String], note: String?, dueDate: String?) {
            self.toPositionIDs = toPositionIDs
            self.instructions = instructions
            self.note = note
            self.dueDate = dueDate
        }
    }

    /// The head of the receiving unit dispositions an incoming letter.
    public func dispose(entry entryID: UUID, _ order: Order, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Node {
        let id: UUID = try await pool.withTransaction { tx in
            guard let entry = try await tx.query(
                "SELECT e.unit_id, l.urgency FROM inbox_entries e JOIN letters l ON l.id = e.letter_id WHERE e.id = $1", [entryID]).first
            else { throw ServiceError.notFound("The incoming letter") }
            let unitID: UUID = try entry.decode("unit_id")
            let heads = try await tx.query("SELECT id FROM positions WHERE unit_id = $1 AND is_head", [unitID]).map { try $0.decode("id", as: UUID.self) }
            guard let acting = caller.actor.positions.first(where: { heads.contains($0.positionID) }) else {
                if caller.user.unitID == unitID { throw ServiceError(.forbidden, "Only the head of the receiving unit (or its Plt./Plh.) writes dispositions.") }
                throw ServiceError.notFound("The incoming letter")
            }
            let urgency = Urgency(rawValue: try entry.decode("urgency")) ?? .biasa
            return try await self.insert(entry: entryID, parent: nil, from: acting, unitID: unitID, order, urgency: urgency, caller: caller, request: request, on: tx)
        }
        return try await node(id)
    }

    /// A recipient forwards their disposition further down; their branch counts as acted upon.
    public func forward(_ dispositionID: UUID, _ order: Order, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Node {
        let id: UUID = try await pool.withTransaction { tx in
            let (acting, entryID, unitID, urgency) = try await self.recipientContext(dispositionID, caller: caller, on: tx)
            let child = try await self.insert(entry: entryID, parent: dispositionID, from: acting, unitID: unitID, order, urgency: urgency, caller: caller, request: request, on: tx)
            try await tx.query(
                "UPDATE disposition_recipients SET state = 'ditindaklanjuti', read_at = coalesce(read_at, now()) WHERE disposition_id = $1 AND position_id = $2 AND state <> 'selesai'",
                [dispositionID, acting.positionID])
            return child
        }
        return try await node(id)
    }

    /// A recipient closes their branch with a report.
    public func complete(_ dispositionID: UUID, report rawReport: String, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Node {
        let report = rawReport.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        check.check((1...5000).contains(report.count), "report", "must be 1–5000 characters")
        check.check(!report.unicodeScalars.contains { $0.value == 0 }, "report", "must not contain NUL characters")
        try check.throwIfInvalid()
        try await pool.withTransaction { tx in
            let (acting, _, _, _) = try await self.recipientContext(dispositionID, caller: caller, on: tx)
            let changed = try await tx.execute(
                """
                UPDATE disposition_recipients SET state = 'selesai', completed_at = now(), report = $3, read_at = coalesce(read_at, now())
                WHERE disposition_id = $1 AND position_id = $2 AND state <> 'selesai'
                """, [dispositionID, acting.positionID, report])
            guard changed == 1 else { throw ServiceError(.conflict, "This disposition is completed already.", fields: [.init("state", "selesai")]) }
            try await AuditLog.append(
                .init("disposition.completed", objectType: "disposition", objectID: dispositionID.uuidString, actorUserID: caller.user.id, actingPosition: acting),
                request: request, on: tx)
        }
        return try await node(dispositionID)
    }

    /// A disposition addressed to the caller; reading it marks it read.
    public func open(_ dispositionID: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> Node {
        try await pool.withTransaction { tx in
            let (acting, _, _, _) = try await self.recipientContext(dispositionID, caller: caller, on: tx)
            let changed = try await tx.execute(
                "UPDATE disposition_recipients SET state = 'dibaca', read_at = now() WHERE disposition_id = $1 AND position_id = $2 AND state = 'belum_dibaca'",
                [dispositionID, acting.positionID])
            if changed == 1 {
                try await AuditLog.append(
                    .init("disposition.read", objectType: "disposition", objectID: dispositionID.uuidString, actorUserID: caller.user.id, actingPosition: acting),
                    request: request, on: tx)
            }
        }
        return try await node(dispositionID)
    }

    /// The whole tree of an incoming letter, for its unit's head, with overdue branches marked.
    public func tree(entry entryID: UUID, caller: IdentityService.Authenticated) async throws -> [Node] {
        guard let entry = try await pool.query("SELECT unit_id FROM inbox_entries WHERE id = $1", [entryID]).first else {
            throw ServiceError.notFound("The incoming letter")
        }
        let unitID: UUID = try entry.decode("unit_id")
        let heads = try await pool.query("SELECT id FROM positions WHERE unit_id = $1 AND is_head", [unitID]).map { try $0.decode("id", as: UUID.self) }
        guard caller.actor.positions.contains(where: { heads.contains($0.positionID) }) else { throw ServiceError.notFound("The incoming letter") }
        let ids = try await pool.query("SELECT id FROM dispositions WHERE inbox_entry_id = $1 ORDER BY created_at, id", [entryID]).map { try $0.decode("id", as: UUID.self) }
        return try await nodes(ids)
    }

    /// The dispositions of an incoming letter the caller may see: all of them for the
    /// receiving unit's head (held or delegated); for anyone else, those addressed to or
    /// written by a position they act in. Empty for callers who see none.
    public func visible(entry entryID: UUID, caller: IdentityService.Authenticated) async throws -> [Node] {
        let positions = caller.actor.positions.map(\.positionID)
        let ids = try await pool.query(
            """
            SELECT d.id FROM dispositions d JOIN inbox_entries e ON e.id = d.inbox_entry_id
            WHERE d.inbox_entry_id = $1 AND (
                EXISTS (SELECT 1 FROM positions p WHERE p.unit_id = e.unit_id AND p.is_head AND p.id = ANY($2))
                OR d.from_position_id = ANY($2)
                OR EXISTS (SELECT 1 FROM disposition_recipients r WHERE r.disposition_id = d.id AND r.position_id = ANY($2)))
            ORDER BY d.created_at, d.id
            """, [entryID, positions]).map { try $0.decode("id", as: UUID.self) }
        return try await nodes(ids)
    }

    /// What is addressed to the caller: `open` (not finished), `done`, or `overdue`.
    public func assigned(caller: IdentityService.Authenticated, state: String) async throws -> [Node] {
        guard ["open", "done", "overdue"].contains(state) else { throw ServiceError.invalid("state", "must be open, done or overdue") }
        let ids = try await pool.query(
            """
            SELECT DISTINCT d.id, d.created_at FROM dispositions d JOIN disposition_recipients r ON r.disposition_id = d.id
            WHERE r.position_id = ANY($1) AND CASE $2
                WHEN 'done' THEN r.state = 'selesai'
                WHEN 'overdue' THEN r.state <> 'selesai' AND d.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date
                ELSE r.state <> 'selesai' END
            ORDER BY d.created_at DESC LIMIT 200
            """, [caller.actor.positions.map(\.positionID), state]).map { try $0.decode("id", as: UUID.self) }
        return try await nodes(ids)
    }

    /// One instruction of the managed list (table `disposition_instructions`).
    public struct Instruction: Sendable, Hashable {
        public var code: String
        /// The Indonesian label the forms show.
        public var title: String
        public var active: Bool
    }

    /// The instructions a disposition may carry, in the order of the list; inactive ones
    /// are kept for the labels of old dispositions.
    public func instructions() async throws -> [Instruction] {
        try await pool.query("SELECT code, title, active FROM disposition_instructions ORDER BY sort_order, code").map {
            Instruction(code: try $0.decode("code"), title: try $0.decode("title"), active: try $0.decode("active"))
        }
    }

    /// The sender takes a disposition back while none of its recipients has opened it and
    /// nothing was forwarded from it (SRIKANDI's Batalkan Disposisi). It is removed; the audit
    /// trail keeps what it said and to whom.
    public func cancel(_ dispositionID: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws {
        try await pool.withTransaction { tx in
            guard let row = try await tx.query(
                "SELECT from_position_id, inbox_entry_id, instructions FROM dispositions WHERE id = $1 FOR UPDATE", [dispositionID]).first
            else { throw ServiceError.notFound("The disposition") }
            let from: UUID = try row.decode("from_position_id")
            guard let acting = caller.actor.positions.first(where: { $0.positionID == from }) else { throw ServiceError.notFound("The disposition") }
            let recipients = try await tx.query(
                "SELECT position_id, state FROM disposition_recipients WHERE disposition_id = $1 ORDER BY position_id FOR UPDATE", [dispositionID])
            let states = try recipients.map { try $0.decode("state", as: String.self) }
            guard states.allSatisfy({ $0 == "belum_dibaca" }) else {
                throw ServiceError(.conflict, "A recipient has opened this disposition; it can no longer be cancelled.", fields: [.init("state", "dibaca")])
            }
            guard try await tx.query("SELECT 1 FROM dispositions WHERE parent_id = $1 LIMIT 1", [dispositionID]).isEmpty else {
                throw ServiceError(.conflict, "This disposition was forwarded further; it can no longer be cancelled.", fields: [.init("state", "ditindaklanjuti")])
            }
            let positions = try recipients.map { try $0.decode("position_id", as: UUID.self).lowercasedString }
            try await tx.query("DELETE FROM disposition_recipients WHERE disposition_id = $1", [dispositionID])
            try await tx.query("DELETE FROM dispositions WHERE id = $1", [dispositionID])
            try await AuditLog.append(
                .init("disposition.cancelled", objectType: "disposition", objectID: dispositionID.uuidString, actorUserID: caller.user.id, actingPosition: acting,
                      details: ["inboxEntryId": try row.decode("inbox_entry_id", as: UUID.self).lowercasedString,
                                "instructions": try row.decode("instructions", as: [String].self).joined(separator: ","),
                                "toPositionIds": positions.joined(separator: ",")]),
                request: request, on: tx)
        }
    }

    /// Dispositions the caller sent (from a position they act in) with a branch past its due
    /// date and not finished: what the sender should chase.
    public func overdueSent(caller: IdentityService.Authenticated) async throws -> [Node] {
        let ids = try await pool.query(
            """
            SELECT DISTINCT d.id, d.created_at FROM dispositions d JOIN disposition_recipients r ON r.disposition_id = d.id
            WHERE d.from_position_id = ANY($1) AND r.state <> 'selesai' AND d.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date
            ORDER BY d.created_at DESC LIMIT 200
            """, [caller.actor.positions.map(\.positionID)]).map { try $0.decode("id", as: UUID.self) }
        return try await nodes(ids)
    }

    /// Escalates every open branch past its due date, once: it is flagged for the sender's
    /// and the head's view, and the audit trail records it. Run by the timer service.
    @discardableResult
    public func escalateOverdue(limit: Int = 200) async throws -> Int {
        try await pool.withTransaction { tx in
            let rows = try await tx.query(
                """
                UPDATE disposition_recipients r SET escalated_at = now()
                FROM dispositions d
                WHERE d.id = r.disposition_id AND r.state <> 'selesai' AND r.escalated_at IS NULL
                  AND d.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date
                  AND (r.disposition_id, r.position_id) IN (
                      SELECT r2.disposition_id, r2.position_id FROM disposition_recipients r2 JOIN dispositions d2 ON d2.id = r2.disposition_id
                      WHERE r2.state <> 'selesai' AND r2.escalated_at IS NULL AND d2.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date
                      LIMIT $1 FOR UPDATE OF r2 SKIP LOCKED)
                RETURNING r.disposition_id, r.position_id, d.from_position_id
                """, [limit])
            for row in rows {
                let id: UUID = try row.decode("disposition_id")
                try await AuditLog.append(
                    .init("disposition.escalated", objectType: "disposition", objectID: id.uuidString, actorUserID: nil,
                          details: ["position": try row.decode("position_id", as: UUID.self).lowercasedString,
                                    "escalatedTo": try row.decode("from_position_id", as: UUID.self).lowercasedString]),
                    request: .local, on: tx)
            }
            return rows.count
        }
    }

    // MARK: Pieces

    func insert(
        entry: UUID, parent: UUID?, from acting: ActingPosition, unitID: UUID, _ order: Order, urgency: Urgency,
        caller: IdentityService.Authenticated, request: RequestInfo, on tx: PostgresConnection
    ) async throws -> UUID {
        var check = Validator()
        check.check(!order.toPositionIDs.isEmpty && order.toPositionIDs.count <= 50, "toPositionIds", "must name 1–50 positions")
        check.check(Set(order.toPositionIDs).count == order.toPositionIDs.count, "toPositionIds", "names a position twice")
        check.check(!order.instructions.isEmpty && order.instructions.count <= 10, "instructions", "must name 1–10 instructions")
        if let note = order.note { check.check(note.count <= 2000 && !note.unicodeScalars.contains { $0.value == 0 }, "note", "must be at most 2000 characters") }
        let dayFormat = DateFormatter()
        dayFormat.dateFormat = "yyyy-MM-dd"
        dayFormat.timeZone = TimeZone(identifier: "Asia/Jakarta")
        var due: Date?
        if let text = order.dueDate {
            due = dayFormat.date(from: text)
            check.check(due != nil, "dueDate", "must be a date (YYYY-MM-DD)")
        }
        try check.throwIfInvalid()
        let known = Set(try await tx.query("SELECT code FROM disposition_instructions WHERE code = ANY($1) AND active", [order.instructions]).map { try $0.decode("code", as: String.self) })
        for (index, instruction) in order.instructions.enumerated() where !known.contains(instruction) {
            throw ServiceError.invalid("instructions[\(index)]", "is not an instruction on the list")
        }
        // Strictly below the acting position, within the receiving unit.
        let below = Set(try await tx.query(
            """
            WITH RECURSIVE sub(id) AS (
                SELECT id FROM positions WHERE superior_id = $1
                UNION SELECT p.id FROM positions p JOIN sub ON p.superior_id = sub.id),
            units_below(id) AS (SELECT $2::uuid UNION SELECT u.id FROM units u JOIN units_below b ON u.parent_id = b.id)
            SELECT s.id FROM sub s JOIN positions p ON p.id = s.id WHERE p.unit_id IN (SELECT id FROM units_below)
            """, [acting.positionID, unitID]).map { try $0.decode("id", as: UUID.self) })
        for (index, position) in order.toPositionIDs.enumerated() where !below.contains(position) {
            throw ServiceError.invalid("toPositionIds[\(index)]", "is not a position below yours in the receiving unit")
        }
        let dueDate: String
        if let due {
            dueDate = dayFormat.string(from: due)
        } else {
            dueDate = try await tx.query(
                "SELECT to_char((now() AT TIME ZONE 'Asia/Jakarta')::date + $1::int, 'YYYY-MM-DD') AS d", [Int32(urgency.defaultDispositionDays)]).single().decode("d")
        }
        let id: UUID = try await tx.query(
            """
            INSERT INTO dispositions (inbox_entry_id, parent_id, from_position_id, from_user_id, acting_capacity, instructions, note, due_date)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date) RETURNING id
            """,
            [entry, parent, acting.positionID, caller.user.id, acting.capacity?.rawValue, order.instructions, order.note, dueDate]).single().decode("id")
        for position in order.toPositionIDs {
            try await tx.query("INSERT INTO disposition_recipients (disposition_id, position_id) VALUES ($1, $2)", [id, position])
        }
        try await AuditLog.append(
            .init(parent == nil ? "disposition.created" : "disposition.forwarded", objectType: "disposition", objectID: id.uuidString,
                  actorUserID: caller.user.id, actingPosition: acting,
                  details: ["inboxEntryId": entry.lowercasedString, "to": order.toPositionIDs.map { $0.lowercasedString }.joined(separator: ",")]),
            request: request, on: tx)
        return id
    }

    /// The position the caller acts in as a recipient of the disposition; 404 when none
    /// (staff see only what is addressed to them).
    func recipientContext(_ dispositionID: UUID, caller: IdentityService.Authenticated, on tx: PostgresConnection) async throws
        -> (ActingPosition, UUID, UUID, Urgency)
    {
        guard let row = try await tx.query(
            """
            SELECT d.inbox_entry_id, e.unit_id, l.urgency, array_agg(r.position_id) AS recipients
            FROM dispositions d JOIN inbox_entries e ON e.id = d.inbox_entry_id JOIN letters l ON l.id = e.letter_id
            JOIN disposition_recipients r ON r.disposition_id = d.id WHERE d.id = $1 GROUP BY d.inbox_entry_id, e.unit_id, l.urgency
            """, [dispositionID]).first
        else { throw ServiceError.notFound("The disposition") }
        let recipients: [UUID] = try row.decode("recipients")
        guard let acting = caller.actor.positions.first(where: { recipients.contains($0.positionID) }) else { throw ServiceError.notFound("The disposition") }
        return (acting, try row.decode("inbox_entry_id"), try row.decode("unit_id"), Urgency(rawValue: try row.decode("urgency")) ?? .biasa)
    }

    func node(_ id: UUID) async throws -> Node {
        guard let node = try await nodes([id]).first else { throw ServiceError.notFound("The disposition") }
        return node
    }

    /// The dispositions `ids` with their recipients, in the order given: two statements in one
    /// round trip, however many (the caller's list has up to 200).
    func nodes(_ ids: [UUID]) async throws -> [Node] {
        if ids.isEmpty { return [] }
        let results = try await pool.withConnection { connection in
            try await connection.pipelined([
                PostgresStatement(
                    """
                    SELECT id, inbox_entry_id, parent_id, from_position_id, from_user_id, acting_capacity, instructions, note,
                           to_char(due_date, 'YYYY-MM-DD') AS due, due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date AS past_due
                    FROM dispositions WHERE id = ANY($1)
                    """, [ids]),
                PostgresStatement(
                    """
                    SELECT disposition_id, position_id, state, read_at, completed_at, report, escalated_at FROM disposition_recipients
                    WHERE disposition_id = ANY($1) ORDER BY disposition_id, position_id
                    """, [ids]),
            ])
        }
        var recipients: [UUID: [Node.Recipient]] = [:]
        for row in results[1] {
            recipients[try row.decode("disposition_id"), default: []].append(Node.Recipient(
                positionID: try row.decode("position_id"), state: try row.decode("state"), readAt: try row.decode("read_at"),
                completedAt: try row.decode("completed_at"), report: try row.decode("report"), escalatedAt: try row.decode("escalated_at")))
        }
        var byID: [UUID: Node] = [:]
        for row in results[0] {
            let id: UUID = try row.decode("id")
            let addressed = recipients[id] ?? []
            let pastDue: Bool = try row.decode("past_due")
            byID[id] = Node(
                id: id, inboxEntryID: try row.decode("inbox_entry_id"), parentID: try row.decode("parent_id"), fromPositionID: try row.decode("from_position_id"),
                fromUserID: try row.decode("from_user_id"), actingCapacity: try row.decode("acting_capacity"), instructions: try row.decode("instructions"),
                note: try row.decode("note"), dueDate: try row.decode("due"), overdue: pastDue && addressed.contains { $0.state != "selesai" }, recipients: addressed)
        }
        return ids.compactMap { byID[$0] }
    }
}
