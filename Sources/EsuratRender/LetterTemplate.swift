public import Foundation

/// How an installation prints its letters: paper, margins, font, the Pemda's logo. The
/// words on the page (kop, signer, body) come from the signed document; this is only their
/// dress, and it never changes what a letter says.
public struct LetterTemplate: Sendable, Hashable {
    public enum PageSize: String, Sendable, CaseIterable {
        /// 210 × 297 mm.
        case a4 = "A4"
        /// Folio, 215 × 330 mm: the paper many Pemda still print on.
        case f4 = "F4"

        /// Width and height in PDF points (1/72 inch).
        public var points: (width: Double, height: Double) {
            switch self {
            case .a4: (Self.mm(210), Self.mm(297))
            case .f4: (Self.mm(215), Self.mm(330))
            }
        }

        static func mm(_ value: Double) -> Double { value * 72 / 25.4 }
    }

    /// The free fonts the renderer ships with (from Debian's packages).
    public enum Font: String, Sendable, CaseIterable {
        /// A Bookman clone: what "Bookman Old Style" letters look like.
        case bonum = "TeX Gyre Bonum"
        /// Arial's metrics.
        case liberationSans = "Liberation Sans"
    }

    public var pageSize: PageSize
    /// Top, right, bottom and left margins in millimetres.
    public var margins: (top: Double, right: Double, bottom: Double, left: Double)
    public var font: Font
    /// The body's size in points.
    public var fontSize: Double
    /// The lambang daerah printed at the kop's left, as PNG; nil prints none.
    public var logoPNG: [UInt8]?

    public init(pageSize: PageSize = .a4, margins: (top: Double, right: Double, bottom: Double, left: Double) = (20, 20, 20, 25),
                font: Font = .bonum, fontSize: Double = 11.5, logoPNG: [UInt8]? = nil) {
        self.pageSize = pageSize
        self.margins = margins
        self.font = font
        self.fontSize = fontSize
        self.logoPNG = logoPNG
    }

    public static func == (a: LetterTemplate, b: LetterTemplate) -> Bool {
        a.pageSize == b.pageSize && a.margins == b.margins && a.font == b.font && a.fontSize == b.fontSize && a.logoPNG == b.logoPNG
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pageSize)
        hasher.combine(font)
        hasher.combine(fontSize)
        hasher.combine(logoPNG)
    }
}

/// What the printed letter says about its signature, beside the document: who issued the
/// certificate (the footer names the real CA, never BSrE unless BSrE issued it) and where
/// anyone can check it (the QR code).
public struct SignatureFacts: Sendable, Hashable {
    /// The issuing CA's name, from the signer's certificate.
    public var issuer: String
    /// `https://<host>/v/<letter id>?h=<16 hex of the document's SHA-256>`.
    public var verificationURL: String

    public init(issuer: String, verificationURL: String) {
        self.issuer = issuer
        self.verificationURL = verificationURL
    }
}

/// A rendered letter: the PDF (revision 1, unsigned) and where the signature goes.
public struct RenderedLetter: Sendable {
    public var pdf: [UInt8]
    public var pageCount: Int
    /// The page (0-based) holding the signature block.
    public var signaturePage: Int
    /// The signature block's QR area in PDF user space (origin bottom left): x0, y0, x1, y1.
    public var signatureRect: [Double]
}
