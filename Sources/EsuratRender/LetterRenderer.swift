internal import CPangoCairo
public import EsuratDomain
public import Foundation
import Synchronization

/// Lays a signed letter document out as a naskah dinas PDF (Tata Naskah Dinas: kop, Nomor,
/// Sifat, Lampiran, Hal, Yth., body, signature block with the QR code, tembusan, the TTE
/// footer and page numbers on every page, and a lampiran page listing the attachments) with
/// cairo and pango. Pure: document, template and signature facts in, PDF bytes out.
///
/// Fonts come from a private fontconfig that knows only the pinned font files, so two
/// servers print the same letter the same way and the same input gives the same bytes.
/// Pango's font map is not safe to share between threads, so rendering takes a lock; a
/// letter takes about 10 ms.
public final class LetterRenderer: Sendable {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case fontMissing(String)
        case cairo(String)

        public var description: String {
            switch self {
            case .fontMissing(let path): "the font file \(path) is missing (install fonts-texgyre and fonts-liberation2)"
            case .cairo(let what): "cairo failed: \(what)"
            }
        }
    }

    /// Debian's files of the fonts a template may choose.
    public static let fontFiles: [String] = [
        "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-regular.otf",
        "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-bold.otf",
        "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-italic.otf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Italic.ttf",
    ]

    /// Reached only through its slot's mutex.
    struct FontMap: ~Copyable, @unchecked Sendable {
        let pointer: UnsafeMutablePointer<PangoFontMap>
        deinit { CPangoCairo_unref(pointer) }
    }

    /// One font map per core: a pango font map (and its caches) must not be used by two
    /// threads at once, and with one map signings on both blocking threads would queue for
    /// the renderer.
    private final class Slot: Sendable {
        let map: Mutex<FontMap>
        init(_ pointer: UnsafeMutablePointer<PangoFontMap>) { map = Mutex(FontMap(pointer: pointer)) }
    }
    private let slots: [Slot]

    public init(fontFiles: [String] = LetterRenderer.fontFiles, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        var slots: [Slot] = []
        for _ in 0..<max(1, min(concurrency, 8)) {
            guard let config = FcConfigCreate() else { throw Failure.cairo("FcConfigCreate") }
            for file in fontFiles {
                guard FileManager.default.fileExists(atPath: file), FcConfigAppFontAddFile(config, file) == FcTrue else {
                    FcConfigDestroy(config)
                    throw Failure.fontMissing(file)
                }
            }
            guard let map = pango_cairo_font_map_new() else { throw Failure.cairo("pango_cairo_font_map_new") }
            CPangoCairo_setFontConfig(map, config)
            FcConfigDestroy(config)
            slots.append(Slot(map))
        }
        self.slots = slots
    }

    /// The letter as a PDF of one revision, unsigned, with room for the signature at the
    /// signature block.
    public func render(_ document: CanonicalLetterDocument, template: LetterTemplate, signature: SignatureFacts) throws -> RenderedLetter {
        func draw(_ map: borrowing FontMap) throws -> RenderedLetter {
            var page = try PageLayout(document: document, template: template, signature: signature, fontMap: map.pointer)
            return try page.render()
        }
        for slot in slots {
            if let rendered = try slot.map.withLockIfAvailable({ try draw($0) }) { return rendered }
        }
        return try slots[Int.random(in: 0..<slots.count)].map.withLock { try draw($0) }
    }
}

/// One rendering: measures every block with pango, breaks pages, then draws.
struct PageLayout {
    enum Operation {
        case layout(OpaquePointer, x: Double, y: Double)
        case line(OpaquePointer, index: Int32, x: Double, baseline: Double)
        case rule(x0: Double, x1: Double, y: Double, width: Double)
        case qr(QRMatrix, x: Double, y: Double, size: Double)
        case logo(x: Double, y: Double, height: Double)
    }

