public import EsuratDomain
public import EsuratPostgres
public import EsuratSigning
public import Foundation

/// Outgoing letters: drafting, the paraf route, signing with numbering, the canonical
/// document. Each action loads the letter's workflow state under a row lock, applies one
/// event of ``LetterWorkflow`` and performs its actions — state, audit event, number,
/// document, signature, outbox — in one transaction.
public final class LetterService: Sendable {
    let pool: PostgresPool
    let pki: PKIService
    let blocking: BlockingWork
    let keyCache: UnlockedKeyCache?
    let printer: LetterPrinter
    let signingLimits: SigningLimits

    /// `keyCache` keeps signers' keys unlocked for a while after their passphrase opened
    /// them (see ``UnlockedKeyCache``); nil unlocks the key for every signature.
    /// `printer` makes the PDF every signature produces.
    public init(
        pool: PostgresPool, pki: PKIService, blocking: BlockingWork, keyCache: UnlockedKeyCache? = nil, printer: LetterPrinter,
        signingLimits: SigningLimits = .init()
    ) {
        self.printer = printer
        self.signingLimits = signingLimits
        self.pool = pool
        self.pki = pki
        self.blocking = blocking
        self.keyCache = keyCache
    }

    static let maxBody = 100_000

    // MARK: Drafting

    struct CheckedDraft {
        var type: LetterType
        var subject: String
        var classification: ClassificationCode
        var securityLevel: SecurityLevel
        var urgency: Urgency
        var body: String
        var recipients: [(unitID: UUID, role: String)]
    }

    func check(_ draft: LetterDraft) throws -> CheckedDraft {
        var check = Validator()
        let type = LetterType(rawValue: draft.type)
        check.check(type != nil, "type", "must be one of \(LetterType.allCases.map(\.rawValue).joined(separator: ", "))")
        let subject = draft.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        check.text(subject, "subject", length: 1...500)
        let classification = ClassificationCode(draft.classificationCode)
        check.check(classification != nil, "classificationCode", "must be a KKA code such as 000.1")
        let security = SecurityLevel(rawValue: draft.securityLevel)
        check.check(security != nil, "securityLevel", "must be biasa, terbatas, rahasia or sangat_rahasia")
        let urgency = Urgency(rawValue: draft.urgency)
        check.check(urgency != nil, "urgency", "must be biasa, segera or sangat_segera")
        if let capacity = draft.signingCapacity {
            check.check([SigningCapacity.direct.rawValue, SigningCapacity.an.rawValue].contains(capacity), "signingCapacity", "must be direct or an")
            check.check(draft.signerPositionID != nil, "signingCapacity", "is given with a named signer (signerPositionId)")
        }
        check.check(draft.body.count <= Self.maxBody, "body", "must be at most \(Self.maxBody) characters")
        check.check(!draft.body.unicodeScalars.contains { $0.value == 0 }, "body", "must not contain NUL characters")
        check.check(!draft.recipients.isEmpty, "recipients", "must name at least one unit")
        check.check(draft.recipients.count <= 200, "recipients", "must name at most 200 units")
        var seen = Set<UUID>()
        for (index, recipient) in draft.recipients.enumerated() {
            check.check(["to", "cc"].contains(recipient.role), "recipients[\(index)].role", "must be to or cc")
            check.check(seen.insert(recipient.unitID).inserted, "recipients[\(index)].unitId", "is named twice")
        }
        check.check(draft.recipients.contains { $0.role == "to" } || draft.recipients.isEmpty, "recipients", "must have at least one addressee (to)")
        try check.throwIfInvalid()
        return CheckedDraft(type: type!, subject: subject, classification: classification!, securityLevel: security!, urgency: urgency!,
                            body: draft.body, recipients: draft.recipients)
    }

