import EsuratDomain
@testable import EsuratPAdES
import EsuratRender
import EsuratSigning
import EsuratTestSupport
import Foundation
import Testing

/// A letter rendered and signed at every PAdES level, in a scratch directory.
struct SignedSample {
    let pki: RenderTestPKI
    let directory: String
    let signerCertificate: Certificate
    let bt: [UInt8], blt: [UInt8], blta: [UInt8]
    let document: [UInt8]

    static let renderer = Result { try LetterRenderer() }

    init(pki given: RenderTestPKI? = nil, crl: RevocationList? = nil, signer: (PrivateKey, Certificate)? = nil) throws {
        let pki = try given ?? RenderTestPKI()
        self.pki = pki
        directory = NSTemporaryDirectory() + "esurat-pdf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let letter = SampleLetters.letter()
        document = try letter.canonicalBytes()
        let rendered = try Self.renderer.get().render(letter, template: LetterTemplate(), signature: SampleLetters.facts)
        let (key, certificate) = try signer ?? pki.signer()
        signerCertificate = certificate
        let cms = CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa)
        let cades = try cms.sign(document)
        bt = try PAdES.sign(
            rendered.pdf, pageIndex: rendered.signaturePage, rect: rendered.signatureRect, fieldName: "Tanda Tangan", signerName: letter.signer.name,
            at: Date(),
            embedding: [
                EmbeddedFile(name: PAdESLetter.documentName, mediaType: "application/json", bytes: document, relationship: "Source", description: "naskah"),
                EmbeddedFile(name: PAdESLetter.signatureName, mediaType: "application/pkcs7-signature", bytes: cades, relationship: "Supplement", description: "CAdES"),
            ]) { try cms.signPAdES(digest: $0) }
        var material = try pki.material
        material.certificates.insert(certificate, at: 0)
        if let crl { material.crls[0] = crl }
        blt = try PAdES.addValidationData(bt, certificates: try material.certificates.map { try $0.der }, crls: try material.crls.map { try $0.der })
        blta = try PAdES.addDocumentTimestamp(blt, fieldName: "Cap Waktu Dokumen 1") { try pki.tsa.token(forSHA256: $0) }
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    var rootPEM: String { get throws { try pki.root.pem } }