    let document: CanonicalLetterDocument
    let template: LetterTemplate
    let signature: SignatureFacts
    let width: Double, height: Double
    let left: Double, right: Double, top: Double, bottom: Double
    let footerHeight = 46.0
    let sink = ByteSink()
    let surface: OpaquePointer
    let cairo: OpaquePointer
    let context: OpaquePointer
    var layouts: [OpaquePointer] = []
    var pages: [[Operation]] = [[]]
    var y: Double
    var signaturePage = 0
    var signatureRect: [Double] = [0, 0, 0, 0]
    var logo: OpaquePointer?

    var contentWidth: Double { right - left }
    var limit: Double { height - bottom - footerHeight }
    var scale: Double { Double(CPangoCairo_scale()) }

    init(document: CanonicalLetterDocument, template: LetterTemplate, signature: SignatureFacts, fontMap: UnsafeMutablePointer<PangoFontMap>) throws {
        self.document = document
        self.template = template
        self.signature = signature
        (width, height) = template.pageSize.points
        let mm = LetterTemplate.PageSize.mm
        left = mm(template.margins.left)
        right = width - mm(template.margins.right)
        top = mm(template.margins.top)
        bottom = mm(template.margins.bottom)
        y = top
        guard let surface = cairo_pdf_surface_create_for_stream({ closure, data, length in
            let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque(), width, height) else { throw LetterRenderer.Failure.cairo("surface") }
        self.surface = surface
        // Fixed dates make the same document give the same bytes.
        let day = String(format: "%04d-%02d-%02dT00:00:00", document.date.year, document.date.month, document.date.day)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, day)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, day)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "\(document.type.title) \(document.number)")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, document.sender.name)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "esurat")
        cairo = cairo_create(surface)
        context = pango_font_map_create_context(fontMap)
        // Unhinted metrics: layout in points, the same on every device.
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        pango_cairo_context_set_font_options(context, options)
        cairo_font_options_destroy(options)
        pango_cairo_update_context(cairo, context)
        if let png = template.logoPNG {
            logo = PNGReader.surface(png)
        }
    }

    mutating func render() throws -> RenderedLetter {
        defer {
            for layout in layouts { CPangoCairo_unref(UnsafeMutableRawPointer(layout)) }
            if let logo { cairo_surface_destroy(logo) }
            CPangoCairo_unref(UnsafeMutableRawPointer(context))
            cairo_destroy(cairo)
            cairo_surface_destroy(surface)
        }
        letterhead()
        switch document.type {
        case .suratDinas, .undangan: correspondenceHeading()
        case .notaDinas, .memo: memoHeading()
        default: titledHeading()
        }
        body()
        signatureBlock()
        copies()
        let letterPages = pages.count
        attachmentPages()
        draw(letterPages: letterPages)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw LetterRenderer.Failure.cairo(String(cString: cairo_status_to_string(status))) }
        return RenderedLetter(pdf: sink.bytes, pageCount: pages.count, signaturePage: signaturePage, signatureRect: signatureRect)
    }

    // MARK: blocks

    mutating func letterhead() {
        let kop = document.letterhead ?? .init(government: "", unit: document.sender.name, address: "", contacts: "", place: "")
        let logoHeight = 64.0
        let hasLogo = logo != nil
        // The text is centred on the page whether or not a logo sits at the left.
        let inset = hasLogo ? logoHeight + 8 : 0
        let textWidth = contentWidth - 2 * inset
        let start = y
        var lines: [(String, Double, Bool)] = []
        if !kop.government.isEmpty { lines.append((kop.government.uppercased(), 13.5, true)) }
        lines.append((kop.unit.uppercased(), 15.5, true))
        if !kop.address.isEmpty { lines.append((kop.address, 9.5, false)) }
        if !kop.contacts.isEmpty { lines.append((kop.contacts, 9.5, false)) }
        for (text, size, bold) in lines {
            let layout = makeLayout(text, size: size, bold: bold, width: textWidth, alignment: PANGO_ALIGN_CENTER)
            emit(.layout(layout, x: left + inset, y: y))
            y += extent(layout)
        }
        if hasLogo {
            let height = max(logoHeight, y - start)
            emit(.logo(x: left, y: start + (y - start - min(logoHeight, height)) / 2, height: min(logoHeight, height)))
        }
        y += 4
        emit(.rule(x0: left, x1: right, y: y, width: 2.2))
        emit(.rule(x0: left, x1: right, y: y + 3.2, width: 0.7))
        y += 16
    }

    var place: String { document.letterhead?.place ?? "" }
    var datedLine: String { place.isEmpty ? document.date.indonesian : "\(place), \(document.date.indonesian)" }

    var sifat: String {
        let security = switch document.securityLevel {
        case .biasa: "Biasa"
        case .terbatas: "Terbatas"
        case .rahasia: "Rahasia"
        case .sangatRahasia: "Sangat Rahasia"
        }
        return document.urgency == .biasa ? security : "\(security), \(document.urgency.title)"
    }

    var lampiran: String {
        document.attachments.isEmpty ? "-" : "\(document.attachments.count) (\(IndonesianNumber.words(document.attachments.count))) berkas"
    }

    /// "Kepala Dinas Pendidikan": letters are addressed to the unit's head.
    static func addressee(_ unit: CanonicalLetterDocument.UnitReference) -> String {
        let name = unit.name
        let lower = name.lowercased()
        if lower.hasPrefix("sekretariat daerah") { return "Sekretaris Daerah" + name.dropFirst("Sekretariat Daerah".count) }
        for head in ["kepala ", "bupati", "wali", "sekretaris ", "camat ", "lurah ", "gubernur", "menteri"] where lower.hasPrefix(head) { return name }
        if lower.hasPrefix("kecamatan ") { return "Camat " + name.dropFirst("Kecamatan ".count) }
        if lower.hasPrefix("kelurahan ") { return "Lurah " + name.dropFirst("Kelurahan ".count) }
        return "Kepala \(name)"
    }

    /// Label, colon and value rows ("Nomor : …"), the value wrapping under itself.
    mutating func rows(_ rows: [(String, String)], labelWidth: Double, width: Double, size: Double) {
        for (label, value) in rows {
            let labelLayout = makeLayout(label, size: size, width: labelWidth)
            let colon = makeLayout(":", size: size, width: 8)
            let valueLayout = makeLayout(value, size: size, width: width - labelWidth - 10)
            let rowHeight = max(extent(labelLayout), extent(valueLayout))
            breakIfNeeded(rowHeight)
            emit(.layout(labelLayout, x: left, y: y))
            emit(.layout(colon, x: left + labelWidth, y: y))
            emit(.layout(valueLayout, x: left + labelWidth + 10, y: y))
            y += rowHeight
        }
    }

    mutating func correspondenceHeading() {
        let size = template.fontSize
        let dateLayout = makeLayout(datedLine, size: size, width: contentWidth, alignment: PANGO_ALIGN_RIGHT)
        emit(.layout(dateLayout, x: left, y: y))
        y += extent(dateLayout) + 6
        rows([("Nomor", document.number), ("Sifat", sifat), ("Lampiran", lampiran), ("Hal", document.subject)],
             labelWidth: 62, width: contentWidth * 0.62, size: size)
        y += 14
        addressBlock(size: size)
        y += 12
    }

    mutating func addressBlock(size: Double) {
        let names = document.recipients.map(Self.addressee)
        let yth = makeLayout("Yth.", size: size, width: 30)
        var lines: [OpaquePointer] = []
        if names.count == 1 {
            lines.append(makeLayout(names[0], size: size, width: contentWidth * 0.6))
        } else {
            for (index, name) in names.enumerated() {
                lines.append(makeLayout("\(index + 1). \(name)", size: size, width: contentWidth * 0.6, hangingIndent: 14))
            }
        }
        let di = makeLayout("di", size: size, width: 40)
        let tempat = makeLayout(place.isEmpty ? "Tempat" : place, size: size, width: contentWidth * 0.6)
        let blockHeight = lines.reduce(0) { $0 + extent($1) } + extent(di) + extent(tempat)
        breakIfNeeded(blockHeight)
        emit(.layout(yth, x: left, y: y))
        for line in lines {
            emit(.layout(line, x: left + 30, y: y))
            y += extent(line)
        }
        emit(.layout(di, x: left + 30, y: y))
        y += extent(di)
        emit(.layout(tempat, x: left + 52, y: y))
        y += extent(tempat)
    }

    mutating func memoHeading() {
        let size = template.fontSize
        let title = makeLayout(document.type.title.uppercased(), size: size + 2, bold: true, width: contentWidth, alignment: PANGO_ALIGN_CENTER)
        emit(.layout(title, x: left, y: y))
        y += extent(title) + 10
        var table = [("Yth.", document.recipients.map(Self.addressee).joined(separator: "; ")), ("Dari", document.signer.positionTitle)]
        if !document.copies.isEmpty { table.append(("Tembusan", document.copies.map(Self.addressee).joined(separator: "; "))) }
        table += [("Tanggal", document.date.indonesian), ("Nomor", document.number), ("Sifat", sifat), ("Lampiran", lampiran), ("Hal", document.subject)]
        rows(table, labelWidth: 62, width: contentWidth, size: size)
        y += 5
        emit(.rule(x0: left, x1: right, y: y, width: 0.9))
        y += 14
    }

    mutating func titledHeading() {
        let size = template.fontSize
        let title = makeLayout(document.type.title.uppercased(), size: size + 2, bold: true, width: contentWidth, alignment: PANGO_ALIGN_CENTER)
        emit(.layout(title, x: left, y: y))
        y += extent(title)
        let number = makeLayout("NOMOR \(document.number)", size: size, width: contentWidth, alignment: PANGO_ALIGN_CENTER)
        emit(.layout(number, x: left, y: y))
        y += extent(number) + 8
        let about = makeLayout("TENTANG\n\(document.subject.uppercased())", size: size, bold: true, width: contentWidth * 0.85, alignment: PANGO_ALIGN_CENTER)
        emit(.layout(about, x: left + contentWidth * 0.075, y: y))
        y += extent(about) + 14
    }

    /// The body, paragraph by paragraph, justified, broken across pages line by line.
    mutating func body() {
        let paragraphs = document.body.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for paragraph in paragraphs {
            let layout = makeLayout(paragraph, size: template.fontSize, width: contentWidth, justify: true, indent: 36)
            pango_layout_set_spacing(layout, Int32(template.fontSize * 0.25 * scale))
            flowLines(layout, x: left)
            y += template.fontSize * 0.6
        }
    }

    mutating func flowLines(_ layout: OpaquePointer, x: Double) {
        guard let iterator = pango_layout_get_iter(layout) else { return }
        defer { pango_layout_iter_free(iterator) }
        var index: Int32 = 0
        var previousBottom = 0.0
        let count = pango_layout_get_line_count(layout)
        repeat {
            var logical = PangoRectangle()
            pango_layout_iter_get_line_extents(iterator, nil, &logical)
            let lineTop = Double(logical.y) / scale
            let lineHeight = Double(logical.height) / scale
            let baseline = Double(pango_layout_iter_get_baseline(iterator)) / scale
            let gap = index == 0 ? 0 : lineTop - previousBottom
            // No widow: the paragraph's last line never starts a page alone.
            let widow = count > 2 && index == count - 2 && y + 2 * (gap + lineHeight) > limit
            if y + gap + lineHeight > limit || widow { newPage() } else { y += gap }
            emit(.line(layout, index: index, x: x + Double(logical.x) / scale, baseline: y + baseline - lineTop))
            y += lineHeight
            previousBottom = lineTop + lineHeight
            index += 1
        } while pango_layout_iter_next_line(iterator) != 0
    }

    /// Jabatan (with a.n./Plt./Plh. as printed), the QR code where the wet signature went,
    /// the name, the rank and the NIP; kept together on one page.
    mutating func signatureBlock() {
        let size = template.fontSize
        let blockWidth = contentWidth * 0.48
        let x = right - blockWidth
        var top: [OpaquePointer] = []
        if document.type != .suratDinas && document.type != .undangan && document.type != .notaDinas && document.type != .memo {
            top.append(makeLayout(datedLine, size: size, width: blockWidth, alignment: PANGO_ALIGN_CENTER))
        }
        var printed = document.signer.printedBlock.map { $0.uppercased() }
        if let last = printed.indices.last { printed[last] += "," }
        top.append(makeLayout(printed.joined(separator: "\n"), size: size, width: blockWidth, alignment: PANGO_ALIGN_CENTER))
        let qrSize = 74.0
        let name = makeLayout(document.signer.name, size: size, bold: true, width: blockWidth, alignment: PANGO_ALIGN_CENTER, underline: true)
        var under: [OpaquePointer] = []
        if let rank = document.signer.rank, !rank.isEmpty { under.append(makeLayout(rank, size: size, width: blockWidth, alignment: PANGO_ALIGN_CENTER)) }
        if !document.signer.nip.isEmpty { under.append(makeLayout("NIP. \(document.signer.nip)", size: size, width: blockWidth, alignment: PANGO_ALIGN_CENTER)) }
        let total = top.reduce(0) { $0 + extent($1) } + qrSize + 12 + extent(name) + under.reduce(0) { $0 + extent($1) } + 6
        y += 6
        breakIfNeeded(total)
        for layout in top {
            emit(.layout(layout, x: x, y: y))
            y += extent(layout)
        }
        y += 6
        let qrX = x + (blockWidth - qrSize) / 2
        emit(.qr(QRMatrix(signature.verificationURL), x: qrX, y: y, size: qrSize))
        signaturePage = pages.count - 1
        signatureRect = [qrX, height - (y + qrSize), qrX + qrSize, height - y]
        y += qrSize + 6
        emit(.layout(name, x: x, y: y))
        y += extent(name)
        for layout in under {
            emit(.layout(layout, x: x, y: y))
            y += extent(layout)
        }
        y += 14
    }

    mutating func copies() {
        guard !document.copies.isEmpty, document.type != .notaDinas, document.type != .memo else { return }
        let size = template.fontSize - 1
        let heading = makeLayout("Tembusan:", size: size, width: contentWidth)
        let names = document.copies.map(Self.addressee)
        let items = names.enumerated().map { index, name in
            makeLayout("\(index + 1). Yth. \(name)\(index == names.count - 1 ? "." : ";")", size: size, width: contentWidth * 0.7, hangingIndent: 14)
        }
        breakIfNeeded(extent(heading) + (items.first.map(extent) ?? 0))
        emit(.layout(heading, x: left, y: y))
        y += extent(heading)
        for item in items {
            breakIfNeeded(extent(item))
            emit(.layout(item, x: left, y: y))
            y += extent(item)
        }
    }

    /// A page listing the attachments, their sizes and SHA-256, so a printed letter says
    /// what went with it.
    mutating func attachmentPages() {
        guard !document.attachments.isEmpty else { return }
        newPage()
        let size = template.fontSize - 1
        let heading = makeLayout("LAMPIRAN", size: size + 1, bold: true, width: contentWidth)
        emit(.layout(heading, x: left, y: y))
        y += extent(heading) + 4
        rows([("Surat", "\(document.type.title) \(document.sender.name)"), ("Nomor", document.number), ("Tanggal", document.date.indonesian),
              ("Hal", document.subject)], labelWidth: 62, width: contentWidth, size: size)
        y += 12
        let title = makeLayout("Daftar berkas lampiran", size: size, bold: true, width: contentWidth)
        emit(.layout(title, x: left, y: y))
        y += extent(title) + 4
        for (index, attachment) in document.attachments.enumerated() {
            let number = makeLayout("\(index + 1).", size: size, width: 22)
            let text = "\(attachment.name)\n\(attachment.mediaType), \(Self.size(attachment.size))\nSHA-256: \(attachment.sha256)"
            let entry = makeLayout(text, size: size, width: contentWidth - 24)
            breakIfNeeded(extent(entry))
            emit(.layout(number, x: left, y: y))
            emit(.layout(entry, x: left + 24, y: y))
            y += extent(entry) + 6
        }
    }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bita" }
        if bytes < 1024 * 1024 { return String(format: "%.1f KB", Double(bytes) / 1024).replacingOccurrences(of: ".", with: ",") }
        return String(format: "%.1f MB", Double(bytes) / 1024 / 1024).replacingOccurrences(of: ".", with: ",")
    }

    // MARK: pages and drawing

    mutating func emit(_ operation: Operation) { pages[pages.count - 1].append(operation) }

    mutating func newPage() {
        pages.append([])
        y = top
    }

    mutating func breakIfNeeded(_ needed: Double) {
        if y + needed > limit { newPage() }
    }

    /// Draws every page, with the footer: the TTE statement naming the real issuer and the
    /// verification address, and "Halaman i dari n" on the letter's pages.
    mutating func draw(letterPages: Int) {
        let footerText = "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang diterbitkan oleh "
            + "\(signature.issuer). Keaslian dokumen dapat diperiksa dengan memindai kode QR atau melalui \(signature.verificationURL)"
        let footer = makeLayout(footerText, size: 7.5, italic: true, width: contentWidth * 0.78)
        for (index, operations) in pages.enumerated() {
            for operation in operations { perform(operation) }
            let footerTop = height - bottom - extent(footer)
            cairo_set_line_width(cairo, 0.5)
            cairo_move_to(cairo, left, footerTop - 5)
            cairo_line_to(cairo, right, footerTop - 5)
            cairo_stroke(cairo)
            perform(.layout(footer, x: left, y: footerTop))
            let label = index < letterPages ? "Halaman \(index + 1) dari \(letterPages)" : "Lampiran"
            let number = makeLayout(label, size: 8, width: contentWidth * 0.2, alignment: PANGO_ALIGN_RIGHT)
            perform(.layout(number, x: right - contentWidth * 0.2, y: footerTop))
            cairo_show_page(cairo)
        }
    }

    func perform(_ operation: Operation) {
        switch operation {
        case .layout(let layout, let x, let y):
            cairo_move_to(cairo, x, y)
            pango_cairo_show_layout(cairo, layout)
        case .line(let layout, let index, let x, let baseline):
            cairo_move_to(cairo, x, baseline)
            pango_cairo_show_layout_line(cairo, pango_layout_get_line_readonly(layout, index))
        case .rule(let x0, let x1, let y, let width):
            cairo_set_line_width(cairo, width)
            cairo_move_to(cairo, x0, y)
            cairo_line_to(cairo, x1, y)
            cairo_stroke(cairo)
        case .qr(let matrix, let x, let y, let size):
            // One rectangle per horizontal run of dark modules, not per module: the path is
            // written out as text and deflated, and per module it was most of page 1's
            // content stream (57 KB) and of the render's time.
            let module = size / Double(matrix.size)
            for row in 0..<matrix.size {
                var column = 0
                while column < matrix.size {
                    guard matrix.dark(row: row, column: column) else { column += 1; continue }
                    let start = column
                    while column < matrix.size, matrix.dark(row: row, column: column) { column += 1 }
                    cairo_rectangle(cairo, x + Double(start) * module, y + Double(row) * module, Double(column - start) * module, module)
                }
            }
            cairo_fill(cairo)
        case .logo(let x, let y, let height):
            guard let logo else { return }
            let imageHeight = Double(cairo_image_surface_get_height(logo))
            guard imageHeight > 0 else { return }
            cairo_save(cairo)
            cairo_translate(cairo, x, y)
            cairo_scale(cairo, height / imageHeight, height / imageHeight)
            cairo_set_source_surface(cairo, logo, 0, 0)
            cairo_paint(cairo)
            cairo_restore(cairo)
        }
    }

    /// A pango layout of plain text (never markup: the text is the user's).
    mutating func makeLayout(_ text: String, size: Double, bold: Bool = false, italic: Bool = false, width: Double,
                             alignment: PangoAlignment = PANGO_ALIGN_LEFT, justify: Bool = false, indent: Double = 0,
                             hangingIndent: Double = 0, underline: Bool = false) -> OpaquePointer {
        let layout = pango_layout_new(context)!
        layouts.append(layout)
        let description = pango_font_description_new()
        pango_font_description_set_family(description, template.font.rawValue)
        pango_font_description_set_absolute_size(description, size * scale)
        pango_font_description_set_weight(description, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_font_description_set_style(description, italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL)
        pango_layout_set_font_description(layout, description)
        pango_font_description_free(description)
        pango_layout_set_width(layout, Int32(width * scale))
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
        pango_layout_set_alignment(layout, alignment)
        pango_layout_set_justify(layout, justify ? 1 : 0)
        if indent != 0 { pango_layout_set_indent(layout, Int32(indent * scale)) }
        if hangingIndent != 0 { pango_layout_set_indent(layout, Int32(-hangingIndent * scale)) }
        if underline, let attributes = pango_attr_list_new() {
            pango_attr_list_insert(attributes, pango_attr_underline_new(PANGO_UNDERLINE_SINGLE))
            pango_layout_set_attributes(layout, attributes)
            pango_attr_list_unref(attributes)
        }
        pango_layout_set_text(layout, text, -1)
        return layout
    }

    func extent(_ layout: OpaquePointer) -> Double {
        var w: Int32 = 0, h: Int32 = 0
        pango_layout_get_size(layout, &w, &h)
        return Double(h) / scale
    }
}