    /// Creates a draft in the caller's unit with its route: the given reviewers and signer,
    /// or the standard route (the drafter's superior initials, the head of the OPD signs).
    public func create(_ draft: LetterDraft, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        guard caller.actor.roles.contains(.clerk) || caller.actor.roles.contains(.official) else {
            throw ServiceError(.forbidden, "Drafting letters needs the clerk or official role.")
        }
        let checked = try check(draft)
        let id = UUID()
        let view = Self.viewStatements(id, caller: caller)
        let viewed = try await pool.withTransaction { tx in
            try await self.checkReferences(checked, on: tx)
            let drafterPosition = caller.user.positionID
            let (route, workflowID) = try await self.route(draft: draft, type: checked.type, unitID: caller.user.unitID, drafterPosition: drafterPosition, on: tx)
            let state = LetterWorkflowState(route: route, drafterUserID: caller.user.id, drafterPositionID: drafterPosition)
            // The letter, its recipients, the audit event and the letter's view: one round trip.
            let writes = [
                PostgresStatement(
                    """
                    INSERT INTO letters (id, unit_id, drafter_user_id, drafter_position_id, type, subject, classification_code, security_level,
                                         urgency, body, status, workflow_state, workflow_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12)
                    """,
                    [id, caller.user.unitID, caller.user.id, drafterPosition, checked.type.rawValue, checked.subject, checked.classification.code,
                     checked.securityLevel.rawValue, checked.urgency.rawValue, checked.body, try PostgresJSONB(state), workflowID]),
            ] + self.recipientStatements(id, checked.recipients) + [
                try AuditLog.statement(
                    .init("letter.created", objectType: "letter", objectID: id.uuidString, actorUserID: caller.user.id,
                          actingPosition: caller.actor.positions.first { $0.positionID == drafterPosition }),
                    request: request),
            ]
            return try await Self.write(writes, thenView: view, on: tx)
        }
        return try await record(id, from: viewed, caller: caller)
    }

    /// Replaces the draft's content while it is a draft or returned; `expectedVersion` is the
    /// client's If-Match: a stale one is a conflict.
    public func update(_ id: UUID, _ draft: LetterDraft, expectedVersion: Int, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        let checked = try check(draft)
        try await pool.withTransaction { tx in
            let (state, version) = try await self.lockedState(id, caller: caller, on: tx)
            guard version == expectedVersion else {
                throw ServiceError.conflict("If-Match", "the letter is at version \(version), not \(expectedVersion); reload it and edit again")
            }
            var (next, actions) = try Self.transition(LetterWorkflow.apply(.edit, to: state, by: Self.workflowActor(caller), at: Date()))
            try await self.checkReferences(checked, on: tx)
            // A route named in the edit replaces the old one; without one the letter keeps its
            // route (and the workflow version it was pinned to).
            if draft.signerPositionID != nil {
                next.route = try await self.route(
                    draft: draft, type: checked.type, unitID: caller.user.unitID, drafterPosition: state.drafterPositionID, on: tx).0
                try await tx.query("UPDATE letters SET workflow_id = NULL WHERE id = $1", [id])
            }
            try await tx.query(
                """
                UPDATE letters SET type = $2, subject = $3, classification_code = $4, security_level = $5, urgency = $6, body = $7,
                       version = version + 1 WHERE id = $1
                """,
                [id, checked.type.rawValue, checked.subject, checked.classification.code, checked.securityLevel.rawValue,
                 checked.urgency.rawValue, checked.body])
            try await self.store(id, next, on: tx)
            try await tx.query("DELETE FROM letter_recipients WHERE letter_id = $1", [id])
            try await self.writeRecipients(id, checked.recipients, on: tx)
            try await self.audit(actions, letter: id, caller: caller, request: request, on: tx)
        }
        return try await letter(id, caller: caller)
    }

    func checkReferences(_ draft: CheckedDraft, on tx: PostgresConnection) async throws {
        let found = try await tx.pipelined([
            PostgresStatement("SELECT 1 FROM kka_codes WHERE code = $1 AND active", [draft.classification.code]),
            PostgresStatement("SELECT id FROM units WHERE id = ANY($1) AND active", [draft.recipients.map(\.unitID)]),
        ])
        guard !found[0].isEmpty else {
            throw ServiceError.invalid("classificationCode", "\(draft.classification.code) is not in the classification table")
        }
        let known = Set(try found[1].map { try $0.decode("id", as: UUID.self) })
        for (index, recipient) in draft.recipients.enumerated() where !known.contains(recipient.unitID) {
            throw ServiceError.invalid("recipients[\(index)].unitId", "no active unit has this id")
        }
    }

    func writeRecipients(_ letter: UUID, _ recipients: [(unitID: UUID, role: String)], on tx: PostgresConnection) async throws {
        _ = try await tx.pipelined(recipientStatements(letter, recipients))
    }

    func recipientStatements(_ letter: UUID, _ recipients: [(unitID: UUID, role: String)]) -> [PostgresStatement] {
        recipients.enumerated().map { index, recipient in
            PostgresStatement("INSERT INTO letter_recipients (letter_id, unit_id, role, position) VALUES ($1, $2, $3, $4)",
                              [letter, recipient.unitID, recipient.role, index])
        }
    }

