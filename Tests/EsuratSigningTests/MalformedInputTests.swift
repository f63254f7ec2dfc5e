import EsuratSigning
import Foundation
import Testing

/// Whatever arrives as a signature, the verifier answers with a report and never crashes.
@Suite struct MalformedInputTests {
    let document = Array("Surat Edaran tentang Penggunaan TTE".utf8)

    @Test func garbageInIsAFormatFailureOut() throws {
        let pki = try TestPKI()
        let verifier = SignatureVerifier(trust: try pki.trust())
        let (key, certificate) = try pki.signer()
        let valid = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        var generator = SystemRandomNumberGenerator()
        let cases: [[UInt8]] = [
            [],
            (0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) },
            Array(valid.prefix(valid.count / 2)),
            Array("-----BEGIN PKCS7-----\n\(Data(valid).base64EncodedString())\n-----END PKCS7-----\n".utf8),
            Array(try certificate.der),
        ]
        for signature in cases {
            let report = verifier.verify(content: document, signature: signature)
            #expect(report.indication != .totalPassed)
        }
        // A valid signature over other content.
        let other = verifier.verify(content: Array("lain".utf8), signature: valid)
        #expect(other.subIndication == .hashFailure)
    }

    @Test func thousandsOfMutationsNeverCrashTheVerifier() throws {
        let pki = try TestPKI()
        let verifier = SignatureVerifier(trust: try pki.trust())
        let (key, certificate) = try pki.signer()
        let valid = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        var generator = SystemRandomNumberGenerator()
        var counts: [VerificationReport.Indication: Int] = [:]
        for round in 0..<3000 {
            var mutated = valid
            switch round % 4 {
            case 0:  // flip bits
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    mutated[Int.random(in: 0..<mutated.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                }
            case 1:  // truncate
                mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &generator)))
            case 2:  // insert bytes
                let at = Int.random(in: 0...mutated.count, using: &generator)
                mutated.insert(contentsOf: (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: at)
            default:  // remove a slice
                let start = Int.random(in: 0..<mutated.count, using: &generator)
                mutated.removeSubrange(start..<min(mutated.count, start + Int.random(in: 1...16, using: &generator)))
            }
            let report = verifier.verify(content: document, signature: mutated)
            counts[report.indication, default: 0] += 1
        }
        #expect(counts.values.reduce(0, +) == 3000)
        #expect((counts[.totalFailed] ?? 0) > 2000)
    }
}

@Suite struct SignatureValueTests {
    /// The verifier reuses embedded certificates it parsed before; a tampered signature value
    /// must still fail, on the first verification and on later ones.
    @Test func aTamperedSignatureValueFailsEveryTime() throws {
        let pki = try TestPKI()
        let verifier = SignatureVerifier(trust: try pki.trust())
        let (key, certificate) = try pki.signer()
        let document = Array("Nota Dinas".utf8)
        let valid = try CMSSigner(certificate: certificate, key: key, chain: [], timestampAuthority: nil).sign(document)
        let value = try SignatureParts(der: valid).signatureValue
        let start = try #require((0...(valid.count - value.count)).first { Array(valid[$0..<$0 + value.count]) == value })
        var tampered = valid
        tampered[start + value.count - 1] ^= 0x01
        #expect(verifier.verify(content: document, signature: valid).passed)
        for _ in 0..<3 {
            let report = verifier.verify(content: document, signature: tampered)
            #expect(report.indication == .totalFailed)
            #expect(report.subIndication == .sigCryptoFailure)
        }
        #expect(verifier.verify(content: document, signature: valid).passed)
    }
}