    func clean() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite struct LetterRendererTests {
    @Test func theSameDocumentRendersToTheSameBytes() throws {
        let renderer = try SignedSample.renderer.get()
        let first = try renderer.render(SampleLetters.letter(), template: LetterTemplate(), signature: SampleLetters.facts)
        let second = try renderer.render(SampleLetters.letter(), template: LetterTemplate(), signature: SampleLetters.facts)
        #expect(first.pdf == second.pdf)
        // Three paragraphs run onto a second page; the lampiran page lists the attachment.
        #expect(first.pageCount == 3)
        let f4 = try renderer.render(SampleLetters.letter(paragraphs: 1), template: LetterTemplate(pageSize: .f4, font: .liberationSans), signature: SampleLetters.facts)
        #expect(f4.pageCount == 2)
        #expect(String(decoding: f4.pdf, as: UTF8.self).contains("/MediaBox [ 0 0 609.44"))
    }

    /// The first page read back with pdftotext -bbox: kop on top, the date at the right
    /// beside the Nomor block at the left, Yth. below it, the footer at the bottom.
    @Test func thePageReadsAsASuratDinas() async throws {
        let sample = try SignedSample()
        defer { sample.clean() }
        let path = try sample.write("letter.pdf", sample.blta)
        let html = try await ArchiveTools.run("/usr/bin/pdftotext", ["-bbox", "-f", "1", "-l", "1", path, "-"]).output
        var words: [(text: String, x: Double, y: Double)] = []
        for line in html.split(separator: "\n") where line.contains("<word") {
            func attribute(_ name: String) -> Double {
                guard let range = line.range(of: "\(name)=\"") else { return -1 }
                return Double(line[range.upperBound...].prefix { $0 != "\"" }) ?? -1
            }
            let text = line.split(separator: ">").dropFirst().first?.split(separator: "<").first.map(String.init) ?? ""
            words.append((text, attribute("xMin"), attribute("yMin")))
        }
        func find(_ text: String, below: Double = 0) throws -> (text: String, x: Double, y: Double) {
            try #require(words.first { $0.text == text && $0.y > below }, "\(text) is not on page 1: \(words.map(\.text).prefix(40))")
        }
        // The kop's address holds "Nomor" and "Bangkalan," too: look below the kop.
        let government = try find("PEMERINTAH"), unit = try find("INFORMATIKA"), contacts = try find("Telepon")
        let nomor = try find("Nomor", below: contacts.y + 20), sifat = try find("Sifat")
        let hal = try find("Hal"), yth = try find("Yth."), date = try find("Bangkalan,", below: contacts.y + 20), footer = try find("Dokumen")
        #expect(government.y < unit.y && unit.y < nomor.y && nomor.y < sifat.y && sifat.y < hal.y && hal.y < yth.y && yth.y < footer.y)
        #expect(date.x > 300 && nomor.x < 100 && abs(date.y - nomor.y) < 30)
        #expect(footer.y > 700)
        #expect(words.contains { $0.text == "000.1.2.3/15/DISKOMINFO/2026" })
        #expect(words.contains { $0.text == "CA." || $0.text.contains("Issuing") })
        #expect(!words.contains { $0.text.contains("BSrE") })
        // Page 1 as an image, kept for a person to look at.
        _ = try await ArchiveTools.run("/usr/bin/pdftoppm", ["-png", "-r", "80", "-f", "1", "-l", "2", path, sample.directory + "/page"])
        #expect(FileManager.default.fileExists(atPath: sample.directory + "/page-1.png"))
    }

    /// A 48 × 60 shield, the kind of small emblem a Pemda puts at the left of its kop.
    static let emblemPNG = Array(Data(base64Encoded: """
        iVBORw0KGgoAAAANSUhEUgAAADAAAAA8CAYAAAAgwDn8AAAArklEQVR42u3PwQmAMBBE0fQh2IKF2aAl2YXiQRBRo0k2mcU/sOf9L3TjsBxvnn\
        rpO/cGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD+BtjmBXEZv08d8RivjngVr4r4FK+GSIpXQWTFt0YUiW+FKBpfG2ESXwthGm+NqBJv\
        hagaXxrRJL4Uoml8LkIiPhUhFf8VIRn/FiEdH0O4iL9DuIqPIYKnuY4/Iyx/rK7KA56hbOTwAAAAAElFTkSuQmCC
        """)!)

    /// The template's logo sits at the left of the kop, at the size it was drawn, while the
    /// kop's text stays centred on the page; the bytes stay deterministic. A file that only
    /// looks like a PNG, or one that would decode to gigabytes, is refused up front.
    @Test func theKopCarriesTheLogoAndRefusesWhatIsNoLogo() async throws {
        let renderer = try SignedSample.renderer.get()
        let letter = SampleLetters.letter(paragraphs: 1)
        let plain = try renderer.render(letter, template: LetterTemplate(), signature: SampleLetters.facts)
        let withLogo = try renderer.render(letter, template: LetterTemplate(logoPNG: Self.emblemPNG), signature: SampleLetters.facts)
        #expect(try renderer.render(letter, template: LetterTemplate(logoPNG: Self.emblemPNG), signature: SampleLetters.facts).pdf == withLogo.pdf)
        #expect(withLogo.pdf != plain.pdf && withLogo.pageCount == plain.pageCount)

        let directory = NSTemporaryDirectory() + "esurat-logo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plainPath = directory + "/plain.pdf", logoPath = directory + "/logo.pdf"
        try Data(plain.pdf).write(to: URL(fileURLWithPath: plainPath))
        try Data(withLogo.pdf).write(to: URL(fileURLWithPath: logoPath))
        // pdfimages lists one 48 × 60 RGB image with an alpha mask, on page 1 only.
        let images = try await ArchiveTools.run("/usr/bin/pdfimages", ["-list", logoPath]).output
        let rows = images.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains { $0[0] == "1" && $0[2] == "image" && $0[3] == "48" && $0[4] == "60" }, "\(images)")
        #expect(rows.allSatisfy { $0[0] == "1" }, "\(images)")
        #expect(rows.contains { $0[2] == "smask" }, "the transparency is kept: \(images)")
        #expect(try await ArchiveTools.run("/usr/bin/pdfimages", ["-list", plainPath]).output.split(separator: "\n").count == 2)

        // The government line is centred on the page either way.
        func centre(of word: String, in path: String) async throws -> Double {
            let html = try await ArchiveTools.run("/usr/bin/pdftotext", ["-bbox", "-f", "1", "-l", "1", path, "-"]).output
            let line = try #require(html.split(separator: "\n").first { $0.contains(">\(word)<") })
            func attribute(_ name: String) -> Double {
                guard let range = line.range(of: "\(name)=\"") else { return -1 }
                return Double(line[range.upperBound...].prefix { $0 != "\"" }) ?? -1
            }
            return (attribute("xMin") + attribute("xMax")) / 2
        }
        let plainCentre = try await centre(of: "PEMERINTAH", in: plainPath), logoCentre = try await centre(of: "PEMERINTAH", in: logoPath)
        #expect(abs(plainCentre - logoCentre) < 1, "\(plainCentre) vs \(logoCentre)")

        #expect(LetterTemplate.logoProblem(Self.emblemPNG) == nil)
        #expect(LetterTemplate.logoProblem(Array("GIF89a, not a PNG at all".utf8)) == "must be a PNG image")
        var huge = Array(Self.emblemPNG.prefix(33))
        huge.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20])  // 20000 × 20000
        #expect(LetterTemplate.logoProblem(huge)?.contains("at most 2000") == true)
        #expect(LetterTemplate.logoProblem(Array(Self.emblemPNG.prefix(60))) == "is not a readable PNG image")
        // A template holding a broken logo still prints the letter, without a logo.
        let broken = try renderer.render(letter, template: LetterTemplate(logoPNG: Array(Self.emblemPNG.prefix(60))), signature: SampleLetters.facts)
        #expect(broken.pdf == plain.pdf)
    }
}

