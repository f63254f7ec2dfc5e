/// PDF values (ISO 32000-1 §7.3), as far as signing and checking signatures needs them.
/// Names keep their encoded spelling, so a value read from a file is written back as it was.
public indirect enum PDFValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    /// A real kept as its text, so nothing is lost to formatting.
    case real(String)
    /// A name without its slash, as spelt in the file.
    case name(String)
    case string([UInt8])
    case hexString([UInt8])
    case array([PDFValue])
    case dictionary(PDFDictionary)
    case reference(Int, Int)

    public var dictionary: PDFDictionary? { if case .dictionary(let d) = self { d } else { nil } }
    public var array: [PDFValue]? { if case .array(let a) = self { a } else { nil } }
    public var integer: Int? { if case .integer(let i) = self { i } else { nil } }
    public var name: String? { if case .name(let n) = self { n } else { nil } }
    public var reference: (Int, Int)? { if case .reference(let n, let g) = self { (n, g) } else { nil } }
    public var bytes: [UInt8]? {
        switch self {
        case .string(let b), .hexString(let b): b
        default: nil
        }
    }

    /// The value as PDF syntax.
    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .integer(let i): out += Array(String(i).utf8)
        case .real(let text): out += Array(text.utf8)
        case .name(let n): out.append(0x2F); out += Array(n.utf8)
        case .string(let bytes):
            out.append(0x28)
            for byte in bytes {
                switch byte {
                case 0x28, 0x29, 0x5C: out += [0x5C, byte]
                case 0x0A: out += [0x5C, 0x6E]
                case 0x0D: out += [0x5C, 0x72]
                default: out.append(byte)
                }
            }
            out.append(0x29)
        case .hexString(let bytes):
            out.append(0x3C)
            out += Array(PDFHex.encode(bytes).utf8)
            out.append(0x3E)
        case .array(let items):
            out.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(0x20) }
                item.write(into: &out)
            }
            out.append(0x5D)
        case .dictionary(let dictionary): dictionary.write(into: &out)
        case .reference(let n, let g): out += Array("\(n) \(g) R".utf8)
        }
    }

    /// A text string: ASCII as is, anything else UTF-16BE with a byte-order mark.
    public static func text(_ string: String) -> PDFValue {
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return .string(Array(string.utf8)) }
        return .hexString([0xFE, 0xFF] + string.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }
}

/// A dictionary keeping the order of its keys.
public struct PDFDictionary: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: PDFValue)]

    public init(_ entries: [(String, PDFValue)] = []) {
        self.entries = entries.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> PDFValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key: key, value: newValue))
            }
        }
    }

    public var keys: [String] { entries.map(\.key) }

    public static func == (a: PDFDictionary, b: PDFDictionary) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    func write(into out: inout [UInt8]) {
        out += Array("<<".utf8)
        for (key, value) in entries {
            out += Array(" /\(key) ".utf8)
            value.write(into: &out)
        }
        out += Array(" >>".utf8)
    }
}

enum PDFHex {
    static let digits = Array("0123456789ABCDEF".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
