public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// The KKA classification table (Permendagri 83/2022) letters are filed and numbered under;
/// admins keep it (the unit kearsipan's table), everyone reads it.
public final class ClassificationService: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public struct Entry: Sendable {
        public var code: String
        public var title: String
        public var active: Bool
    }

    public func list() async throws -> [Entry] {
        try await pool.query("SELECT code, title, active FROM kka_codes ORDER BY string_to_array(code, '.')::int[]").map {
            Entry(code: try $0.decode("code"), title: try $0.decode("title"), active: try $0.decode("active"))
        }
    }

    /// Adds a code under an existing parent (`000.1.2` needs `000.1`), or renames or
    /// (de)activates an existing one.
    public func put(code rawCode: String, title rawTitle: String, active: Bool, actor: Actor, request: RequestInfo) async throws -> Entry {
        switch AccessPolicy.decide(actor, .manageUnits) {
        case .allow: break
        case .forbidden: throw ServiceError(.forbidden, "The classification table is kept by admins.")
        case .notVisible: throw ServiceError.notFound("The resource")
        }
        let title = rawTitle.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        let code = ClassificationCode(rawCode)
        check.check(code != nil, "code", "must be a KKA code: three digits, then dotted numbers (000.1.2)")
        check.text(title, "title", length: 1...200)
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            if let parent = code!.ancestors.last {
                guard try await !tx.query("SELECT 1 FROM kka_codes WHERE code = $1", [parent]).isEmpty else {
                    throw ServiceError.invalid("code", "its parent \(parent) is not in the table")
                }
            }
            try await tx.query(
                "INSERT INTO kka_codes (code, title, active) VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE SET title = $2, active = $3",
                [code!.code, title, active])
            try await AuditLog.append(
                .init("classification.saved", objectType: "classification", objectID: code!.code, actorUserID: actor.userID,
                      details: ["title": title, "active": String(active)]),
                request: request, on: tx)
            return Entry(code: code!.code, title: title, active: active)
        }
    }
}
