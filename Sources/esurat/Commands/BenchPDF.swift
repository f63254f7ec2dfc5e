import ArgumentParser
import EsuratDomain
import EsuratPAdES
import EsuratRender
import EsuratSigning
import Foundation

/// Letters/s rendered and signed PAdES B-LTA, single-threaded, beside cairo rendering the
/// same page alone in the same run (goal: at least half the bare rate).
struct BenchPDF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pdf",
        abstract: "Letter PDFs/s: render + PAdES B-LTA (signature, time-stamp, DSS, document time-stamp) beside the bare cairo render of the same page.")

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Double = 5

    func run() async throws {
        let pki = try BenchPKI()
        let (root, ca, caKey, rootKey, cert) = (pki.root, pki.ca, pki.caKey, pki.rootKey, pki.signer)
        let tsaCert = pki.tsaCertificate
        let tsa = TimestampAuthority(certificate: tsaCert, key: pki.tsaKey, chain: [ca])
        let signer = CMSSigner(certificate: cert, key: pki.signerKey, chain: [ca], timestampAuthority: tsa)
        let material = PAdESLetter.ValidationMaterial(
            certificates: [cert, ca, root, tsaCert],
            crls: [try CertificateIssuer.crl(issuer: ca, key: caKey, revoked: [], number: 1), try CertificateIssuer.crl(issuer: root, key: rootKey, revoked: [], number: 1)])

        let unit = CanonicalLetterDocument.UnitReference(id: UUID(), code: "DISKOMINFO", name: "Dinas Komunikasi dan Informatika")
        let document = CanonicalLetterDocument(
            letterID: UUID(), number: "000.1.2.3/15/DISKOMINFO/2026", date: CalendarDay(year: 2026, month: 12, day: 7)!, type: .suratDinas,
            subject: "Undangan Rapat Koordinasi Tanda Tangan Elektronik", classification: ClassificationCode("000.1.2.3")!, securityLevel: .biasa,
            urgency: .segera, sender: unit,
            signer: .init(name: "Dr. Siti Nur'aini, S.Kom., M.T.", nip: "198001012005012001", positionTitle: "Kepala Dinas Komunikasi dan Informatika",
                          rank: "Pembina Tingkat I (IV/b)", capacity: .direct, positionID: UUID(), userID: UUID()),
            recipients: [.init(id: UUID(), code: "DISDIK", name: "Dinas Pendidikan")], copies: [],
            body: "Dengan hormat,\n" + String(repeating: "Dalam rangka percepatan penerapan Sistem Pemerintahan Berbasis Elektronik, kami mengundang Saudara pada rapat koordinasi. ", count: 4)
                + "\nDemikian atas perhatian Saudara, kami ucapkan terima kasih.",
            attachments: [],
            letterhead: .init(government: "Pemerintah Kabupaten Bangkalan", unit: "Dinas Komunikasi dan Informatika", address: "Jalan Soekarno-Hatta Nomor 1, Bangkalan",
                              contacts: "Telepon (031) 3095001", place: "Bangkalan"))
        let bytes = try document.canonicalBytes()
        let cades = try signer.sign(bytes)
        let renderer = try LetterRenderer()
        let template = LetterTemplate()
        let facts = SignatureFacts(issuer: "Bench Issuing CA", verificationURL: "https://esurat.example.go.id/v/\(document.letterID.lowercasedString)?h=0123456789abcdef")

        func bare() throws -> Int { try renderer.render(document, template: template, signature: facts).pdf.count }
        func full() throws -> Int {
            let rendered = try renderer.render(document, template: template, signature: facts)
            return try PAdESLetter.sign(
                pdf: rendered.pdf, pageIndex: rendered.signaturePage, rect: rendered.signatureRect, document: bytes, documentSignature: cades,
                signer: signer, signerName: document.signer.name, material: material, timestampAuthority: tsa, at: Date()).count
        }
        let size = try full(), unsigned = try bare()
        print("esurat bench pdf: single thread, one-page surat dinas, \(seconds) s each; unsigned \(unsigned / 1024) KB, B-LTA \(size / 1024) KB")
        let bareRate = try measure { _ = try bare() }
        let fullRate = try measure { _ = try full() }
        print(String(format: "cairo+pango render alone        %7.1f letters/s  (%.2f ms)", bareRate, 1000 / bareRate))
        print(String(format: "render + PAdES B-LTA            %7.1f letters/s  (%.2f ms)  %.2f× the bare render (goal ≥ 0.5×)", fullRate, 1000 / fullRate, fullRate / bareRate))
    }

    private func measure(_ body: () throws -> Void) throws -> Double { try benchRate(seconds: seconds, batch: 10, body) }
}
