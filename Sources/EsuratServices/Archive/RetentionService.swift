public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// The JRA on the KKA table: admins set each code's retention; letters show where they
/// stand; auditors and admins list what is due for its final disposition. Nothing is deleted.
public final class RetentionService: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Every code that carries a schedule of its own.
    public func schedules() async throws -> [String: RetentionSchedule] {
        try await Self.schedules(on: pool.query(
            "SELECT code, active_years, inactive_years, final_disposition FROM kka_codes WHERE active_years IS NOT NULL"))
    }

    static func schedules(on rows: PostgresRows) throws -> [String: RetentionSchedule] {
        var out: [String: RetentionSchedule] = [:]
        for row in rows {
            let code: String = try row.decode("code")
            out[code] = RetentionSchedule(
                code: code, activeYears: try row.decode("active_years"), inactiveYears: try row.decode("inactive_years"),
                finalDisposition: RetentionSchedule.FinalDisposition(rawValue: try row.decode("final_disposition")) ?? .dinilaiKembali)
        }
        return out
    }

    /// The retention of a letter of `code` signed at `signedAt`; nil before it is signed (a
    /// draft is not a record yet) or when no schedule covers its code.
    public func status(code: String, signedAt: Date?) async throws -> RetentionStatus? {
        guard signedAt != nil else { return nil }
        return try Self.status(code: code, signedAt: signedAt, schedules: try await pool.query(
            """
            SELECT code, active_years, inactive_years, final_disposition FROM kka_codes
            WHERE active_years IS NOT NULL AND (code = $1 OR $1 LIKE code || '.%')
            """, [code]))
    }

    /// The schedules that may cover letter `id`'s code (its own and its ancestors'), for a
    /// pipeline that reads the letter: the letter's view needs no round trip of its own for them.
    static func schedulesStatement(letter id: UUID) -> PostgresStatement {
        PostgresStatement(
            """
            SELECT k.code, k.active_years, k.inactive_years, k.final_disposition FROM kka_codes k, letters l
            WHERE l.id = $1 AND k.active_years IS NOT NULL AND (k.code = l.classification_code OR l.classification_code LIKE k.code || '.%')
            """, [id])
    }

    /// The retention from the candidate `schedules` rows of a code (see ``status(code:signedAt:)``).
    static func status(code: String, signedAt: Date?, schedules rows: PostgresRows) throws -> RetentionStatus? {
        guard let signedAt, let schedule = RetentionSchedule.applicable(to: code, in: try schedules(on: rows)) else { return nil }
        return RetentionStatus(schedule: schedule, recordDate: signedAt)
    }

    /// Sets a code's schedule (admin; the unit kearsipan's JRA).
    public func setSchedule(code: String, activeYears: Int, inactiveYears: Int, finalDisposition: String, actor: Actor, request: RequestInfo) async throws -> RetentionSchedule {
        switch AccessPolicy.decide(actor, .manageUnits) {
        case .allow: break
        case .forbidden: throw ServiceError(.forbidden, "The retention schedule (JRA) is kept by admins.")
        case .notVisible: throw ServiceError.notFound("The classification")
        }
        var check = Validator()
        check.check((0...100).contains(activeYears), "activeYears", "must be 0–100 years")
        check.check((0...100).contains(inactiveYears), "inactiveYears", "must be 0–100 years")
        let disposition = RetentionSchedule.FinalDisposition(rawValue: finalDisposition)
        check.check(disposition != nil, "finalDisposition", "must be musnah, permanen or dinilai_kembali")
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            let updated = try await tx.execute(
                "UPDATE kka_codes SET active_years = $2, inactive_years = $3, final_disposition = $4 WHERE code = $1",
                [code, activeYears, inactiveYears, finalDisposition])
            guard updated == 1 else { throw ServiceError.notFound("The classification code \(code)") }
            try await AuditLog.append(
                .init("classification.retention_set", objectType: "classification", objectID: code, actorUserID: actor.userID,
                      details: ["activeYears": String(activeYears), "inactiveYears": String(inactiveYears), "finalDisposition": finalDisposition]),
                request: request, on: tx)
            return RetentionSchedule(code: code, activeYears: activeYears, inactiveYears: inactiveYears, finalDisposition: disposition!)
        }
    }

    /// One line of the retention report.
    public struct ReportItem: Sendable {
        public var letterID: UUID
        public var number: String?
        public var subject: String
        public var unitID: UUID
        public var classificationCode: String
        public var signedAt: Date
        public var status: RetentionStatus
    }

    /// Signed letters with their retention, oldest first; `dueOnly`: only those past both
    /// periods (due for musnah, permanen transfer or reassessment). Auditors and admins.
    public func report(dueOnly: Bool, actor: Actor, page: PageRequest) async throws -> Page<ReportItem> {
        try AuditChain.authorize(actor)
        // A start before every row rather than NULLs, so the keyset bounds the index scan.
        var afterMicros = ArchiveExporter.beforeEverything
        var afterID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        if let cursor = page.after {
            let parts = cursor.split(separator: "_")
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                throw ServiceError.invalid("cursor", "is not a cursor this server issued")
            }
            (afterMicros, afterID) = (micros, id)
        }
        let rows = try await pool.query(
            """
            SELECT l.id, l.number, l.subject, l.unit_id, l.classification_code, ld.signed_at,
                   (extract(epoch FROM ld.signed_at) * 1000000)::bigint AS signed_us,
                   s.code, s.active_years, s.inactive_years, s.final_disposition
            FROM letter_documents ld JOIN letters l ON l.id = ld.letter_id
            CROSS JOIN LATERAL (
                SELECT k.code, k.active_years, k.inactive_years, k.final_disposition FROM kka_codes k
                WHERE k.active_years IS NOT NULL AND (k.code = l.classification_code OR l.classification_code LIKE k.code || '.%')
                ORDER BY length(k.code) DESC LIMIT 1) s
            WHERE (NOT $1 OR (ld.signed_at AT TIME ZONE 'Asia/Jakarta') + make_interval(years => s.active_years + s.inactive_years)
                              <= (now() AT TIME ZONE 'Asia/Jakarta'))
              AND (ld.signed_at, ld.letter_id) > (to_timestamp(0) + $2::bigint * interval '1 microsecond', $3::uuid)
            ORDER BY ld.signed_at, ld.letter_id LIMIT $4
            """, [dueOnly, afterMicros, afterID, page.limit + 1])
        let now = Date()
        var items: [(ReportItem, String)] = []
        for row in rows {
            let schedule = RetentionSchedule(
                code: try row.decode("code"), activeYears: try row.decode("active_years"), inactiveYears: try row.decode("inactive_years"),
                finalDisposition: RetentionSchedule.FinalDisposition(rawValue: try row.decode("final_disposition")) ?? .dinilaiKembali)
            let signedAt: Date = try row.decode("signed_at")
            let id: UUID = try row.decode("id")
            items.append((ReportItem(
                letterID: id, number: try row.decode("number"), subject: try row.decode("subject"), unitID: try row.decode("unit_id"),
                classificationCode: try row.decode("classification_code"), signedAt: signedAt,
                status: RetentionStatus(schedule: schedule, recordDate: signedAt, now: now)),
                "\(try row.decode("signed_us", as: Int64.self))_\(id.lowercasedString)"))
        }
        let paged = page.page(items) { $0.1 }
        return Page(items: paged.items.map(\.0), nextCursor: paged.nextCursor)
    }
}
