/// The text of one SQL statement, with `$1`, `$2`… placeholders for its parameters.
///
/// Only a string literal makes one, so SQL is never assembled from user text; values always
/// travel separately as parameters.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let sql: String

    public init(stringLiteral value: StaticString) {
        self.sql = value.description
    }

    /// SQL the operator ships with esurat (migration files); never text from a request.
    public init(trustedSQL: String) {
        self.sql = trustedSQL
    }

    public var description: String { sql }
}

/// One statement and its parameters, for ``PostgresConnection/pipeline(_:)``.
public struct PostgresStatement: Sendable {
    public var query: PostgresQuery
    public var binds: [any PostgresEncodable]

    public init(_ query: PostgresQuery, _ binds: [any PostgresEncodable] = []) {
        self.query = query
        self.binds = binds
    }
}