/// Every PAdES level judged by the verifiers governments use: pyHanko (the gate: it checks
/// modifications), pdfsig, qpdf and openssl.
@Suite(.serialized) struct PAdESExternalVerifierTests {
    @Test func everyLevelIsValidInPyHankoPdfsigQpdfAndOpenSSL() async throws {
        let sample = try SignedSample()
        defer { sample.clean() }
        let root = try sample.rootPEM
        let bt = try sample.write("bt.pdf", sample.bt), blt = try sample.write("blt.pdf", sample.blt), blta = try sample.write("blta.pdf", sample.blta)

        let validated = try await PDFTools.validate(bt, root: root)
        #expect(validated.output.contains("The signature is judged VALID."), "\(validated.output)")
        #expect(try await PDFTools.signedAttributes(bt) == "content_type,message_digest,signing_certificate_v2")
        for file in [blt, blta] {
            let verified = try await PDFTools.adesverify(file, root: root)
            #expect(verified.status == 0 && verified.output.contains(":VALID"), "\(file): \(verified.output)")
        }
        let nss = try await PDFTools.nssDatabase(trusting: root, in: sample.directory)
        let btReport = try await PDFTools.pdfsig(bt, nss: nss)
        #expect(btReport.contains("Signature is Valid.") && btReport.contains("Certificate is Trusted.") && btReport.contains("Total document signed"), "\(btReport)")
        let ltaReport = try await PDFTools.pdfsig(blta, nss: nss)
        #expect(ltaReport.contains("Signature is Valid.") && ltaReport.contains("Certificate is Trusted."), "\(ltaReport)")
        for file in [bt, blt, blta] {
            let checked = try await ArchiveTools.run("/usr/bin/qpdf", ["--check", file])
            #expect(checked.status == 0 && checked.output.contains("No syntax or stream encoding errors found"), "\(checked.output)")
        }

        // The document time-stamp and the CMS, taken out of the file, with stock openssl.
        let signatures = try PDFFile(sample.blta).signatures()
        #expect(signatures.map(\.kind) == [.signature, .documentTimestamp])
        let stamp = signatures[1], signature = signatures[0]
        let token = try sample.write("docts.der", stamp.contents), stamped = try sample.write("docts.bin", stamp.signedBytes)
        let chain = sample.directory + "/chain.pem"
        try pemBundle([sample.pki.issuing, sample.pki.tsa.certificate]).write(toFile: chain, atomically: true, encoding: .utf8)
        try root.write(toFile: sample.directory + "/root.pem", atomically: true, encoding: .utf8)
        let ts = try await ArchiveTools.run("/usr/bin/openssl", [
            "ts", "-verify", "-token_in", "-in", token, "-data", stamped, "-CAfile", sample.directory + "/root.pem", "-untrusted", chain,
        ])
        #expect(ts.output.contains("Verification: OK"), "\(ts.output)")
        let cms = try await ArchiveTools.run("/usr/bin/openssl", [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", try sample.write("sig.der", signature.contents),
            "-content", try sample.write("signed.bin", signature.signedBytes), "-CAfile", sample.directory + "/root.pem", "-purpose", "any", "-out", "/dev/null",
        ])
        #expect(cms.output.contains("Verification successful"), "\(cms.output)")

        // Our own reading agrees, and the embedded JSON is the signed document byte for byte.
        let ours = PAdESLetter.verify(sample.blta, with: SignatureVerifier(trust: try sample.pki.trust))
        #expect(ours.passed && ours.level == "B-LTA", "\(ours.signatures.map(\.detail)) \(ours.modifications)")
        #expect(ours.document == sample.document)
        #expect(!ours.signatures.contains { $0.hasSigningTime })
    }

