/// The signatures a PDF holds, read back for checking: their ByteRanges, their CMS or
/// time-stamp tokens, and whether what was appended after each is only signature
/// maintenance (DSS, document time-stamps) — an appended revision that replaces a page
/// leaves the signature mathematically valid, and pdfsig alone would call it valid.
public struct PDFSignature: Sendable {
    public enum Kind: String, Sendable {
        /// /Type /Sig, /SubFilter /ETSI.CAdES.detached (or adbe.pkcs7.detached).
        case signature
        /// /Type /DocTimeStamp, /SubFilter /ETSI.RFC3161.
        case documentTimestamp
    }

    public var fieldName: String
    public var kind: Kind
    public var subFilter: String
    public var byteRange: [Int]
    /// The DER in /Contents, without the zero padding.
    public var contents: [UInt8]
    /// The bytes the ByteRange covers.
    public var signedBytes: [UInt8]
    /// Whether the range covers the whole file but /Contents.
    public var coversWholeFile: Bool
    /// The index of the revision the signature closes.
    public var revision: Int
}

/// What the revisions after a signature changed, judged object by object.
public struct ModificationReport: Sendable {
    /// Changes that are not signature maintenance, in words.
    public var illegitimate: [String]
    public var isMaintenanceOnly: Bool { illegitimate.isEmpty }
}

extension PDFFile {
    /// Every signature and document time-stamp field, oldest first.
    public func signatures() throws(PDFError) -> [PDFSignature] {
        guard let root = rootNumber, let catalog = try object(root).value.dictionary,
              let form = try dictionary(catalog["AcroForm"])
        else { return [] }
        var result: [PDFSignature] = []
        var fields: [PDFValue] = form["Fields"]?.array ?? []
        if let (n, _) = form["Fields"]?.reference { fields = try object(n).value.array ?? [] }
        for field in fields {
            guard let fieldDictionary = try dictionary(field), fieldDictionary["FT"]?.name == "Sig",
                  let value = try dictionary(fieldDictionary["V"])
            else { continue }
            guard let ranges = value["ByteRange"]?.array?.compactMap(\.integer), ranges.count == 4,
                  let raw = value["Contents"]?.bytes
            else { continue }
            let (a, b, c, d) = (ranges[0], ranges[1], ranges[2], ranges[3])
            guard a == 0, b >= 0, c >= b, d >= 0, c + d <= bytes.count else { throw PDFError("a ByteRange lies outside the file") }
            var signed = Array(bytes[0..<b])
            signed += bytes[c..<(c + d)]
            let end = c + d
            let revision = revisions.firstIndex { $0.end >= end } ?? revisions.count - 1
            let kind: PDFSignature.Kind = value["Type"]?.name == "DocTimeStamp" || value["SubFilter"]?.name == "ETSI.RFC3161"
                ? .documentTimestamp : .signature
            result.append(PDFSignature(
                fieldName: fieldDictionary["T"]?.bytes.map(PDFFile.textString) ?? "",
                kind: kind, subFilter: value["SubFilter"]?.name ?? "", byteRange: ranges, contents: Self.trimDER(raw), signedBytes: signed,
                coversWholeFile: end == bytes.count, revision: revision))
        }
        return result.sorted { $0.byteRange[3] + $0.byteRange[2] < $1.byteRange[3] + $1.byteRange[2] }
    }