    /// The route: positions the drafter names, held to ``NamedRoute``'s rules, or the steps of the
    /// workflow definition chosen for the letter's type and unit (whose id pins the letter to
    /// that version), or the built-in standard one.
    func route(draft: LetterDraft, type: LetterType, unitID: UUID, drafterPosition: UUID?, on tx: PostgresConnection) async throws -> ([RouteStep], UUID?) {
        let opd: UUID = try await tx.query(
            """
            WITH RECURSIVE up(id, parent_id, kind, depth) AS (
                SELECT id, parent_id, kind, 0 FROM units WHERE id = $1
                UNION ALL SELECT u.id, u.parent_id, u.kind, up.depth + 1 FROM units u JOIN up ON u.id = up.parent_id
            )
            SELECT id FROM up WHERE kind IN ('opd', 'kecamatan', 'pemda') ORDER BY depth LIMIT 1
            """, [unitID]).first?.decode("id") ?? unitID
        let chosen = try await WorkflowService(pool: pool).choose(type: type, opd: opd, on: tx)
        if let signer = draft.signerPositionID {
            let reviewers = draft.reviewerPositionIDs ?? []
            guard reviewers.count <= 5 else { throw ServiceError.invalid("reviewerPositionIds", "at most five reviewers") }
            guard !reviewers.contains(signer), Set(reviewers).count == reviewers.count else {
                throw ServiceError.invalid("reviewerPositionIds", "each position appears once, and not as the signer")
            }
            let named = reviewers + [signer]
            // Every named position and the drafter's with their superiors upward, cut at the
            // OPD's edge (a drafter without a position stands below the head of their unit),
            // in one statement; depth bounds a cycle an admin might have made.
            let rows = try await tx.query(
                """
                WITH RECURSIVE opd(id) AS (SELECT $2::uuid UNION ALL SELECT u.id FROM units u JOIN opd ON u.parent_id = opd.id),
                start(id, drafter) AS (
                    SELECT id, false FROM unnest($1::uuid[]) AS named(id)
                    UNION ALL SELECT coalesce($3::uuid, (SELECT id FROM positions WHERE unit_id = $4 AND is_head)), true
                ),
                up(start, drafter, id, superior_id, is_head, depth) AS (
                    SELECT s.id, s.drafter, p.id, p.superior_id, p.is_head AND p.unit_id = $2, 0
                    FROM start s JOIN positions p ON p.id = s.id WHERE p.unit_id IN (SELECT id FROM opd)
                    UNION ALL
                    SELECT up.start, up.drafter, p.id, p.superior_id, p.is_head AND p.unit_id = $2, up.depth + 1
                    FROM up JOIN positions p ON p.id = up.superior_id WHERE up.depth < 30 AND p.unit_id IN (SELECT id FROM opd)
                )
                SELECT start, drafter, id, superior_id, is_head FROM up ORDER BY drafter, start, depth
                """, [named, opd, drafterPosition, unitID])
            var chains: [UUID: [UUID]] = [:]
            var drafterChain: [UUID] = []
            var superiors: [UUID: UUID?] = [:]
            var signerIsHead = false
            for row in rows {
                let id: UUID = try row.decode("id")
                if try row.decode("drafter", as: Bool.self) {
                    drafterChain.append(id)
                    continue
                }
                let start: UUID = try row.decode("start")
                if chains[start] == nil {
                    superiors[start] = try row.decode("superior_id", as: UUID?.self)
                    if start == signer { signerIsHead = try row.decode("is_head") }
                }
                chains[start, default: []].append(id)
            }
            for (index, position) in named.enumerated() where chains[position] == nil {
                let field = index < reviewers.count ? "reviewerPositionIds[\(index)]" : "signerPositionId"
                throw ServiceError.invalid(field, "is not a position of the drafting unit's OPD")
            }
            let planned: NamedRoute
            do {
                planned = try NamedRoute.plan(
                    signer: signer, reviewers: reviewers, drafter: .init(chain: drafterChain, holdsFirst: drafterPosition != nil),
                    chains: chains, signerIsHead: signerIsHead, minimumReviewers: chosen?.definition.minimumReviewers ?? 0)
            } catch {
                throw ServiceError.invalid(error.field, error.message)
            }
            var principal: UUID?
            if draft.signingCapacity == SigningCapacity.an.rawValue {
                principal = try await Self.mandatePrincipal(of: signer, on: tx)
                guard principal != nil else {
                    throw ServiceError.invalid("signingCapacity", "the signer's position holds no mandate (a.n.) in force; an admin records one with its SK")
                }
            }
            let steps = planned.reviewers.map { reviewer in
                RouteStep(kind: reviewer.kind, positionID: reviewer.positionID, escalationPositionID: superiors[reviewer.positionID] ?? nil, deadlineHours: 24)
            } + [RouteStep(kind: .sign, positionID: signer, escalationPositionID: superiors[signer] ?? nil, deadlineHours: 48,
                           capacity: principal == nil ? .direct : .an, principalPositionID: principal)]
            return (steps, nil)
        }
        let definition = chosen?.definition ?? .standard
        var steps: [RouteStep] = []
        for step in definition.steps {
            let position: UUID
            switch step.actor {
            case .position(let named):
                position = named
            case .headOfDrafterUnit:
                guard let head: UUID = try await tx.query("SELECT id FROM positions WHERE unit_id = $1 AND is_head", [opd]).first?.decode("id") else {
                    throw ServiceError(.unprocessable, "The drafting unit's OPD has no head position; name the signer.", fields: [.init("signerPositionId", "is needed")])
                }
                position = head
            case .superiorOfDrafter:
                guard let drafterPosition else {
                    throw ServiceError.invalid("signerPositionId", "the drafter holds no position; name the signer and reviewers")
                }
                guard let superior: UUID = try await tx.query("SELECT superior_id FROM positions WHERE id = $1", [drafterPosition]).first?.decode("superior_id") else {
                    continue  // nobody above the drafter: the step has no one to ask
                }
                position = superior
            }
            let escalation: UUID? = try await tx.query("SELECT superior_id FROM positions WHERE id = $1", [position]).first?.decode("superior_id")
            var principal: UUID?
            if step.kind == .sign && step.capacity == .an {
                principal = try await Self.mandatePrincipal(of: position, on: tx)
                guard principal != nil else {
                    throw ServiceError(.unprocessable, "The workflow has this letter signed a.n., but the signer's position holds no mandate in force.",
                                       fields: [.init("signerPositionId", "holds no mandate (a.n.)")])
                }
            }
            steps.append(RouteStep(kind: step.kind, positionID: position, escalationPositionID: escalation, deadlineHours: step.deadlineHours,
                                   capacity: step.capacity, principalPositionID: principal))
        }
        // A reviewer who is also the signer, or twice on the route, initials once.
        var seen = Set<UUID>()
        let signer = steps.last { $0.kind == .sign }?.positionID
        steps = steps.filter { step in
            if step.kind != .sign && step.positionID == signer { return false }
            return seen.insert(step.positionID).inserted
        }
        guard steps.last?.kind == .sign else { throw ServiceError(.unprocessable, "The workflow gives this letter no signer.") }
        return (steps, chosen?.id)
    }

