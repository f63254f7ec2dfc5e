public import Foundation

/// PostgreSQL type OIDs esurat binds and decodes (from `pg_type.dat`).
public enum PostgresOID {
    public static let unknown: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let char: UInt32 = 18
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let unknownLiteral: UInt32 = 705
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let boolArray: UInt32 = 1000
    public static let byteaArray: UInt32 = 1001
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let varcharArray: UInt32 = 1015
    public static let int8Array: UInt32 = 1016
    public static let float8Array: UInt32 = 1022
    public static let timestamptzArray: UInt32 = 1185
    public static let uuidArray: UInt32 = 2951
}

/// One parameter as libpq takes it.
public struct PostgresBind: Sendable {
    /// The parameter's type; 0 lets the server infer it from the statement.
    public var oid: UInt32
    /// Binary (true) or text format.
    public var isBinary: Bool
    /// The value's bytes; nil is SQL NULL.
    public var bytes: [UInt8]?

    public init(oid: UInt32, isBinary: Bool, bytes: [UInt8]?) {
        self.oid = oid
        self.isBinary = isBinary
        self.bytes = bytes
    }
}

/// A Swift value that can be sent as a statement parameter.
public protocol PostgresEncodable: Sendable {
    /// The type a NULL of this Swift type is sent as.
    static var postgresNullBind: PostgresBind { get }
    func postgresBind() -> PostgresBind
}

/// A Swift value that can be read from a column (results come in binary format).
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value of type `oid`.
    static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Self
    /// The value for SQL NULL; only optionals have one.
    static func decodeNull() throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self {
        throw PostgresDecodingFailure("the value is NULL; decode an Optional")
    }
}

/// A type that can be an element of a one-dimensional array parameter or column.
public protocol PostgresArrayElement: PostgresEncodable, PostgresDecodable {
    static var elementOID: UInt32 { get }
    static var arrayOID: UInt32 { get }
    /// The element in binary format.
    func binaryElement() -> [UInt8]
}

// MARK: - Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresNullBind: PostgresBind { Wrapped.postgresNullBind }
    public func postgresBind() -> PostgresBind {
        switch self {
        case .some(let value): value.postgresBind()
        case .none: Wrapped.postgresNullBind
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Self {
        try Wrapped.decode(from: bytes, oid: oid)
    }
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self { nil }
}

// MARK: - Big-endian helpers

@inline(__always)
func readInteger<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, as: T.Type = T.self) -> T {
    var value: T = 0
    for byte in bytes { value = (value << 8) | T(truncatingIfNeeded: byte) }
    return value
}

@inline(__always)
func appendInteger<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
}

func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(MemoryLayout<T>.size)
    appendInteger(value, to: &out)
    return out
}

func expectLength(_ bytes: ArraySlice<UInt8>, _ count: Int) throws(PostgresDecodingFailure) {
    guard bytes.count == count else {
        throw PostgresDecodingFailure("expected \(count) bytes, got \(bytes.count)")
    }
}

func unexpectedType(_ oid: UInt32) -> PostgresDecodingFailure {
    PostgresDecodingFailure("the column's type oid \(oid) does not convert to this type")
}

// MARK: - Text

extension String: PostgresArrayElement {
    /// Strings go as text with an unknown type so the server infers the parameter's type
    /// (text, varchar, a uuid column compared with `$1`, an enum…).
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.unknown, isBinary: false, bytes: nil) }
    public func postgresBind() -> PostgresBind {
        PostgresBind(oid: PostgresOID.unknown, isBinary: false, bytes: Array(utf8))
    }
    public static var elementOID: UInt32 { PostgresOID.text }
    public static var arrayOID: UInt32 { PostgresOID.textArray }
    public func binaryElement() -> [UInt8] { Array(utf8) }

    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> String {
        switch oid {
        case PostgresOID.text, PostgresOID.varchar, PostgresOID.bpchar, PostgresOID.name, PostgresOID.char,
            PostgresOID.unknownLiteral, PostgresOID.json:
            return String(decoding: bytes, as: UTF8.self)
        case PostgresOID.jsonb:
            // Binary jsonb is a version byte (1) followed by the JSON text.
            guard bytes.first == 1 else { throw PostgresDecodingFailure("unknown jsonb format version") }
            return String(decoding: bytes.dropFirst(), as: UTF8.self)
        case PostgresOID.uuid:
            return try UUID.decode(from: bytes, oid: oid).uuidString.lowercased()
        default:
            throw unexpectedType(oid)
        }
    }
}

