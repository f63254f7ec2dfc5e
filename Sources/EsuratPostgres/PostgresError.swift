/// A failure talking to PostgreSQL: from the server (with its SQLSTATE and the constraint it
/// names), from the connection, or from the pool.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Equality compares this code only in tests that want it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The server answered the statement with an error; see ``PostgresError/sqlState``.
        public static let server = Code("server")
        /// No connection could be made.
        public static let connectionFailed = Code("connectionFailed")
        /// The connection broke while a statement ran.
        public static let connectionLost = Code("connectionLost")
        /// No pooled connection became free within the pool's acquire timeout.
        public static let poolTimeout = Code("poolTimeout")
        /// The pool was shut down.
        public static let poolClosed = Code("poolClosed")
        /// A statement of a pipeline was skipped because an earlier one failed.
        public static let pipelineAborted = Code("pipelineAborted")
        /// libpq refused a call (out of memory, misuse).
        public static let client = Code("client")
    }

    public var code: Code
    /// The primary message, from the server or from libpq.
    public var message: String
    /// The five-character SQLSTATE, for server errors.
    public var sqlState: String?
    /// The constraint that was violated, when the server names one.
    public var constraint: String?
    public var table: String?
    public var column: String?
    public var detail: String?
    public var hint: String?

    public init(
        code: Code, message: String, sqlState: String? = nil, constraint: String? = nil,
        table: String? = nil, column: String? = nil, detail: String? = nil, hint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.column = column
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }

    /// SQLSTATE 23505: a unique constraint was violated.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503: a foreign key was violated.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// SQLSTATE 40001 or 40P01: the transaction may succeed when run again.
    public var isRetryableTransactionFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The database cannot answer now but may soon: no connection (down, restarting, full),
    /// the connection lost, the pool exhausted or closed, or the server cancelling a statement
    /// for its statement or lock timeout (57014, 55P03) or shutting down (57P01–57P03), or out
    /// of resources (class 53).
    public var meansUnavailable: Bool {
        if [.connectionFailed, .connectionLost, .poolTimeout, .poolClosed].contains(code) { return true }
        guard let sqlState else { return false }
        return ["57014", "55P03", "57P01", "57P02", "57P03"].contains(sqlState) || sqlState.hasPrefix("53") || sqlState.hasPrefix("08")
    }
}

/// A column's value could not be decoded into the requested Swift type.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name as the statement returned it.
    public var column: String
    /// The Swift type asked for.
    public var swiftType: String
    /// The column's PostgreSQL type OID.
    public var typeOID: UInt32
    public var reason: String

    public var description: String {
        "cannot decode column \"\(column)\" (type oid \(typeOID)) as \(swiftType): \(reason)"
    }
}

/// Thrown by a ``PostgresDecodable`` conformance; the row adds the column's name.
public struct PostgresDecodingFailure: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
