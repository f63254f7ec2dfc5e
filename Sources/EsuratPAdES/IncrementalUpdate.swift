/// One incremental update (ISO 32000-1 §7.5.6): new and replaced objects appended after the
/// file, with their own cross-reference section and a trailer pointing back. Nothing before
/// is touched, so earlier signatures stay valid.
struct IncrementalUpdate {
    enum Body {
        case value(PDFValue)
        case stream(PDFDictionary, [UInt8])
        /// A signature dictionary whose /ByteRange and /Contents are filled in after writing.
        case signature(PDFDictionary, reserve: Int)
    }

    let file: PDFFile
    private(set) var nextNumber: Int
    private var objects: [(number: Int, body: Body)] = []

    init(_ file: PDFFile) throws(PDFError) {
        guard let size = file.trailer["Size"]?.integer, size > 0 else { throw PDFError("trailer has no /Size") }
        guard file.trailer["Encrypt"] == nil else { throw PDFError("encrypted PDFs are not signed here") }
        self.file = file
        nextNumber = size
    }

    mutating func add(_ body: Body) -> PDFValue {
        let number = nextNumber
        nextNumber += 1
        objects.append((number, body))
        return .reference(number, 0)
    }

    mutating func replace(_ number: Int, with value: PDFValue) {
        objects.removeAll { $0.number == number }
        objects.append((number, .value(value)))
    }

    /// Where the placeholders of a signature dictionary ended up.
    struct Placeholder {
        var byteRange: Range<Int>
        /// The `<…>` of /Contents, brackets included.
        var contents: Range<Int>
    }

    /// The file with this update appended, and the signature placeholder if there is one.
    func write() -> (bytes: [UInt8], placeholder: Placeholder?) {
        var out = file.bytes
        if out.last != 0x0A { out.append(0x0A) }
        var offsets: [(Int, Int)] = []
        var placeholder: Placeholder?
        for (number, body) in objects {
            offsets.append((number, out.count))
            out += Array("\(number) 0 obj\n".utf8)
            switch body {
            case .value(let value):
                value.write(into: &out)
            case .stream(var dictionary, let data):
                dictionary["Length"] = .integer(data.count)
                dictionary.write(into: &out)
                out += Array("\nstream\n".utf8)
                out += data
                out += Array("\nendstream".utf8)
            case .signature(let dictionary, let reserve):
                dictionary.write(into: &out)
                // The dictionary ends with " >>": put the two placeholders before it.
                out.removeLast(3)
                out += Array(" /ByteRange ".utf8)
                let rangeStart = out.count
                out += Array("[0 0000000000 0000000000 0000000000]".utf8)
                let rangeEnd = out.count
                out += Array(" /Contents ".utf8)
                let contentsStart = out.count
                out.append(0x3C)
                out += [UInt8](repeating: 0x30, count: reserve * 2)
                out.append(0x3E)
                placeholder = .init(byteRange: rangeStart..<rangeEnd, contents: contentsStart..<out.count)
                out += Array(" >>".utf8)
            }
            out += Array("\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n".utf8)
        let sorted = offsets.sorted { $0.0 < $1.0 }
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1].0 == sorted[end].0 + 1 { end += 1 }
            out += Array("\(sorted[index].0) \(end - index + 1)\n".utf8)
            for entry in sorted[index...end] {
                let offset = String(entry.1)
                out += Array((String(repeating: "0", count: max(0, 10 - offset.count)) + offset + " 00000 n \n").utf8)
            }
            index = end + 1
        }
        var trailer = PDFDictionary([("Size", .integer(nextNumber)), ("Root", file.trailer["Root"]!)])
        if let info = file.trailer["Info"] { trailer["Info"] = info }
        if let id = file.trailer["ID"] { trailer["ID"] = id }
        trailer["Prev"] = .integer(file.revisions.last!.xrefOffset)
        out += Array("trailer\n".utf8)
        trailer.write(into: &out)
        out += Array("\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return (out, placeholder)
    }
}