// MARK: - Integers and floating point

extension Int64: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.int8, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.int8, isBinary: true, bytes: bigEndianBytes(self)) }
    public static var elementOID: UInt32 { PostgresOID.int8 }
    public static var arrayOID: UInt32 { PostgresOID.int8Array }
    public func binaryElement() -> [UInt8] { bigEndianBytes(self) }

    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Int64 {
        switch oid {
        case PostgresOID.int8: try expectLength(bytes, 8); return readInteger(bytes, as: Int64.self)
        case PostgresOID.int4: try expectLength(bytes, 4); return Int64(readInteger(bytes, as: Int32.self))
        case PostgresOID.int2: try expectLength(bytes, 2); return Int64(readInteger(bytes, as: Int16.self))
        case PostgresOID.oid: try expectLength(bytes, 4); return Int64(readInteger(bytes, as: UInt32.self))
        default: throw unexpectedType(oid)
        }
    }
}

extension Int: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { Int64.postgresNullBind }
    public func postgresBind() -> PostgresBind { Int64(self).postgresBind() }
    public static var elementOID: UInt32 { PostgresOID.int8 }
    public static var arrayOID: UInt32 { PostgresOID.int8Array }
    public func binaryElement() -> [UInt8] { bigEndianBytes(Int64(self)) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Int {
        Int(try Int64.decode(from: bytes, oid: oid))
    }
}

extension Int32: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.int4, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.int4, isBinary: true, bytes: bigEndianBytes(self)) }
    public static var elementOID: UInt32 { PostgresOID.int4 }
    public static var arrayOID: UInt32 { PostgresOID.int4Array }
    public func binaryElement() -> [UInt8] { bigEndianBytes(self) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Int32 {
        let wide = try Int64.decode(from: bytes, oid: oid)
        guard let value = Int32(exactly: wide) else { throw PostgresDecodingFailure("\(wide) does not fit in Int32") }
        return value
    }
}

extension Int16: PostgresEncodable, PostgresDecodable {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.int2, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.int2, isBinary: true, bytes: bigEndianBytes(self)) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Int16 {
        let wide = try Int64.decode(from: bytes, oid: oid)
        guard let value = Int16(exactly: wide) else { throw PostgresDecodingFailure("\(wide) does not fit in Int16") }
        return value
    }
}

extension Double: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.float8, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.float8, isBinary: true, bytes: bigEndianBytes(bitPattern)) }
    public static var elementOID: UInt32 { PostgresOID.float8 }
    public static var arrayOID: UInt32 { PostgresOID.float8Array }
    public func binaryElement() -> [UInt8] { bigEndianBytes(bitPattern) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Double {
        switch oid {
        case PostgresOID.float8: try expectLength(bytes, 8); return Double(bitPattern: readInteger(bytes, as: UInt64.self))
        case PostgresOID.float4: try expectLength(bytes, 4); return Double(Float(bitPattern: readInteger(bytes, as: UInt32.self)))
        default: return Double(try Int64.decode(from: bytes, oid: oid))
        }
    }
}

// MARK: - Bool

extension Bool: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.bool, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.bool, isBinary: true, bytes: [self ? 1 : 0]) }
    public static var elementOID: UInt32 { PostgresOID.bool }
    public static var arrayOID: UInt32 { PostgresOID.boolArray }
    public func binaryElement() -> [UInt8] { [self ? 1 : 0] }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Bool {
        guard oid == PostgresOID.bool else { throw unexpectedType(oid) }
        try expectLength(bytes, 1)
        return bytes.first! != 0
    }
}