/// Collects what cairo writes.
final class ByteSink {
    var bytes: [UInt8] = []
}

/// The lambang daerah, read from PNG bytes.
extension LetterTemplate {
    /// The largest logo accepted, in pixels each way: cairo decodes an image at 4 bytes a
    /// pixel, and a small, well-compressed PNG could otherwise ask for gigabytes.
    public static let maxLogoPixels = 2_000

    /// Why `png` cannot be the kop's logo, or nil when it can: it must be a PNG of at most
    /// ``maxLogoPixels`` each way that cairo decodes (a file that only starts like a PNG
    /// would otherwise be accepted and then silently left off every letter).
    public static func logoProblem(_ png: [UInt8]) -> String? {
        guard let (width, height) = PNGReader.dimensions(png) else { return "must be a PNG image" }
        guard (1...maxLogoPixels).contains(width), (1...maxLogoPixels).contains(height) else {
            return "must be at most \(maxLogoPixels) × \(maxLogoPixels) pixels (this one is \(width) × \(height))"
        }
        guard let surface = PNGReader.surface(png) else { return "is not a readable PNG image" }
        cairo_surface_destroy(surface)
        return nil
    }
}

enum PNGReader {
    /// Width and height from the IHDR chunk, which a PNG must begin with.
    static func dimensions(_ png: [UInt8]) -> (width: Int, height: Int)? {
        guard png.count >= 24, png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), Array(png[12..<16]) == Array("IHDR".utf8) else {
            return nil
        }
        let number = { (range: Range<Int>) in png[range].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16..<20), number(20..<24))
    }

    final class Cursor {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// The decoded image, or nil when it is no PNG, too large (see
    /// ``LetterTemplate/maxLogoPixels``) or broken.
    static func surface(_ png: [UInt8]) -> OpaquePointer? {
        guard let (width, height) = dimensions(png), (1...LetterTemplate.maxLogoPixels).contains(width),
              (1...LetterTemplate.maxLogoPixels).contains(height)
        else { return nil }
        let cursor = Cursor(png)
        let surface = withExtendedLifetime(cursor) {
            cairo_image_surface_create_from_png_stream({ closure, data, length in
                let cursor = Unmanaged<Cursor>.fromOpaque(closure!).takeUnretainedValue()
                let count = Int(length)
                guard cursor.offset + count <= cursor.bytes.count, let data else { return CAIRO_STATUS_READ_ERROR }
                cursor.bytes.withUnsafeBufferPointer { buffer in
                    data.update(from: buffer.baseAddress! + cursor.offset, count: count)
                }
                cursor.offset += count
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(cursor).toOpaque())
        }
        guard let surface, cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            if let surface { cairo_surface_destroy(surface) }
            return nil
        }
        return surface
    }
}