    /// The principal of the mandate (a.n.) the position holds now, if any.
    static func mandatePrincipal(of position: UUID, on tx: PostgresConnection) async throws -> UUID? {
        try await tx.query(
            "SELECT principal_position_id FROM signing_mandates WHERE position_id = $1 AND valid_from <= now() AND valid_until > now()",
            [position]).first?.decode("principal_position_id")
    }

    // MARK: Reading

    /// The letter, when the caller may see it; 404 otherwise (its existence does not leak).
    public func letter(_ id: UUID, caller: IdentityService.Authenticated) async throws -> LetterRecord {
        // One round trip for the letter and its parts (pipeline).
        let results = try await pool.withConnection { connection in
            try await connection.pipeline(Self.viewStatements(id, caller: caller))
        }
        return try await record(id, from: results, caller: caller)
    }

    /// The reads of a letter's view, for a pipeline of their own or at the end of an action's
    /// writes (then the view costs no extra round trip and reads what the action wrote).
    static func viewStatements(_ id: UUID, caller: IdentityService.Authenticated, history: Bool = true) -> [PostgresStatement] {
        [
            PostgresStatement(
                """
                SELECT id, unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, status, version,
                       number, signed_at, workflow_state FROM letters WHERE id = $1
                """, [id]),
            PostgresStatement("SELECT unit_id, role FROM letter_recipients WHERE letter_id = $1 ORDER BY position", [id]),
            PostgresStatement("SELECT id, filename, media_type, size, sha256 FROM attachments WHERE letter_id = $1 ORDER BY created_at, id", [id]),
            // Lists leave the history out (it is the longest part); its place stays, empty.
            history
                ? PostgresStatement(
                    """
                    SELECT occurred_at, action, actor_user_id, acting_position_id, acting_capacity, details->>'note' AS note
                    FROM audit_events WHERE object_type = 'letter' AND object_id = $1 ORDER BY seq
                    """, [id.uuidString])
                : PostgresStatement("SELECT WHERE false"),
            // The receiving side: the letter reached the caller's unit, the caller heads a
            // receiving unit, or a disposition of it is addressed to them.
            PostgresStatement(
                """
                SELECT EXISTS (SELECT 1 FROM inbox_entries e WHERE e.letter_id = $1 AND e.unit_id = ANY($2)) AS unit,
                       EXISTS (SELECT 1 FROM inbox_entries e JOIN positions p ON p.unit_id = e.unit_id AND p.is_head
                               WHERE e.letter_id = $1 AND p.id = ANY($3)) AS head,
                       EXISTS (SELECT 1 FROM inbox_entries e JOIN dispositions d ON d.inbox_entry_id = e.id
                               JOIN disposition_recipients r ON r.disposition_id = d.id
                               WHERE e.letter_id = $1 AND r.position_id = ANY($3)) AS addressed
                """, [id, Array(Set([caller.user.unitID] + caller.actor.positions.map(\.unitID))), caller.actor.positions.map(\.positionID)]),
            RetentionService.schedulesStatement(letter: id),
        ]
    }

