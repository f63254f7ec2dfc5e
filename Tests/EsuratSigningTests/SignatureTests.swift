import EsuratSigning
import Foundation
import Testing

@Suite struct SignatureTests {
    let document = Array(#"{"nomor":"000.1/15/DISKOMINFO/2026","perihal":"Undangan Rapat Koordinasi","sifat":"B"}"#.utf8)

    @Test(arguments: [PrivateKey.Algorithm.ecP256, .rsa(bits: 2048)])
    func aSignatureVerifiesHereAndWithStockOpenSSL(algorithm: PrivateKey.Algorithm) throws {
        let pki = try TestPKI(algorithm: algorithm)
        let (key, certificate) = try pki.signer(algorithm: algorithm)
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)

        let report = SignatureVerifier(trust: try pki.trust()).verify(content: document, signature: signature)
        #expect(report.indication == .totalPassed, "\((try? report.json()) ?? "")")
        #expect(report.signer?.nip == "198001012005011001")
        #expect(report.signer?.commonName == "Ahmad Fauzi")
        #expect(report.signer?.subject.contains("OU=Dinas Komunikasi dan Informatika") == true)
        #expect(report.chain.count == 3)
        #expect(report.timestamp?.valid == true)
        #expect(report.timestamp?.tsa.contains("esurat Test TSA") == true)
        #expect(report.claimedSigningTime != nil)
        #expect(report.revocation?.status == "good")

        let scratch = try Scratch()
        let content = try scratch.write("document.json", document)
        let sig = try scratch.write("document.json.p7s", signature)
        let chain = try scratch.write("chain.pem", try pki.chainPEM)
        let stock = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", content, "-CAfile", chain, "-out", "/dev/null"])
        #expect(stock.status == 0, "\(stock.output)")
        #expect(stock.output.contains("Verification successful"))
        // The signed attributes are those of CAdES-BES.
        let printed = try openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", sig])
        for attribute in ["contentType", "messageDigest", "signingTime", "id-smime-aa-signingCertificateV2", "id-smime-aa-timeStampToken"] {
            #expect(printed.output.contains(attribute), "missing \(attribute)")
        }
        // EC signatures are assembled from DER pieces, not by CMS_sign: OpenSSL reading and
        // writing them back must give the same bytes (the encoding is DER, sets in order).
        let reencoded = scratch.path + "/reencoded.p7s"
        let rewrite = try openssl(["cms", "-cmsout", "-inform", "DER", "-in", sig, "-outform", "DER", "-out", reencoded])
        #expect(rewrite.status == 0, "\(rewrite.output)")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: reencoded))) == signature)
    }

    @Test func theTimestampTokenVerifiesWithOpenSSLTs() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let parts = try SignatureParts(der: signature)
        let scratch = try Scratch()
        let token = try scratch.write("token.der", try #require(parts.timestampToken))
        let data = try scratch.write("signature-value.bin", parts.signatureValue)
        let chain = try scratch.write("chain.pem", try pki.chainPEM)
        let result = try openssl(["ts", "-verify", "-token_in", "-in", token, "-data", data, "-CAfile", chain])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Verification: OK"))
    }

    @Test func oneFlippedByteOfContentIsAHashFailure() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        var tampered = document
        tampered[10] ^= 0x01
        let report = SignatureVerifier(trust: try pki.trust()).verify(content: tampered, signature: signature)
        #expect(report.indication == .totalFailed)
        #expect(report.subIndication == .hashFailure)