// MARK: - UUID

extension UUID: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.uuid, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.uuid, isBinary: true, bytes: binaryElement()) }
    public static var elementOID: UInt32 { PostgresOID.uuid }
    public static var arrayOID: UInt32 { PostgresOID.uuidArray }
    public func binaryElement() -> [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> UUID {
        switch oid {
        case PostgresOID.uuid:
            try expectLength(bytes, 16)
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
            return UUID(uuid: raw)
        case PostgresOID.text, PostgresOID.varchar:
            guard let value = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
                throw PostgresDecodingFailure("not a UUID")
            }
            return value
        default:
            throw unexpectedType(oid)
        }
    }
}

// MARK: - Time

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
let postgresEpochOffsetSeconds: Int64 = 946_684_800

extension Date: PostgresArrayElement {
    /// Dates are `timestamptz`, with PostgreSQL's microsecond precision.
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.timestamptz, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.timestamptz, isBinary: true, bytes: binaryElement()) }
    public static var elementOID: UInt32 { PostgresOID.timestamptz }
    public static var arrayOID: UInt32 { PostgresOID.timestamptzArray }
    public func binaryElement() -> [UInt8] {
        let micros = ((timeIntervalSince1970 - Double(postgresEpochOffsetSeconds)) * 1_000_000).rounded()
        return bigEndianBytes(Int64(micros))
    }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Date {
        switch oid {
        case PostgresOID.timestamptz, PostgresOID.timestamp:
            try expectLength(bytes, 8)
            let micros = readInteger(bytes, as: Int64.self)
            if micros == Int64.max || micros == Int64.min { throw PostgresDecodingFailure("infinite timestamp") }
            let seconds = micros / 1_000_000
            let fraction = micros % 1_000_000
            return Date(timeIntervalSince1970: Double(seconds + postgresEpochOffsetSeconds) + Double(fraction) / 1_000_000)
        case PostgresOID.date:
            return try PostgresDate.decode(from: bytes, oid: oid).midnightUTC
        default:
            throw unexpectedType(oid)
        }
    }
}

/// A calendar date without a time of day (PostgreSQL `date`), in the proleptic Gregorian
/// calendar.
public struct PostgresDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 2000-01-01, PostgreSQL's own representation.
    public var daysSince2000: Int32

    public init(daysSince2000: Int32) { self.daysSince2000 = daysSince2000 }

    /// The date `year`-`month`-`day`; nil when there is no such day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= PostgresDate.daysIn(month: month, year: year) else { return nil }
        self.daysSince2000 = Int32(PostgresDate.daysFromCivil(year: year, month: month, day: day) - 10_957)
    }

    public var components: (year: Int, month: Int, day: Int) {
        PostgresDate.civilFromDays(Int(daysSince2000) + 10_957)
    }

    public var description: String {
        let (y, m, d) = components
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    public static func < (a: PostgresDate, b: PostgresDate) -> Bool { a.daysSince2000 < b.daysSince2000 }

    var midnightUTC: Date { Date(timeIntervalSince1970: Double(Int64(daysSince2000) * 86_400 + postgresEpochOffsetSeconds)) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: days relative to 1970-01-01.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension PostgresDate: PostgresEncodable, PostgresDecodable {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.date, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.date, isBinary: true, bytes: bigEndianBytes(daysSince2000)) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> PostgresDate {
        guard oid == PostgresOID.date else { throw unexpectedType(oid) }
        try expectLength(bytes, 4)
        let days = readInteger(bytes, as: Int32.self)
        if days == Int32.max || days == Int32.min { throw PostgresDecodingFailure("infinite date") }
        return PostgresDate(daysSince2000: days)
    }
}

// MARK: - Bytes

/// Raw bytes, sent and read as `bytea`.
public struct PostgresBytes: Sendable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension PostgresBytes: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.bytea, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.bytea, isBinary: true, bytes: bytes) }
    public static var elementOID: UInt32 { PostgresOID.bytea }
    public static var arrayOID: UInt32 { PostgresOID.byteaArray }
    public func binaryElement() -> [UInt8] { bytes }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> PostgresBytes {
        guard oid == PostgresOID.bytea else { throw unexpectedType(oid) }
        return PostgresBytes(Array(bytes))
    }
}