    /// Runs an action's `writes` and then the letter's `view` in one pipelined round trip
    /// of the transaction; the first failing write throws. Returns the view's results.
    static func write(_ writes: [PostgresStatement], thenView view: [PostgresStatement], on tx: PostgresConnection) async throws
        -> [Result<PostgresRows, PostgresError>]
    {
        let results = try await tx.pipeline(writes + view)
        for result in results.prefix(writes.count) { _ = try result.get() }
        return Array(results.suffix(view.count))
    }

    /// The letter from the results of ``viewStatements(_:caller:)``; visibility is decided on
    /// the letter row before any of the rest is used.
    func record(_ id: UUID, from results: [Result<PostgresRows, PostgresError>], caller: IdentityService.Authenticated) async throws -> LetterRecord {
        guard let row = try results[0].get().first else { throw ServiceError.notFound("The letter") }
        let state = try row.decode("workflow_state", as: PostgresJSONB.self).decode(LetterWorkflowState.self)
        let security = SecurityLevel(rawValue: try row.decode("security_level")) ?? .biasa
        let unitID: UUID = try row.decode("unit_id")
        let senderSide = Self.mayRead(caller: caller, unitID: unitID, security: security, state: state)
        if !senderSide {
            // Letters delivered to the caller's unit are theirs to read (Rahasia: the receiving
            // head and those a disposition names), without the sender's internal route and
            // history (review notes stay with the sending unit).
            let receiving = try results[4].get().single()
            let addressed: Bool = try receiving.decode("addressed")
            let allowed = security.restrictedToNamedPositions ? (try receiving.decode("head", as: Bool.self) || addressed) : (try receiving.decode("unit", as: Bool.self) || addressed)
            guard allowed else { throw ServiceError.notFound("The letter") }
        }
        let recipients = try results[1].get().map {
            LetterRecord.Recipient(unitID: try $0.decode("unit_id"), role: try $0.decode("role"))
        }
        let attachments = try results[2].get().map {
            AttachmentRecord(id: try $0.decode("id"), filename: try $0.decode("filename"), mediaType: try $0.decode("media_type"),
                             size: try $0.decode("size"), sha256: try $0.decode("sha256"))
        }
        let history = try results[3].get().map {
            LetterRecord.HistoryEntry(
                at: try $0.decode("occurred_at"), action: try $0.decode("action"), actorUserID: try $0.decode("actor_user_id"),
                actingPositionID: try $0.decode("acting_position_id"), actingCapacity: try $0.decode("acting_capacity"), note: try $0.decode("note"))
        }
        var record = LetterRecord(
            id: id, unitID: unitID, drafterUserID: try row.decode("drafter_user_id"),
            type: LetterType(rawValue: try row.decode("type")) ?? .suratDinas, subject: try row.decode("subject"),
            classificationCode: try row.decode("classification_code"), securityLevel: security,
            urgency: Urgency(rawValue: try row.decode("urgency")) ?? .biasa, body: try row.decode("body"),
            status: LetterStatus(rawValue: try row.decode("status")) ?? .draft, version: try row.decode("version"),
            number: try row.decode("number"), signedAt: try row.decode("signed_at"), recipients: recipients, attachments: attachments,
            route: senderSide ? state.route : [], currentStep: senderSide ? state.currentStep : nil, history: senderSide ? history : [])
        record.retention = try RetentionService.status(code: record.classificationCode, signedAt: record.signedAt, schedules: try results[5].get())
        return record
    }