        let scratch = try Scratch()
        let content = try scratch.write("document.json", tampered)
        let sig = try scratch.write("document.json.p7s", signature)
        let chain = try scratch.write("chain.pem", try pki.chainPEM)
        let stock = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", content, "-CAfile", chain, "-out", "/dev/null"])
        #expect(stock.status != 0)
    }

    @Test func revokedBeforeTheSigningTimeIsRevoked() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let revoked = CertificateIssuer.Revocation(serialHex: certificate.serialHex, date: Date().addingTimeInterval(-60), reason: 1)
        let report = SignatureVerifier(trust: try pki.trust(revoking: [revoked])).verify(content: document, signature: signature)
        #expect(report.indication == .totalFailed)
        #expect(report.subIndication == .revoked)
        #expect(report.revocation?.status == "revoked")
    }

    @Test func revokedAfterTheTimestampStillPasses() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let revoked = CertificateIssuer.Revocation(serialHex: certificate.serialHex, date: Date().addingTimeInterval(120), reason: 4)
        let report = SignatureVerifier(trust: try pki.trust(revoking: [revoked])).verify(content: document, signature: signature, now: Date().addingTimeInterval(3600))
        #expect(report.indication == .totalPassed, "\((try? report.json()) ?? "")")
        #expect(report.revocation?.status == "revokedAfterValidationTime")
    }

    /// A CRL vouches for the time it was issued: one older than the signature's time-stamp
    /// and no longer current cannot say the certificate was good then, and one dated in the
    /// future says nothing yet. Before, any CRL of the issuer was taken at its word.
    @Test func crlDatesAreHonoured() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signed = Date()
        let stale = try CertificateIssuer.crl(
            issuer: pki.issuing, key: pki.issuingKey, revoked: [], number: 1,
            thisUpdate: signed.addingTimeInterval(-86_400), nextUpdate: signed.addingTimeInterval(6 * 86_400))
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let withStale = SignatureVerifier(trust: TrustStore(anchors: [pki.root], intermediates: [pki.issuing], crls: [stale, try pki.rootCRL()]))
        // While that CRL is current, it is the list of record.
        #expect(withStale.verify(content: document, signature: signature).indication == .totalPassed)
        // Once it has expired, it is older than the time-stamp and vouches for nothing then.
        let later = signed.addingTimeInterval(8 * 86_400)
        let expired = withStale.verify(content: document, signature: signature, now: later)
        #expect(expired.indication == .indeterminate && expired.subIndication == .tryLater, "\((try? expired.json()) ?? "")")
        #expect(expired.checks.last?.detail.contains("no longer current") == true)
        // A CRL issued after the time-stamp still vouches for it once expired: the archive case.
        let fresh = try CertificateIssuer.crl(
            issuer: pki.issuing, key: pki.issuingKey, revoked: [], number: 2,
            thisUpdate: signed.addingTimeInterval(60), nextUpdate: signed.addingTimeInterval(7 * 86_400))
        let root = try CertificateIssuer.crl(
            issuer: pki.root, key: pki.rootKey, revoked: [], number: 2,
            thisUpdate: signed.addingTimeInterval(60), nextUpdate: signed.addingTimeInterval(7 * 86_400))
        let archived = SignatureVerifier(trust: TrustStore(anchors: [pki.root], intermediates: [pki.issuing], crls: [fresh, root]))
        #expect(archived.verify(content: document, signature: signature, now: later.addingTimeInterval(365 * 86_400)).indication == .totalPassed)
        // A CRL dated tomorrow is not used at all: without another, revocation is unknown.
        let future = try CertificateIssuer.crl(
            issuer: pki.issuing, key: pki.issuingKey, revoked: [], number: 3,
            thisUpdate: signed.addingTimeInterval(86_400), nextUpdate: signed.addingTimeInterval(8 * 86_400))
        let ahead = SignatureVerifier(trust: TrustStore(anchors: [pki.root], intermediates: [pki.issuing], crls: [future, try pki.rootCRL()]))
            .verify(content: document, signature: signature)
        #expect(ahead.indication == .indeterminate && ahead.checks.last?.detail.contains("no CRL from") == true, "\((try? ahead.json()) ?? "")")
    }

    /// The evidence profile carries a purpose no signing certificate has; both keep
    /// emailProtection, so stock `openssl cms -verify` accepts what either signs.
    @Test func theEvidenceProfileIsToldApartFromAnOfficialsCertificate() throws {
        let pki = try TestPKI()
        let (_, official) = try pki.signer()
        let evidenceKey = try PrivateKey.generate()
        let evidence = try CertificateIssuer.issue(
            subject: .init(commonName: "Uji esurat Evidence"), publicKeyOf: evidenceKey, profile: .evidence, issuer: (pki.issuing, pki.issuingKey),
            notAfter: Date().addingTimeInterval(86_400))
        #expect(official.extendedKeyUsages == [CertificateProfile.signingPurpose])
        #expect(Set(evidence.extendedKeyUsages) == [CertificateProfile.signingPurpose, CertificateProfile.evidencePurpose])
        let signature = try CMSSigner(certificate: evidence, key: evidenceKey, chain: [pki.issuing], timestampAuthority: nil).sign(document)
        let report = SignatureVerifier(trust: try pki.trust()).verify(content: document, signature: signature)
        #expect(report.passed && report.signer?.keyPurposes?.contains(CertificateProfile.evidencePurpose) == true)
        let scratch = try Scratch()
        let stock = try openssl([
            "cms", "-verify", "-binary", "-inform", "DER", "-in", try scratch.write("e.p7s", signature), "-content", try scratch.write("e.json", document),
            "-CAfile", try scratch.write("chain.pem", try pki.chainPEM), "-out", "/dev/null",
        ])
        #expect(stock.status == 0, "\(stock.output)")
    }

    @Test func anUnknownRootIsNoCertificateChainFound() throws {
        let pki = try TestPKI()
        let stranger = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: nil).sign(document)
        let report = SignatureVerifier(trust: try stranger.trust()).verify(content: document, signature: signature)
        #expect(report.indication == .indeterminate)
        #expect(report.subIndication == .noCertificateChainFound)
    }

    @Test func anExpiredCertificateCannotSignAndOnlyATimestampKeepsOldSignaturesValid() async throws {
        let pki = try TestPKI()
        let expired = try pki.signer(notBefore: Date().addingTimeInterval(-7200), notAfter: Date().addingTimeInterval(-60))
        #expect(throws: CMSSigner.Refusal.self) {
            try CMSSigner(certificate: expired.certificate, key: expired.key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        }
        // Valid for three more seconds: sign now, verify after it expired.
        let shortLived = try pki.signer(notAfter: Date().addingTimeInterval(3))
        let stamped = try CMSSigner(certificate: shortLived.certificate, key: shortLived.key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let bare = try CMSSigner(certificate: shortLived.certificate, key: shortLived.key, chain: [pki.issuing], timestampAuthority: nil).sign(document)
        try await Task.sleep(for: .seconds(4))
        let verifier = SignatureVerifier(trust: try pki.trust())
        #expect(verifier.verify(content: document, signature: stamped).indication == .totalPassed)
        let report = verifier.verify(content: document, signature: bare)
        #expect(report.indication == .indeterminate)
        #expect(report.subIndication == .outOfBoundsNoPOE)
    }

    @Test func withoutACRLRevocationIsUnknown() throws {
        let pki = try TestPKI()
        let (key, certificate) = try pki.signer()
        let signature = try CMSSigner(certificate: certificate, key: key, chain: [pki.issuing], timestampAuthority: pki.tsa).sign(document)
        let report = SignatureVerifier(trust: TrustStore(anchors: [pki.root], intermediates: [pki.issuing])).verify(content: document, signature: signature)
        #expect(report.indication == .indeterminate)
        #expect(report.subIndication == .tryLater)
    }

    @Test func keysAreEncryptedAtRestAndAWrongPassphraseIsAClearError() throws {
        for algorithm in [PrivateKey.Algorithm.ecP256, .rsa(bits: 3072)] {
            let key = try PrivateKey.generate(algorithm)
            let pem = try key.encryptedPEM(passphrase: "frasa sandi Ma'ruf")
            #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
            let unlocked = try PrivateKey.unlock(pem: pem, passphrase: "frasa sandi Ma'ruf")
            #expect(try unlocked.publicKeyPEM == (try key.publicKeyPEM))
            #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try PrivateKey.unlock(pem: pem, passphrase: "salah") }
            // The stock tool reads it: PBES2 with scrypt and AES-256-CBC.
            let scratch = try Scratch()
            let file = try scratch.write("key.pem", pem)
            let parsed = try openssl(["asn1parse", "-in", file])
            #expect(parsed.output.contains(":PBES2") && parsed.output.contains(":scrypt") && parsed.output.contains(":aes-256-cbc"), "\(parsed.output)")
        }
        #expect(throws: PrivateKey.UnlockError.notAKey) { try PrivateKey.unlock(pem: "nonsense", passphrase: "x") }
    }

    @Test func certificatesCarryTheProfilesExtensions() throws {
        let pki = try TestPKI()
        let (_, certificate) = try pki.signer()
        let scratch = try Scratch()
        let signerText = try openssl(["x509", "-noout", "-text", "-in", try scratch.write("signer.pem", try certificate.pem)]).output
        #expect(signerText.contains("Digital Signature, Non Repudiation"))
        #expect(signerText.contains("serialNumber = 198001012005011001") || signerText.contains("serialNumber=198001012005011001"))
        let tsaText = try openssl(["x509", "-noout", "-text", "-in", try scratch.write("tsa.pem", try pki.tsa.certificate.pem)]).output
        #expect(tsaText.contains("X509v3 Extended Key Usage: critical"))
        #expect(tsaText.contains("Time Stamping"))
        let serial = try openssl(["x509", "-noout", "-serial", "-in", try scratch.write("s.pem", try certificate.pem)]).output
        #expect(serial.trimmingCharacters(in: .whitespacesAndNewlines) == "serial=\(certificate.serialHex)")
        // The CRL is well formed for the stock tool and lists the revoked serial.
        let crl = try pki.crl(revoking: [.init(serialHex: certificate.serialHex, date: Date(), reason: 1)])
        let crlText = try openssl(["crl", "-inform", "DER", "-noout", "-text", "-in", try scratch.write("crl.der", try crl.der)]).output
        #expect(crlText.contains(certificate.serialHex))
        #expect(crlText.contains("Key Compromise"))
    }
}

@Suite struct PassphraseTests {
    /// With CBC, about one wrong passphrase in 256 decrypts to valid padding; it must still
    /// be a wrong passphrase, never another error.
    @Test func manyWrongPassphrasesAllReadAsWrong() throws {
        let pem = try PrivateKey.generate().encryptedPEM(passphrase: "frasa-sandi-benar")
        for attempt in 0..<600 {
            #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try PrivateKey.unlock(pem: pem, passphrase: "salah-\(attempt)") }
        }
    }
}
