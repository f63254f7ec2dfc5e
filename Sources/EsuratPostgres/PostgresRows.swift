/// The rows a statement returned, copied out of libpq's result so they can cross threads.
///
/// All cells share one byte buffer; each cell is an offset and a length (-1 for NULL).
public struct PostgresRows: Sendable, RandomAccessCollection {
    public struct Column: Sendable, Hashable {
        public var name: String
        public var typeOID: UInt32
    }

    public let columns: [Column]
    /// Rows the statement inserted, updated or deleted (`PQcmdTuples`), or 0.
    public let affectedRows: Int
    let storage: [UInt8]
    let offsets: [Int]
    let lengths: [Int32]
    let rowCount: Int

    init(columns: [Column], affectedRows: Int, storage: [UInt8], offsets: [Int], lengths: [Int32], rowCount: Int) {
        self.columns = columns
        self.affectedRows = affectedRows
        self.storage = storage
        self.offsets = offsets
        self.lengths = lengths
        self.rowCount = rowCount
    }

    static let empty = PostgresRows(columns: [], affectedRows: 0, storage: [], offsets: [], lengths: [], rowCount: 0)

    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The only row; throws when there is none or more than one.
    public func single() throws -> PostgresRow {
        guard count == 1 else { throw PostgresError(code: .client, message: "expected exactly one row, got \(count)") }
        return self[0]
    }

    func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// One row of ``PostgresRows``.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes the column named `column`; a decoding error names the column.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let position = rows.columnIndex(named: column) else {
            throw PostgresDecodingError(
                column: column, swiftType: "\(T.self)", typeOID: 0, reason: "the result has no such column")
        }
        return try decode(position, as: type)
    }

    /// Decodes the column at `position` (0-based).
    public func decode<T: PostgresDecodable>(_ position: Int, as type: T.Type = T.self) throws -> T {
        guard rows.columns.indices.contains(position) else {
            throw PostgresDecodingError(
                column: "#\(position)", swiftType: "\(T.self)", typeOID: 0, reason: "the result has no such column")
        }
        let column = rows.columns[position]
        let cell = index * rows.columns.count + position
        let length = Int(rows.lengths[cell])
        do {
            if length < 0 { return try T.decodeNull() }
            let start = rows.offsets[cell]
            return try T.decode(from: rows.storage[start..<start + length], oid: column.typeOID)
        } catch {
            throw PostgresDecodingError(
                column: column.name, swiftType: "\(T.self)", typeOID: column.typeOID, reason: error.reason)
        }
    }

    /// Whether the column at `position` is NULL.
    public func isNull(_ position: Int) -> Bool {
        rows.lengths[index * rows.columns.count + position] < 0
    }
}
