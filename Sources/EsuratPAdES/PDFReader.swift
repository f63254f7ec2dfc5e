/// Why a PDF cannot be read (or signed) here.
public struct PDFError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "PDF: \(reason)" }
}

/// A tokenizer over PDF bytes: values, `obj`, `stream` and references. Comments are
/// skipped (cairo writes one inside a page dictionary, so regular expressions will not do).
struct PDFLexer {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8], at offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0C || b == 0x00 }
    static func isDelimiter(_ b: UInt8) -> Bool { "()<>[]{}/%".utf8.contains(b) }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            let b = bytes[offset]
            if Self.isWhitespace(b) {
                offset += 1
            } else if b == 0x25 {  // % comment to end of line
                while offset < bytes.count, bytes[offset] != 0x0A, bytes[offset] != 0x0D { offset += 1 }
            } else {
                return
            }
        }
    }

    /// A bare word: a number, a keyword or an operator.
    mutating func word() -> String {
        skipWhitespace()
        let start = offset
        while offset < bytes.count, !Self.isWhitespace(bytes[offset]), !Self.isDelimiter(bytes[offset]) { offset += 1 }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    mutating func expect(_ keyword: String) throws(PDFError) {
        let found = word()
        guard found == keyword else { throw PDFError("expected \(keyword) at \(offset), found \(found.prefix(20))") }
    }

    mutating func value(depth: Int = 0) throws(PDFError) -> PDFValue {
        guard depth < 64 else { throw PDFError("nesting too deep") }
        skipWhitespace()
        guard offset < bytes.count else { throw PDFError("unexpected end") }
        let b = bytes[offset]
        switch b {
        case 0x2F:  // name
            offset += 1
            let start = offset
            while offset < bytes.count, !Self.isWhitespace(bytes[offset]), !Self.isDelimiter(bytes[offset]) { offset += 1 }
            return .name(String(decoding: bytes[start..<offset], as: UTF8.self))
        case 0x28: return .string(try literalString())
        case 0x3C:
            if offset + 1 < bytes.count, bytes[offset + 1] == 0x3C {
                offset += 2
                var dictionary = PDFDictionary()
                while true {
                    skipWhitespace()
                    guard offset + 1 < bytes.count else { throw PDFError("unterminated dictionary") }
                    if bytes[offset] == 0x3E, bytes[offset + 1] == 0x3E {
                        offset += 2
                        return .dictionary(dictionary)
                    }
                    guard case .name(let key) = try value(depth: depth + 1) else { throw PDFError("dictionary key is not a name at \(offset)") }
                    dictionary[key] = try value(depth: depth + 1)
                }
            }
            return .hexString(try hexString())
        case 0x5B:
            offset += 1
            var items: [PDFValue] = []
            while true {
                skipWhitespace()
                guard offset < bytes.count else { throw PDFError("unterminated array") }
                if bytes[offset] == 0x5D {
                    offset += 1
                    return .array(items)
                }
                items.append(try value(depth: depth + 1))
            }
        default:
            let text = word()
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            case "": throw PDFError("unexpected byte \(b) at \(offset)")
            default:
                guard let number = Int(text) else {
                    if Double(text) != nil { return .real(text) }
                    throw PDFError("unexpected \(text.prefix(20)) at \(offset)")
                }
                // `n g R` is a reference.
                let saved = offset
                let generation = word()
                if let g = Int(generation) {
                    if word() == "R" { return .reference(number, g) }
                }
                offset = saved
                return .integer(number)
            }
        }
    }

    mutating func literalString() throws(PDFError) -> [UInt8] {
        offset += 1
        var depth = 1
        var out: [UInt8] = []
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            switch b {
            case 0x5C:
                guard offset < bytes.count else { break }
                let e = bytes[offset]
                offset += 1
                switch e {
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x0D: if offset < bytes.count, bytes[offset] == 0x0A { offset += 1 }
                case 0x0A: break
                case 0x30...0x37:
                    var value = Int(e - 0x30)
                    for _ in 0..<2 where offset < bytes.count && (0x30...0x37).contains(bytes[offset]) {
                        value = value * 8 + Int(bytes[offset] - 0x30)
                        offset += 1
                    }
                    out.append(UInt8(truncatingIfNeeded: value))
                default: out.append(e)
                }
            case 0x28:
                depth += 1
                out.append(b)
            case 0x29:
                depth -= 1
                if depth == 0 { return out }
                out.append(b)
            default: out.append(b)
            }
        }
        throw PDFError("unterminated string")
    }

    mutating func hexString() throws(PDFError) -> [UInt8] {
        offset += 1
        var out: [UInt8] = []
        var high: UInt8?
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            if b == 0x3E {
                if let high { out.append(high << 4) }
                return out
            }
            if Self.isWhitespace(b) { continue }
            guard let v = PDFHex.value(b) else { throw PDFError("bad hex digit at \(offset)") }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        throw PDFError("unterminated hex string")
    }
}