    @Test func aFlippedByteOrAnAppendedCancelledPageIsCaught() async throws {
        let sample = try SignedSample()
        defer { sample.clean() }
        let root = try sample.rootPEM
        let signature = try #require(try PDFFile(sample.blta).signatures().first)

        // One byte inside the signed range (the page content, before /Contents).
        var flipped = sample.blta
        let at = signature.byteRange[1] / 2
        flipped[at] ^= 0x01
        let flippedPath = try sample.write("flipped.pdf", flipped)
        let flippedVerdict = try await PDFTools.adesverify(flippedPath, root: root)
        #expect(!flippedVerdict.output.contains(":VALID"), "\(flippedVerdict.output)")
        let nss = try await PDFTools.nssDatabase(trusting: root, in: sample.directory)
        #expect(!(try await PDFTools.pdfsig(flippedPath, nss: nss)).contains("Signature is Valid."))
        #expect(!PAdESLetter.verify(flipped, with: SignatureVerifier(trust: try sample.pki.trust)).passed)

        // An incremental update that replaces page 1 with "DIBATALKAN": the signature still
        // verifies over its range, so pdfsig calls it valid; pyHanko and esurat must not.
        let file = try PDFFile(sample.blta)
        var update = try IncrementalUpdate(file)
        let page = try file.pageNumbers()[0]
        var dictionary = try #require(try file.object(page).value.dictionary)
        let cancelled = update.add(.stream(PDFDictionary(), Array("1 0 0 rg 60 380 480 90 re f 1 1 1 rg 80 400 440 50 re f".utf8)))
        dictionary["Contents"] = cancelled
        update.replace(page, with: .dictionary(dictionary))
        let forged = update.write().bytes
        let forgedPath = try sample.write("dibatalkan.pdf", forged)
        let forgedVerdict = try await PDFTools.adesverify(forgedPath, root: root)
        #expect(!forgedVerdict.output.contains(":VALID"), "\(forgedVerdict.output)")
        let ours = PAdESLetter.verify(forged, with: SignatureVerifier(trust: try sample.pki.trust))
        #expect(!ours.passed && ours.modifications.contains { $0.contains("Contents") }, "\(ours.modifications)")
    }