    /// What waits for the caller or what they sent: `drafts` (their drafts and returned
    /// letters), `submitted` (theirs on the way through paraf and signature), `review` (letters waiting for a position they act in, escalated ones
    /// included), `outbox` (what their unit signed). Newest first.
    public func list(box: String, caller: IdentityService.Authenticated, page: PageRequest) async throws -> Page<LetterRecord> {
        let positions = caller.actor.positions.map(\.positionID)
        let after = try TimeCursor.after(page)
        let filter: PostgresQuery
        switch box {
        case "drafts":
            filter = """
                SELECT id, created_at FROM letters WHERE drafter_user_id = $1 AND status IN ('draft', 'returned')
                AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) ORDER BY created_at DESC, id DESC LIMIT $5
                """
        case "submitted":
            filter = """
                SELECT id, created_at FROM letters WHERE drafter_user_id = $1 AND status IN ('in_review', 'awaiting_signature')
                AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) ORDER BY created_at DESC, id DESC LIMIT $5
                """
        case "review":
            filter = """
                SELECT id, created_at FROM letters
                WHERE (waiting_position_id = ANY($2) OR (escalated AND escalation_position_id = ANY($2)))
                AND status IN ('in_review', 'awaiting_signature')
                AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) ORDER BY created_at DESC, id DESC LIMIT $5
                """
        case "outbox":
            filter = """
                SELECT l.id, l.created_at FROM letters l, users u WHERE u.id = $1 AND l.unit_id = u.unit_id
                AND l.status IN ('signed', 'dispatching', 'delivered')
                AND ($3::timestamptz IS NULL OR (l.created_at, l.id) < ($3, $4)) ORDER BY l.created_at DESC, l.id DESC LIMIT $5
                """
        default:
            throw ServiceError.invalid("box", "must be drafts, submitted, review or outbox")
        }
        let found = try await pool.query(filter, [caller.user.id, positions, after?.time, after?.id, page.limit + 1]).map {
            (id: try $0.decode("id", as: UUID.self), createdAt: try $0.decode("created_at", as: Date.self))
        }
        var records: [(record: LetterRecord, createdAt: Date)] = []
        // The views of a page's letters in a few pipelined round trips, not one per letter.
        let perLetter = Self.viewStatements(UUID(), caller: caller).count
        for chunk in stride(from: 0, to: found.count, by: 25).map({ found[$0..<min($0 + 25, found.count)] }) {
            let results = try await pool.withConnection { connection in
                try await connection.pipeline(chunk.flatMap { Self.viewStatements($0.id, caller: caller, history: false) })
            }
            for (index, letter) in chunk.enumerated() {
                // Rahasia letters the caller is not named on stay out of the list.
                do {
                    let view = Array(results[(index * perLetter)..<((index + 1) * perLetter)])
                    records.append((try await record(letter.id, from: view, caller: caller), letter.createdAt))
                } catch let refusal as ServiceError where refusal.kind == .notFound {
                    continue
                }
            }
        }
        let listed = page.page(records, key: { TimeCursor.key(time: $0.createdAt, id: $0.record.id) })
        return Page(items: listed.items.map(\.record), nextCursor: listed.nextCursor)
    }

    /// Biasa and Terbatas letters: their unit, the positions on their route, admins and
    /// auditors. Rahasia and Sangat Rahasia: only the drafter and the positions named on the
    /// route (held or delegated).
    static func mayRead(caller: IdentityService.Authenticated, unitID: UUID, security: SecurityLevel, state: LetterWorkflowState) -> Bool {
        if caller.user.id == state.drafterUserID { return true }
        let named = state.route.contains { step in caller.actor.positions.contains { $0.positionID == step.positionID } }
        if named { return true }
        if security.restrictedToNamedPositions { return false }
        return caller.user.unitID == unitID || caller.actor.isAdmin || caller.actor.isAuditor
    }

    /// The delivery of each recipient: state, attempts, when it reached the inbox and when
    /// the receiving clerk registered it.
    public func deliveries(_ id: UUID, caller: IdentityService.Authenticated) async throws
        -> [(unitID: UUID, role: String, state: String, attempts: Int, deliveredAt: Date?, acceptedAt: Date?)]
    {
        _ = try await letter(id, caller: caller)
        return try await pool.query(
            """
            SELECT d.recipient_unit_id, d.role, d.state, d.attempts, d.delivered_at, d.accepted_at
            FROM deliveries d JOIN letter_recipients r ON r.letter_id = d.letter_id AND r.unit_id = d.recipient_unit_id
            WHERE d.letter_id = $1 ORDER BY r.position
            """, [id]
        ).map { (try $0.decode("recipient_unit_id"), try $0.decode("role"), try $0.decode("state"), try $0.decode("attempts"),
                 try $0.decode("delivered_at"), try $0.decode("accepted_at")) }
    }

