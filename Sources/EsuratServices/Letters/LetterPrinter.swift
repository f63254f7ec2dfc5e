public import EsuratDomain
public import EsuratPAdES
public import EsuratPostgres
public import EsuratRender
public import EsuratSigning
public import Foundation

/// Makes the letter's PDF at signing: renders the signed document with the installation's
/// template, then signs it PAdES B-LTA with the same key and TSA as the CAdES signature,
/// embedding the canonical JSON and that signature.
public final class LetterPrinter: Sendable {
    let renderer: LetterRenderer
    /// The address people reach the server at, for the QR code: `https://esurat.<pemda>.go.id`.
    public let publicURL: String

    public init(publicURL: String) throws {
        renderer = try LetterRenderer()
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
    }

    /// The public verification address the QR code holds: the letter and the first 16 hex
    /// digits of its document's SHA-256 (the QR is signed content, so it cannot hold the
    /// PDF's own hash).
    public func verificationURL(letter id: UUID, documentSHA256 hex: String) -> String {
        "\(publicURL)/v/\(id.lowercasedString)?h=\(hex.prefix(16))"
    }

    /// The installation's template, from its row in `letter_template`.
    static func template(_ row: PostgresRow) throws -> (template: LetterTemplate, government: String, place: String) {
        let template = LetterTemplate(
            pageSize: LetterTemplate.PageSize(rawValue: try row.decode("page_size")) ?? .a4,
            margins: (try row.decode("margin_top"), try row.decode("margin_right"), try row.decode("margin_bottom"), try row.decode("margin_left")),
            font: LetterTemplate.Font(rawValue: try row.decode("font")) ?? .bonum, fontSize: try row.decode("font_size"),
            logoPNG: try row.decode("logo_png", as: PostgresBytes?.self)?.bytes)
        return (template, try row.decode("government"), try row.decode("place"))
    }

    /// Render and sign; pure CPU, for the blocking pool.
    func signedPDF(
        document: CanonicalLetterDocument, bytes: [UInt8], cades: [UInt8], template: LetterTemplate, signer: CMSSigner,
        material: PAdESLetter.ValidationMaterial, timestampAuthority: TimestampAuthority, at time: Date
    ) throws -> [UInt8] {
        let facts = SignatureFacts(
            issuer: signer.certificate.issuerCommonName ?? signer.certificate.issuer,
            verificationURL: verificationURL(letter: document.letterID, documentSHA256: Digest.hex(try Digest.sha256(bytes))))
        let rendered = try renderer.render(document, template: template, signature: facts)
        return try PAdESLetter.sign(
            pdf: rendered.pdf, pageIndex: rendered.signaturePage, rect: rendered.signatureRect, document: bytes, documentSignature: cades,
            signer: signer, signerName: document.signer.name, material: material, timestampAuthority: timestampAuthority, at: time)
    }
}

extension PKIService {
    /// What a letter's PDF carries for validation decades later: the signer's certificate,
    /// the CA chain and the TSA's certificate, the issuing CA's newest CRL and the root's.
    func validationMaterial(signer: Certificate, crl: [UInt8]) throws -> PAdESLetter.ValidationMaterial {
        let authority = try authority()
        return .init(
            certificates: [signer, authority.issuing, authority.root, authority.tsa.certificate],
            crls: [try RevocationList(der: crl), authority.rootCRL])
    }
}