/// A PDF read through its classic cross-reference tables, newest revision first. esurat's
/// renderer (cairo 1.16) and its own incremental updates write such tables; files with
/// cross-reference streams are refused for signing (a classic table appended after a stream
/// hides the signatures from poppler).
public struct PDFFile: Sendable {
    public struct IndirectObject: Sendable {
        public var value: PDFValue
        /// The raw stream bytes, when the object is a stream.
        public var stream: [UInt8]?
    }

    /// One revision: where its xref section starts, where its %%EOF ends, what it lists.
    public struct Revision: Sendable {
        public var xrefOffset: Int
        public var end: Int
        public var trailer: PDFDictionary
        public var entries: [Int: (offset: Int, generation: Int)]
    }

    public let bytes: [UInt8]
    /// Oldest first.
    public let revisions: [Revision]
    /// Object number → offset, as the newest revision sees it.
    public let offsets: [Int: Int]

    public var trailer: PDFDictionary { revisions.last!.trailer }

    public init(_ bytes: [UInt8]) throws(PDFError) {
        self.bytes = bytes
        var revisions: [Revision] = []
        var next: Int? = try Self.startxref(bytes, before: bytes.count)
        var seen = Set<Int>()
        while let xref = next {
            guard xref >= 0, xref < bytes.count, seen.insert(xref).inserted, seen.count < 1000 else { throw PDFError("bad xref chain") }
            var lexer = PDFLexer(bytes, at: xref)
            let keyword = lexer.word()
            guard keyword == "xref" else { throw PDFError("cross-reference streams are not supported") }
            var entries: [Int: (offset: Int, generation: Int)] = [:]
            while true {
                let saved = lexer.offset
                let first = lexer.word()
                if first == "trailer" { break }
                guard let start = Int(first), let count = Int(lexer.word()), count >= 0, count < 10_000_000 else {
                    lexer.offset = saved
                    throw PDFError("bad xref subsection at \(saved)")
                }
                for index in 0..<count {
                    guard let offset = Int(lexer.word()), let generation = Int(lexer.word()) else { throw PDFError("bad xref entry") }
                    let kind = lexer.word()
                    if kind == "n" { entries[start + index] = (offset, generation) }
                }
            }
            guard case .dictionary(let trailer) = try lexer.value() else { throw PDFError("trailer is not a dictionary") }
            let end = Self.endOfRevision(bytes, after: lexer.offset)
            revisions.append(.init(xrefOffset: xref, end: end, trailer: trailer, entries: entries))
            next = trailer["Prev"]?.integer
        }
        guard !revisions.isEmpty else { throw PDFError("no revision") }
        self.revisions = revisions.reversed()
        var offsets: [Int: Int] = [:]
        for revision in self.revisions {
            for (number, entry) in revision.entries { offsets[number] = entry.offset }
        }
        self.offsets = offsets
    }