    /// Evidence records of the letter's deliveries: id, kind, recipient, time.
    public func evidenceList(_ id: UUID, caller: IdentityService.Authenticated) async throws -> [(id: UUID, kind: String, unitID: UUID, createdAt: Date)] {
        _ = try await letter(id, caller: caller)
        return try await pool.query(
            """
            SELECT e.id, e.kind, d.recipient_unit_id, e.created_at FROM delivery_evidence e JOIN deliveries d ON d.id = e.delivery_id
            WHERE d.letter_id = $1 ORDER BY e.created_at, e.id
            """, [id]
        ).map { (try $0.decode("id"), try $0.decode("kind"), try $0.decode("recipient_unit_id"), try $0.decode("created_at")) }
    }

    /// One evidence record (RFC 8785 JSON) and its detached signature.
    public func evidence(_ evidenceID: UUID, of id: UUID, caller: IdentityService.Authenticated) async throws -> (record: [UInt8], signature: [UInt8]) {
        _ = try await letter(id, caller: caller)
        // Through the letter's deliveries: the record's id is not indexed, its key is (delivery, kind).
        guard let row = try await pool.query(
            """
            SELECT e.record, e.signature FROM deliveries d JOIN delivery_evidence e ON e.delivery_id = d.id
            WHERE d.letter_id = $2 AND e.id = $1
            """, [evidenceID, id]).first else {
            throw ServiceError.notFound("The evidence")
        }
        return (try row.decode("record", as: PostgresBytes.self).bytes, try row.decode("signature", as: PostgresBytes.self).bytes)
    }

    /// The stored canonical document and signature of a signed letter.
    public func signedDocument(_ id: UUID, caller: IdentityService.Authenticated) async throws -> (document: [UInt8], signature: [UInt8]) {
        _ = try await letter(id, caller: caller)
        guard let row = try await pool.query("SELECT document, signature FROM letter_documents WHERE letter_id = $1", [id]).first else {
            throw ServiceError(.conflict, "The letter is not signed yet.")
        }
        return (try row.decode("document", as: PostgresBytes.self).bytes, try row.decode("signature", as: PostgresBytes.self).bytes)
    }

    /// Verifies the stored signature against the installation's trust store now.
    public func verification(_ id: UUID, caller: IdentityService.Authenticated) async throws -> VerificationReport {
        let (document, signature) = try await signedDocument(id, caller: caller)
        let trust = try await pki.trustStore()
        return try await blocking.run { SignatureVerifier(trust: trust).verify(content: document, signature: signature) }
    }

    // MARK: Transitions

    public func submit(_ id: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        try await transition(id, .submit, caller: caller, request: request)
    }

    public func review(_ id: UUID, approve: Bool, note: String?, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        if let note {
            var check = Validator()
            check.check(note.count <= 2000, "note", "must be at most 2000 characters")
            check.check(!note.unicodeScalars.contains { $0.value == 0 }, "note", "must not contain NUL characters")
            try check.throwIfInvalid()
        }
        return try await transition(id, approve ? .approve(note: note) : .returnToDrafter(note: note ?? ""), caller: caller, request: request)
    }

    public func withdraw(_ id: UUID, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        try await transition(id, .withdraw, caller: caller, request: request)
    }

    /// One workflow event: lock, decide, then the writes and the letter's new view in one
    /// pipelined round trip before the commit.
    func transition(_ id: UUID, _ event: LetterEvent, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        let view = Self.viewStatements(id, caller: caller)
        let results = try await pool.withTransaction { tx in
            let (state, _) = try await self.lockedState(id, caller: caller, on: tx)
            let (next, actions) = try Self.transition(LetterWorkflow.apply(event, to: state, by: Self.workflowActor(caller), at: Date()))
            let writes = [try self.storeStatement(id, next)] + (try self.auditStatements(actions, letter: id, caller: caller, request: request))
            return try await Self.write(writes, thenView: view, on: tx)
        }
        return try await record(id, from: results, caller: caller)
    }

    /// Writes the workflow state and the columns the queues read from it.
    func store(_ id: UUID, _ state: LetterWorkflowState, on tx: PostgresConnection) async throws {
        let update = try storeStatement(id, state)
        try await tx.query(update.query, update.binds)
    }

