import EsuratDomain
import EsuratPAdES
import EsuratRender
import EsuratSigning
import Foundation
import Testing

@Suite struct LetterRendererTests {
    @Test func sample() throws {
        let renderer = try LetterRenderer()
        let rendered = try renderer.render(SampleLetters.letter(), template: LetterTemplate(), signature: SampleLetters.facts)
        try Data(rendered.pdf).write(to: URL(fileURLWithPath: "/tmp/sample.pdf"))
        let pki = try RenderTestPKI()
        let (key, certificate) = try pki.signer()
        try key.encryptedPEM(passphrase: "rahasia").write(toFile: "/tmp/signer-key.pem", atomically: true, encoding: .utf8)
        try certificate.pem.write(toFile: "/tmp/signer-cert.pem", atomically: true, encoding: .utf8)
        try pki.issuing.pem.write(toFile: "/tmp/issuing.pem", atomically: true, encoding: .utf8)
        let signer = CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa)
        let document = try SampleLetters.letter().canonicalBytes()
        let signed = try PAdESLetter.sign(
            pdf: rendered.pdf, pageIndex: rendered.signaturePage, rect: rendered.signatureRect, document: document,
            documentSignature: try signer.sign(document), signer: signer, signerName: "Siti", material: try pki.material, timestampAuthority: pki.tsa, at: Date())
        try Data(signed).write(to: URL(fileURLWithPath: "/tmp/sample-lta.pdf"))
        try pki.root.pem.write(toFile: "/tmp/sample-root.pem", atomically: true, encoding: .utf8)
        let verification = PAdESLetter.verify(signed, with: SignatureVerifier(trust: try pki.trust))
        print(verification.level ?? "-", verification.signatures.map { "\($0.fieldName) \($0.valid) \($0.detail)" }, verification.modifications, verification.problems)
        #expect(verification.passed)
    }
}