    /// Checks every revision after `revision`: existing objects may change only as signature
    /// maintenance does — the catalog gaining /DSS or /AcroForm, the AcroForm gaining
    /// fields, a page gaining signature widgets — and new annotations must be signature
    /// fields. Anything else (a replaced page, new content, a FreeText "DIBATALKAN") is
    /// reported.
    public func modifications(after revision: Int) -> ModificationReport {
        var problems: [String] = []
        guard revision + 1 < revisions.count else { return .init(illegitimate: []) }
        for later in (revision + 1)..<revisions.count {
            for (number, _) in revisions[later].entries.sorted(by: { $0.key < $1.key }) {
                do {
                    guard let before = try object(number, inRevision: later - 1) else { continue }  // new object
                    guard let now = try object(number, inRevision: later) else { continue }
                    if before.value == now.value && before.stream == now.stream { continue }
                    guard let old = before.value.dictionary, let new = now.value.dictionary, before.stream == nil, now.stream == nil else {
                        problems.append("object \(number) was replaced in revision \(later + 1)")
                        continue
                    }
                    let changed = Set(old.keys + new.keys).filter { old[$0] != new[$0] }
                    let type = new["Type"]?.name
                    let allowed: Set<String> = switch type {
                    case "Catalog": ["DSS", "AcroForm"]
                    case "Page": ["Annots"]
                    case "DSS": ["Certs", "CRLs", "OCSPs", "VRI"]
                    default: new["Fields"] != nil || old["Fields"] != nil ? ["Fields", "SigFlags"] : []
                    }
                    let forbidden = changed.subtracting(allowed)
                    if !forbidden.isEmpty {
                        problems.append("object \(number) (\(type ?? "untyped")) changed \(forbidden.sorted().joined(separator: ", ")) in revision \(later + 1)")
                    }
                    if changed.contains("Annots") {
                        let oldAnnots = try arrayValue(old["Annots"], atRevision: later - 1)
                        let newAnnots = try arrayValue(new["Annots"], atRevision: later)
                        guard Array(newAnnots.prefix(oldAnnots.count)) == oldAnnots else {
                            problems.append("page object \(number) lost or reordered annotations in revision \(later + 1)")
                            continue
                        }
                        for added in newAnnots.dropFirst(oldAnnots.count) {
                            guard let (n, _) = added.reference, let annotation = try object(n, inRevision: later)?.value.dictionary,
                                  annotation["Subtype"]?.name == "Widget", annotation["FT"]?.name == "Sig"
                            else {
                                problems.append("revision \(later + 1) added an annotation that is not a signature field to page object \(number)")
                                continue
                            }
                        }
                    }
                } catch {
                    problems.append("object \(number) cannot be read: \(error.reason)")
                }
            }
        }
        return .init(illegitimate: problems)
    }

    func arrayValue(_ value: PDFValue?, atRevision revision: Int) throws(PDFError) -> [PDFValue] {
        switch value {
        case .array(let items)?: return items
        case .reference(let n, _)?: return try object(n, inRevision: revision)?.value.array ?? []
        default: return []
        }
    }

    /// The embedded files, by name.
    public func embeddedFiles() throws(PDFError) -> [String: [UInt8]] {
        guard let root = rootNumber, let catalog = try object(root).value.dictionary, let names = try dictionary(catalog["Names"]),
              let tree = try dictionary(names["EmbeddedFiles"]), let list = tree["Names"]?.array
        else { return [:] }
        var result: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < list.count {
            if let name = list[index].bytes, let spec = try dictionary(list[index + 1]), let ef = try dictionary(spec["EF"]),
               let (n, _) = ef["F"]?.reference, let stream = try object(n).stream {
                result[PDFFile.textString(name)] = stream
            }
            index += 2
        }
        return result
    }

    /// A PDF text string: UTF-16BE with its byte-order mark, or PDFDocEncoding (read as Latin-1).
    static func textString(_ bytes: [UInt8]) -> String {
        if bytes.count >= 2, bytes[0] == 0xFE, bytes[1] == 0xFF {
            var units: [UInt16] = []
            var index = 2
            while index + 1 < bytes.count {
                units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
                index += 2
            }
            return String(decoding: units, as: UTF16.self)
        }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    /// /Contents is zero-padded: the DER's own length says where it ends.
    static func trimDER(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x30 else { return bytes }
        let first = Int(bytes[1])
        var length = 0, header = 2
        if first < 0x80 {
            length = first
        } else {
            let count = first & 0x7F
            guard count <= 4, bytes.count >= 2 + count else { return bytes }
            for index in 0..<count { length = length << 8 | Int(bytes[2 + index]) }
            header = 2 + count
        }
        return header + length <= bytes.count ? Array(bytes[0..<(header + length)]) : bytes
    }
}