    func storeStatement(_ id: UUID, _ state: LetterWorkflowState) throws -> PostgresStatement {
        PostgresStatement(
            """
            UPDATE letters SET status = $2, workflow_state = $3, waiting_position_id = $4, escalation_position_id = $5,
                   step_deadline = $6, escalated = $7, updated_at = now() WHERE id = $1
            """,
            [id, state.status.rawValue, try PostgresJSONB(state), state.waitingStep?.positionID, state.waitingStep?.escalationPositionID,
             state.deadline, state.escalated])
    }

    /// Escalates every step past its deadline: its actor's superior may act from now on.
    /// Returns how many letters were escalated. Run by ``EscalationTimer``.
    @discardableResult
    public func escalateOverdue(now: Date = Date(), limit: Int = 100) async throws -> Int {
        try await pool.withTransaction { tx in
            let overdue = try await tx.query(
                """
                SELECT id, workflow_state FROM letters
                WHERE step_deadline <= $1 AND NOT escalated AND status IN ('in_review', 'awaiting_signature')
                ORDER BY step_deadline LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [now, limit])
            var escalated = 0
            for row in overdue {
                let id: UUID = try row.decode("id")
                let state = try row.decode("workflow_state", as: PostgresJSONB.self).decode(LetterWorkflowState.self)
                guard case .success(let (next, actions)) = LetterWorkflow.apply(.escalate, to: state, by: nil, at: now) else { continue }
                try await self.store(id, next, on: tx)
                for case .audit(let action, _, _) in actions {
                    try await AuditLog.append(
                        .init(action, objectType: "letter", objectID: id.uuidString, actorUserID: nil,
                              details: ["escalatedTo": next.waitingStep?.escalationPositionID?.lowercasedString ?? ""]),
                        request: .local, on: tx)
                }
                escalated += 1
            }
            return escalated
        }
    }

    /// Loads the workflow state under a row lock; invisible letters are 404.
    func lockedState(_ id: UUID, caller: IdentityService.Authenticated, on tx: PostgresConnection) async throws -> (LetterWorkflowState, Int) {
        guard let row = try await tx.query(
            "SELECT unit_id, security_level, workflow_state, version FROM letters WHERE id = $1 FOR UPDATE", [id]).first
        else { throw ServiceError.notFound("The letter") }
        let state = try row.decode("workflow_state", as: PostgresJSONB.self).decode(LetterWorkflowState.self)
        guard Self.mayRead(caller: caller, unitID: try row.decode("unit_id"), security: SecurityLevel(rawValue: try row.decode("security_level")) ?? .biasa, state: state) else {
            throw ServiceError.notFound("The letter")
        }
        return (state, try row.decode("version"))
    }

    static func transition(_ result: Result<(LetterWorkflowState, [WorkflowAction]), WorkflowRefusal>) throws -> (LetterWorkflowState, [WorkflowAction]) {
        switch result {
        case .success(let outcome): return outcome
        case .failure(.wrongState(let current)): throw ServiceError(.conflict, "The letter is \(current.rawValue); this action does not apply to it.", fields: [.init("status", current.rawValue)])
        case .failure(.notYourStep): throw ServiceError(.forbidden, "This step of the letter is not yours to act on.")
        case .failure(.noteRequired): throw ServiceError.invalid("note", "is required when returning a letter")
        case .failure(.notOverdue): throw ServiceError(.conflict, "The step is not overdue.")
        }
    }

    static func workflowActor(_ caller: IdentityService.Authenticated) -> WorkflowActor {
        WorkflowActor(userID: caller.user.id, positions: caller.actor.positions)
    }

    func audit(_ actions: [WorkflowAction], letter: UUID, caller: IdentityService.Authenticated, request: RequestInfo, on tx: PostgresConnection) async throws {
        _ = try await tx.pipelined(try auditStatements(actions, letter: letter, caller: caller, request: request))
    }

    func auditStatements(_ actions: [WorkflowAction], letter: UUID, caller: IdentityService.Authenticated, request: RequestInfo) throws -> [PostgresStatement] {
        var statements: [PostgresStatement] = []
        for case .audit(let action, let acting, let note) in actions {
            statements.append(try AuditLog.statement(
                .init(action, objectType: "letter", objectID: letter.uuidString, actorUserID: caller.user.id, actingPosition: acting,
                      details: note.map { ["note": $0] } ?? [:]),
                request: request))
        }
        return statements
    }
}
