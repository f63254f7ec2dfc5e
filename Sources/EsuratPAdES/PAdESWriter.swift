public import Foundation
import EsuratSigning

/// A file carried inside the PDF as an associated file (PDF 2.0 /AF, PDF/A-3): the signed
/// letter embeds its canonical JSON (`Source`) and that JSON's CAdES signature
/// (`Supplement`), so the PDF holds the machine-readable original.
public struct EmbeddedFile: Sendable {
    public var name: String
    public var mediaType: String
    public var bytes: [UInt8]
    /// Source, Supplement, Data, Alternative.
    public var relationship: String
    public var description: String

    public init(name: String, mediaType: String, bytes: [UInt8], relationship: String, description: String) {
        self.name = name
        self.mediaType = mediaType
        self.bytes = bytes
        self.relationship = relationship
        self.description = description
    }
}

/// PAdES baseline signatures by incremental update (ETSI EN 319 142-1): the signature
/// (B-B, with its CMS time-stamp B-T), the document security store (B-LT) and document
/// time-stamps (B-LTA). Each step appends a revision and never rewrites one.
public enum PAdES {
    /// Bytes kept for a signature's CMS: an EC P-256 signature with its chain and time-stamp
    /// token is under 4 KB; an RSA chain from a national CA with OCSP needs far more.
    public static let signatureReserve = 16_384
    public static let timestampReserve = 8_192