    /// The offset the last `startxref` before `limit` names.
    static func startxref(_ bytes: [UInt8], before limit: Int) throws(PDFError) -> Int {
        let marker = Array("startxref".utf8)
        var index = limit - marker.count
        let floor = max(0, limit - 4096)
        while index >= floor {
            if bytes[index] == marker[0], Array(bytes[index..<index + marker.count]) == marker {
                var lexer = PDFLexer(bytes, at: index + marker.count)
                guard let offset = Int(lexer.word()) else { break }
                return offset
            }
            index -= 1
        }
        throw PDFError("no startxref")
    }

    /// The offset just after the `%%EOF` line that closes a revision.
    static func endOfRevision(_ bytes: [UInt8], after offset: Int) -> Int {
        let marker = Array("%%EOF".utf8)
        var index = offset
        while index + marker.count <= bytes.count {
            if bytes[index] == 0x25, Array(bytes[index..<index + marker.count]) == marker {
                var end = index + marker.count
                if end < bytes.count, bytes[end] == 0x0D { end += 1 }
                if end < bytes.count, bytes[end] == 0x0A { end += 1 }
                return end
            }
            index += 1
        }
        return bytes.count
    }

    /// The object as the newest revision has it.
    public func object(_ number: Int) throws(PDFError) -> IndirectObject {
        guard let offset = offsets[number] else { throw PDFError("object \(number) is not in the file") }
        return try object(at: offset, number: number)
    }

    /// The object as a given revision (0 = oldest) and those before it have it.
    public func object(_ number: Int, inRevision revision: Int) throws(PDFError) -> IndirectObject? {
        for index in stride(from: revision, through: 0, by: -1) {
            if let entry = revisions[index].entries[number] { return try object(at: entry.offset, number: number) }
        }
        return nil
    }

    func object(at offset: Int, number: Int) throws(PDFError) -> IndirectObject {
        guard offset >= 0, offset < bytes.count else { throw PDFError("object \(number) lies outside the file") }
        var lexer = PDFLexer(bytes, at: offset)
        guard Int(lexer.word()) == number, Int(lexer.word()) != nil else { throw PDFError("object \(number) is not where the xref says") }
        try lexer.expect("obj")
        let value = try lexer.value()
        let saved = lexer.offset
        if case .dictionary(let dictionary) = value, lexer.word() == "stream" {
            var start = lexer.offset
            if start < bytes.count, bytes[start] == 0x0D { start += 1 }
            if start < bytes.count, bytes[start] == 0x0A { start += 1 }
            var length = dictionary["Length"]?.integer
            if let (n, _) = dictionary["Length"]?.reference, n != number { length = try object(n).value.integer }
            guard let length, length >= 0, start + length <= bytes.count else { throw PDFError("stream \(number) has no usable length") }
            return IndirectObject(value: value, stream: Array(bytes[start..<start + length]))
        }
        lexer.offset = saved
        return IndirectObject(value: value, stream: nil)
    }

    /// Follows a reference to a dictionary.
    public func dictionary(_ value: PDFValue?) throws(PDFError) -> PDFDictionary? {
        switch value {
        case .dictionary(let d)?: return d
        case .reference(let n, _)?: return try object(n).value.dictionary
        default: return nil
        }
    }

    public var rootNumber: Int? { trailer["Root"]?.reference?.0 }

    /// The object numbers of the pages, in order.
    public func pageNumbers() throws(PDFError) -> [Int] {
        guard let root = rootNumber, let catalog = try object(root).value.dictionary, let (pages, _) = catalog["Pages"]?.reference else {
            throw PDFError("no page tree")
        }
        var result: [Int] = []
        var visited = Set<Int>()
        func walk(_ number: Int) throws(PDFError) {
            guard visited.insert(number).inserted, visited.count < 100_000 else { throw PDFError("page tree loops") }
            guard let node = try object(number).value.dictionary else { throw PDFError("page node \(number) is not a dictionary") }
            if node["Type"]?.name == "Pages" {
                for kid in node["Kids"]?.array ?? [] {
                    if let (n, _) = kid.reference { try walk(n) }
                }
            } else {
                result.append(number)
            }
        }
        try walk(pages)
        return result
    }
}