    @Test func aSignerRevokedAfterTheTimestampStillValidatesButNotBefore() async throws {
        let pki = try RenderTestPKI()
        // Revoked a minute before signing: the CRL in the DSS says so.
        let early = try pki.signer()
        let revokedBefore = try pki.crl(revoking: [.init(serialHex: early.1.serialHex, date: Date() - 60, reason: 1)])
        let before = try SignedSample(pki: pki, crl: revokedBefore, signer: early)
        defer { before.clean() }
        let beforeVerdict = try await PDFTools.adesverify(try before.write("before.pdf", before.blta), root: try pki.root.pem)
        #expect(!beforeVerdict.output.contains(":VALID"), "\(beforeVerdict.output)")

        // Revoked after the signature's time-stamp (key compromise reported later).
        let late = try pki.signer()
        let signedFirst = try SignedSample(pki: pki, signer: late)
        defer { signedFirst.clean() }
        try await Task.sleep(for: .seconds(2))
        let revokedAfter = try pki.crl(revoking: [.init(serialHex: late.1.serialHex, date: Date(), reason: 1)], number: 2)
        let extended = try PAdESLetter.extend(
            signedFirst.blta, material: .init(certificates: [late.1, pki.issuing, pki.root, pki.tsa.certificate], crls: [revokedAfter, try pki.rootCRL()]),
            timestampAuthority: pki.tsa)
        let afterVerdict = try await PDFTools.adesverify(try signedFirst.write("after.pdf", extended), root: try pki.root.pem)
        #expect(afterVerdict.status == 0 && afterVerdict.output.contains(":VALID"), "\(afterVerdict.output)")
    }

    /// B-LTA renewed, validated years later from the revocation data in the file alone.
    ///
    /// What pyHanko demands (measured): the newest document time-stamp is judged at the
    /// validation time, so the DSS must hold CRLs current at that time for its TSA's path;
    /// with the 7-day CRLs of a renewal made today, validation at +3 years fails ("CRL is not
    /// recent enough") — the renewal job has to run again by then. A renewal whose DSS holds
    /// CRLs still current at the validation time passes, although the signer's certificate
    /// expired a year before: its validity is proven by the time-stamps (AdES past validation).
    @Test func aRenewedLTAFileValidatesYearsLater() async throws {
        let sample = try SignedSample()
        defer { sample.clean() }
        let pki = sample.pki
        let later = Date() + 3 * 365 * 86_400
        let iso = ISO8601DateFormatter().string(from: later)
        var material = try pki.material
        material.certificates.insert(sample.signerCertificate, at: 0)
        let renewedToday = try PAdESLetter.extend(sample.blta, material: material, timestampAuthority: pki.tsa)
        #expect(try PDFFile(renewedToday).signatures().filter { $0.kind == .documentTimestamp }.count == 2)
        let todayPath = try sample.write("renewed.pdf", renewedToday)
        let now = try await PDFTools.adesverify(todayPath, root: try sample.rootPEM)
        #expect(now.status == 0 && now.output.contains(":VALID"), "\(now.output)")
        let stale = try await PDFTools.adesverify(todayPath, root: try sample.rootPEM, validationTime: iso)
        #expect(stale.status != 0 && stale.output.contains("CRL is not recent enough"), "\(stale.output)")

        // The renewal that keeps it valid: CRLs current at the validation time.
        let longCRL = try CertificateIssuer.crl(issuer: pki.issuing, key: pki.issuingKey, revoked: [], number: 9, nextUpdate: later + 86_400)
        let longRootCRL = try CertificateIssuer.crl(issuer: pki.root, key: pki.rootKey, revoked: [], number: 9, nextUpdate: later + 86_400)
        let renewed = try PAdESLetter.extend(
            renewedToday, material: .init(certificates: material.certificates, crls: [longCRL, longRootCRL]), timestampAuthority: pki.tsa)
        let verdict = try await PDFTools.adesverify(try sample.write("renewed-2.pdf", renewed), root: try sample.rootPEM, validationTime: iso)
        #expect(verdict.status == 0 && verdict.output.contains(":VALID"), "\(verdict.output)")
    }
}