    /// Revision 2: the signature field as a visible widget over `rect` on page
    /// `pageIndex`, the embedded files, and the signature. `sign` gets the SHA-256 of the
    /// ByteRange and returns the DER CMS (ETSI.CAdES.detached).
    public static func sign(
        _ pdf: [UInt8], pageIndex: Int, rect: [Double], fieldName: String, signerName: String, at time: Date,
        embedding files: [EmbeddedFile], reserve: Int = signatureReserve, sign: ([UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let file = try PDFFile(pdf)
        let pages = try file.pageNumbers()
        guard pages.indices.contains(pageIndex), rect.count == 4 else { throw PDFError("no page \(pageIndex + 1) for the signature") }
        var update = try IncrementalUpdate(file)
        guard let root = file.rootNumber, var catalog = try file.object(root).value.dictionary else { throw PDFError("no catalog") }

        var specs: [PDFValue] = []
        var names: [PDFValue] = []
        for embedded in files {
            let stream = update.add(.stream(PDFDictionary([
                ("Type", .name("EmbeddedFile")), ("Subtype", .name(embedded.mediaType.replacingOccurrences(of: "/", with: "#2F"))),
                ("Params", .dictionary(PDFDictionary([("Size", .integer(embedded.bytes.count))]))),
            ]), embedded.bytes))
            let spec = update.add(.value(.dictionary(PDFDictionary([
                ("Type", .name("Filespec")), ("F", .text(embedded.name)), ("UF", .text(embedded.name)), ("Desc", .text(embedded.description)),
                ("AFRelationship", .name(embedded.relationship)),
                ("EF", .dictionary(PDFDictionary([("F", stream), ("UF", stream)]))),
            ]))))
            specs.append(spec)
            names += [.text(embedded.name), spec]
        }
        let width = rect[2] - rect[0], height = rect[3] - rect[1]
        // The QR code is in the page itself; the widget's appearance adds nothing over it.
        let appearance = update.add(.stream(PDFDictionary([
            ("Type", .name("XObject")), ("Subtype", .name("Form")), ("BBox", .array([.integer(0), .integer(0), real(width), real(height)])),
            ("Resources", .dictionary(PDFDictionary())),
        ]), []))
        let signature = update.add(.signature(PDFDictionary([
            ("Type", .name("Sig")), ("Filter", .name("Adobe.PPKLite")), ("SubFilter", .name("ETSI.CAdES.detached")),
            ("M", .string(Array(pdfDate(time).utf8))), ("Name", .text(signerName)),
        ]), reserve: reserve))
        let pageRef = PDFValue.reference(pages[pageIndex], 0)
        let widget = update.add(.value(.dictionary(PDFDictionary([
            ("Type", .name("Annot")), ("Subtype", .name("Widget")), ("FT", .name("Sig")), ("T", .text(fieldName)), ("V", signature),
            ("F", .integer(132)), ("Rect", .array(rect.map(real))), ("P", pageRef), ("AP", .dictionary(PDFDictionary([("N", appearance)]))),
        ]))))
        try addField(widget, toPage: pages[pageIndex], catalog: &catalog, file: file, update: &update)
        if !specs.isEmpty {
            catalog["AF"] = .array(specs)
            var nameTree = try file.dictionary(catalog["Names"]) ?? PDFDictionary()
            nameTree["EmbeddedFiles"] = .dictionary(PDFDictionary([("Names", .array(names))]))
            catalog["Names"] = .dictionary(nameTree)
        }
        update.replace(root, with: .dictionary(catalog))
        return try fill(update, reserve: reserve, with: sign)
    }

    /// A revision adding a document security store with the certificates and CRLs a
    /// verifier needs to judge the signatures and time-stamps long after (B-LT).
    public static func addValidationData(_ pdf: [UInt8], certificates: [[UInt8]], crls: [[UInt8]]) throws -> [UInt8] {
        let file = try PDFFile(pdf)
        var update = try IncrementalUpdate(file)
        guard let root = file.rootNumber, var catalog = try file.object(root).value.dictionary else { throw PDFError("no catalog") }
        var store = try file.dictionary(catalog["DSS"]) ?? PDFDictionary([("Type", .name("DSS"))])
        for (key, items) in [("Certs", certificates), ("CRLs", crls)] {
            var list: [PDFValue] = try resolvedArray(store[key], file: file)
            var known = Set<[UInt8]>()
            for item in list {
                if let (n, _) = item.reference, let bytes = try file.object(n).stream { known.insert(bytes) }
            }
            for der in items where known.insert(der).inserted {
                list.append(update.add(.stream(PDFDictionary(), der)))
            }
            store[key] = .array(list)
        }
        catalog["DSS"] = update.add(.value(.dictionary(store)))
        update.replace(root, with: .dictionary(catalog))
        return update.write().bytes
    }

    /// A revision with an RFC 3161 document time-stamp over everything before it (B-LTA):
    /// `timestamp` gets the SHA-256 of the ByteRange and returns the DER token.
    public static func addDocumentTimestamp(_ pdf: [UInt8], fieldName: String, reserve: Int = timestampReserve,
                                            timestamp: ([UInt8]) throws -> [UInt8]) throws -> [UInt8] {
        let file = try PDFFile(pdf)
        var update = try IncrementalUpdate(file)
        guard let root = file.rootNumber, var catalog = try file.object(root).value.dictionary else { throw PDFError("no catalog") }
        let pages = try file.pageNumbers()
        guard let first = pages.first else { throw PDFError("no pages") }
        let signature = update.add(.signature(PDFDictionary([
            ("Type", .name("DocTimeStamp")), ("Filter", .name("Adobe.PPKLite")), ("SubFilter", .name("ETSI.RFC3161")),
        ]), reserve: reserve))
        let widget = update.add(.value(.dictionary(PDFDictionary([
            ("Type", .name("Annot")), ("Subtype", .name("Widget")), ("FT", .name("Sig")), ("T", .text(fieldName)), ("V", signature),
            ("F", .integer(132)), ("Rect", .array([.integer(0), .integer(0), .integer(0), .integer(0)])), ("P", .reference(first, 0)),
        ]))))
        let catalogBefore = catalog
        try addField(widget, toPage: first, catalog: &catalog, file: file, update: &update)
        if catalog != catalogBefore { update.replace(root, with: .dictionary(catalog)) }
        return try fill(update, reserve: reserve, with: timestamp)
    }

    /// Puts the field into the AcroForm (made when there is none) and the widget into the
    /// page's annotations.
    static func addField(_ widget: PDFValue, toPage page: Int, catalog: inout PDFDictionary, file: PDFFile, update: inout IncrementalUpdate) throws {
        if case .reference(let formNumber, _)? = catalog["AcroForm"], var form = try file.object(formNumber).value.dictionary {
            form["Fields"] = .array(try resolvedArray(form["Fields"], file: file) + [widget])
            form["SigFlags"] = .integer(3)
            update.replace(formNumber, with: .dictionary(form))
        } else {
            var form = catalog["AcroForm"]?.dictionary ?? PDFDictionary()
            form["Fields"] = .array(try resolvedArray(form["Fields"], file: file) + [widget])
            form["SigFlags"] = .integer(3)
            catalog["AcroForm"] = update.add(.value(.dictionary(form)))
        }
        guard var pageDictionary = try file.object(page).value.dictionary else { throw PDFError("page \(page) is not a dictionary") }
        pageDictionary["Annots"] = .array(try resolvedArray(pageDictionary["Annots"], file: file) + [widget])
        update.replace(page, with: .dictionary(pageDictionary))
    }

    static func resolvedArray(_ value: PDFValue?, file: PDFFile) throws -> [PDFValue] {
        switch value {
        case .array(let items)?: return items
        case .reference(let n, _)?: return try file.object(n).value.array ?? []
        default: return []
        }
    }

    /// Writes the update, fills in the ByteRange, and puts the CMS (or token) `make` returns
    /// for the range's SHA-256 into /Contents.
    static func fill(_ update: IncrementalUpdate, reserve: Int, with make: ([UInt8]) throws -> [UInt8]) throws -> [UInt8] {
        var (bytes, placeholder) = update.write()
        guard let placeholder else { throw PDFError("no signature placeholder") }
        let after = placeholder.contents.upperBound
        let ranges = [0, placeholder.contents.lowerBound, after, bytes.count - after]
        var rangeText = Array("[\(ranges.map(String.init).joined(separator: " "))]".utf8)
        let width = placeholder.byteRange.count
        guard rangeText.count <= width else { throw PDFError("the file is too large to sign") }
        rangeText += [UInt8](repeating: 0x20, count: width - rangeText.count)
        bytes.replaceSubrange(placeholder.byteRange, with: rangeText)
        var signed = Array(bytes[0..<ranges[1]])
        signed += bytes[after...]
        let cms = try make(try Digest.sha256(signed))
        guard cms.count <= reserve else { throw PDFError("the signature (\(cms.count) bytes) exceeds the \(reserve) bytes reserved") }
        let hex = Array(PDFHex.encode(cms).utf8)
        bytes.replaceSubrange((placeholder.contents.lowerBound + 1)..<(placeholder.contents.lowerBound + 1 + hex.count), with: hex)
        return bytes
    }

    static func real(_ value: Double) -> PDFValue { .real(String(format: "%.2f", value)) }

    /// "D:20261207033000Z".
    static func pdfDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "D:%04d%02d%02d%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