extension Data: PostgresEncodable, PostgresDecodable {
    public static var postgresNullBind: PostgresBind { PostgresBytes.postgresNullBind }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.bytea, isBinary: true, bytes: Array(self)) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> Data {
        guard oid == PostgresOID.bytea else { throw unexpectedType(oid) }
        return Data(bytes)
    }
}

// MARK: - JSON

/// A `jsonb` value: its JSON text. Build one from an `Encodable` or decode it into a
/// `Decodable`.
public struct PostgresJSONB: Sendable, Hashable {
    /// The UTF-8 JSON text.
    public var text: [UInt8]

    public init(text: [UInt8]) { self.text = text }

    public init(_ value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws {
        self.text = Array(try encoder.encode(value))
    }

    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(text))
    }
}

extension PostgresJSONB: PostgresEncodable, PostgresDecodable {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: PostgresOID.jsonb, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind { PostgresBind(oid: PostgresOID.jsonb, isBinary: true, bytes: [1] + text) }
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> PostgresJSONB {
        switch oid {
        case PostgresOID.jsonb:
            guard bytes.first == 1 else { throw PostgresDecodingFailure("unknown jsonb format version") }
            return PostgresJSONB(text: Array(bytes.dropFirst()))
        case PostgresOID.json:
            return PostgresJSONB(text: Array(bytes))
        default:
            throw unexpectedType(oid)
        }
    }
}

// MARK: - Arrays

/// One-dimensional arrays in PostgreSQL's binary array format: ndim, has-null flag, element
/// OID, then per dimension its length and lower bound, then each element as length + bytes.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresNullBind: PostgresBind { PostgresBind(oid: Element.arrayOID, isBinary: true, bytes: nil) }
    public func postgresBind() -> PostgresBind {
        var out: [UInt8] = []
        appendInteger(Int32(1), to: &out)
        appendInteger(Int32(0), to: &out)
        appendInteger(Element.elementOID, to: &out)
        appendInteger(Int32(count), to: &out)
        appendInteger(Int32(1), to: &out)
        for element in self {
            let bytes = element.binaryElement()
            appendInteger(Int32(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        }
        return PostgresBind(oid: Element.arrayOID, isBinary: true, bytes: out)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public static func decode(from bytes: ArraySlice<UInt8>, oid: UInt32) throws(PostgresDecodingFailure) -> [Element] {
        var cursor = bytes.startIndex
        func take(_ n: Int) throws(PostgresDecodingFailure) -> ArraySlice<UInt8> {
            guard n >= 0, bytes.endIndex - cursor >= n else { throw PostgresDecodingFailure("truncated array") }
            defer { cursor += n }
            return bytes[cursor..<cursor + n]
        }
        let dimensions = readInteger(try take(4), as: Int32.self)
        _ = try take(4)  // has-null flag; NULL elements are refused below
        let elementOID = readInteger(try take(4), as: UInt32.self)
        if dimensions == 0 { return [] }
        guard dimensions == 1 else { throw PostgresDecodingFailure("only one-dimensional arrays are supported") }
        let count = Int(readInteger(try take(4), as: Int32.self))
        _ = try take(4)  // lower bound
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(readInteger(try take(4), as: Int32.self))
            guard length >= 0 else { throw PostgresDecodingFailure("array element is NULL") }
            result.append(try Element.decode(from: try take(length), oid: elementOID))
        }
        return result
    }
}
