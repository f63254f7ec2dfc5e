@testable import EsuratHTTP
import EsuratPAdES
import EsuratPostgres
import EsuratServices
import EsuratSigning
import EsuratTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@Suite struct LetterPDFAPITests {
    /// Signs a letter of `security` through the API and returns its id.
    static func signedLetter(_ client: some TestClientProtocol, _ dinas: Dinas, security: String = "biasa", subject: String = "Undangan Rapat Koordinasi TTE") async throws -> String {
        let tu = try await client.login("tu", "kata-sandi-123")
        let kadis = try await client.login("kadis", "kata-sandi-123")
        _ = try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#)
        let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(security: security, subject: subject)).json()["id"] as? String ?? ""
        #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
        let signed = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
        #expect(signed.status == .ok, "\(signed.text)")
        return id
    }

    @Test func theSignedPDFIsServedVerifiedAndCheckedInPublic() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            // The kop and rank the PDF prints come from the admin's settings.
            let template = try await client.send(.put, "/api/v1/letter-template", token: dinas.admin, json: """
                {"government": "Pemerintah Kabupaten Uji", "place": "Kota Uji", "pageSize": "F4", "font": "Liberation Sans", "fontSize": 12,
                 "marginTop": 20, "marginRight": 20, "marginBottom": 20, "marginLeft": 30}
                """)
            #expect(template.status == .ok, "\(template.text)")
            let badTemplate = try await client.send(.put, "/api/v1/letter-template", token: dinas.admin, json: """
                {"government": "", "place": "", "pageSize": "A3", "font": "Liberation Sans", "fontSize": 12, "marginTop": 20, "marginRight": 20, "marginBottom": 20, "marginLeft": 30}
                """)
            #expect(badTemplate.status == .badRequest)
            #expect(try badTemplate.problem().errors?.first?.field == "pageSize")
            // Only the PNG signature and then nothing of a PNG: refused, not silently left off the letters.
            let fakeLogo = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 40)).base64EncodedString()
            let badLogo = try await client.send(.put, "/api/v1/letter-template", token: dinas.admin, json: """
                {"government": "Pemerintah Kabupaten Uji", "place": "Kota Uji", "pageSize": "F4", "font": "Liberation Sans", "fontSize": 12,
                 "marginTop": 20, "marginRight": 20, "marginBottom": 20, "marginLeft": 30, "logoPng": "\(fakeLogo)"}
                """)
            #expect(badLogo.status == .badRequest, "\(badLogo.text)")
            #expect(try badLogo.problem().errors?.first?.field == "logoPng", "\(badLogo.text)")
            let tu = try await client.login("tu", "kata-sandi-123")
            #expect(try await client.send(.get, "/api/v1/letter-template", token: tu).status == .forbidden)
            let kop = try await client.send(.put, "/api/v1/units/\(dinas.unit)/letterhead", token: dinas.admin,
                                            json: #"{"address": "Jalan Merdeka 1, Kota Uji", "contacts": "Telepon (031) 123456"}"#)
            #expect(kop.status == .ok, "\(kop.text)")

            let id = try await Self.signedLetter(client, dinas)
            let response = try await client.send(.get, "/api/v1/letters/\(id)/pdf", token: tu)
            #expect(response.status == .ok && response.headers[.contentType] == "application/pdf")
            let pdf = Array(response.body.readableBytesView)
            let document = Array(try await client.send(.get, "/api/v1/letters/\(id)/document", token: tu).body.readableBytesView)
            // B-LTA against the installation's CA; the PDF embeds the signed JSON byte for byte.
            let verification = PAdESLetter.verify(pdf, with: SignatureVerifier(trust: try await test.pki.trustStore()))
            #expect(verification.passed && verification.level == "B-LTA", "\(verification.signatures.map(\.detail)) \(verification.problems)")
            #expect(verification.document == document)
            let text = String(decoding: pdf, as: UTF8.self)
            #expect(text.contains("/MediaBox [ 0 0 609.44"), "F4 from the template")
            // What the page prints, from the document alone.
            let scratch = NSTemporaryDirectory() + "esurat-pdf-api-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try Data(pdf).write(to: URL(fileURLWithPath: scratch + "/letter.pdf"))
            let words = try await ArchiveTools.run("/usr/bin/pdftotext", [scratch + "/letter.pdf", "-"]).output
            for expected in ["PEMERINTAH KABUPATEN UJI", "DINAS KOMUNIKASI DAN INFORMATIKA", "Jalan Merdeka 1, Kota Uji", "Kota Uji,", "Siti Nur'aini",
                             "NIP. 198001012005012001", "Undangan Rapat Koordinasi TTE", "Camat Socah", "Pemerintah Kabupaten Uji Issuing CA"] {
                #expect(words.contains(expected), "\(expected) is not in the PDF: \(words.prefix(600))")
            }
            #expect(!words.contains("BSrE"))
            // The stock tools agree.
            let root = try #require(try Certificate.chain(pem: try test.pki.chainPEM()).first { $0.isSelfIssued })
            let pyhanko = try await PDFTools.adesverify(scratch + "/letter.pdf", root: try root.pem)
            #expect(pyhanko.status == 0 && pyhanko.output.contains(":VALID"), "\(pyhanko.output)")

            // The public check behind the QR code needs no login.
            let hash = try Digest.hex(Digest.sha256(document))
            let check = try await client.send(.get, "/api/v1/public/letters/\(id)?h=\(hash.prefix(16))")
            #expect(check.status == .ok, "\(check.text)")
            let checked = try check.json()
            #expect(checked["hashMatches"] as? Bool == true && (checked["number"] as? String)?.contains("/DISKOMINFO/") == true)
            let wrong = try await client.send(.get, "/api/v1/public/letters/\(id)?h=0000000000000000").json()
            #expect(wrong["hashMatches"] as? Bool == false && wrong["number"] == nil && wrong["subject"] == nil)
            #expect(try await client.send(.get, "/api/v1/public/letters/\(id)?h=xyz").status == .badRequest)
            #expect(try await client.send(.get, "/api/v1/public/letters/\(UUID().uuidString)?h=\(hash.prefix(16))").json()["exists"] as? Bool == false)

            // A Rahasia letter: nothing but validity.
            let secret = try await Self.signedLetter(client, dinas, security: "rahasia", subject: "Hasil Audit Investigasi")
            let secretDocument = Array(try await client.send(.get, "/api/v1/letters/\(secret)/document", token: try await client.login("kadis", "kata-sandi-123")).body.readableBytesView)
            let secretCheck = try await client.send(.get, "/api/v1/public/letters/\(secret)?h=\(try Digest.hex(Digest.sha256(secretDocument)))")
            let secretJSON = try secretCheck.json()
            #expect(secretJSON["hashMatches"] as? Bool == true && secretJSON["restricted"] as? Bool == true)
            #expect(secretJSON["number"] == nil && secretJSON["subject"] == nil && secretJSON["signerName"] == nil)
            #expect(!secretCheck.text.contains("Hasil Audit"))

            // An uploaded PDF: the stored one passes, a changed one does not.
            let upload = try await client.execute(uri: "/api/v1/public/verify", method: .post, headers: [.contentType: "application/pdf"], body: ByteBuffer(bytes: pdf))
            #expect(upload.status == .ok, "\(upload.text)")
            let report = try upload.json()
            #expect(report["valid"] as? Bool == true && report["matchesStoredVersion"] as? Bool == true && report["level"] as? String == "B-LTA")
            #expect((report["findings"] as? [String])?.contains { $0.contains("sah") } == true)
            var changed = pdf
            changed[pdf.count / 4] ^= 0x01
            let forged = try await client.execute(uri: "/api/v1/public/verify", method: .post, headers: [.contentType: "application/pdf"], body: ByteBuffer(bytes: changed))
            #expect(try forged.json()["valid"] as? Bool == false, "\(forged.text)")
            let notPDF = try await client.execute(uri: "/api/v1/public/verify", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "halo"))
            #expect(notPDF.status == .unsupportedMediaType)

            // Renewing the document time-stamp appends revisions; the old version stays findable.
            // The PDFs' time-stamps are made to look as if their TSA certificate expired in a year.
            try await test.pool.query("UPDATE letter_pdfs SET timestamp_valid_until = now() + interval '1 year'")
            let renewed = try await test.services.pdfs.renewTimestamps()
            #expect(renewed == 2)
            let newer = Array(try await client.send(.get, "/api/v1/letters/\(id)/pdf", token: tu).body.readableBytesView)
            #expect(newer.count > pdf.count && Array(newer.prefix(pdf.count)) == pdf)
            let renewedCheck = PAdESLetter.verify(newer, with: SignatureVerifier(trust: try await test.pki.trustStore()))
            #expect(renewedCheck.passed && renewedCheck.signatures.filter { $0.kind == .documentTimestamp }.count == 2)
            #expect(try await test.services.pdfs.renewTimestamps() == 0, "renewed once per TSA certificate")
            let oldAgain = try await client.execute(uri: "/api/v1/public/verify", method: .post, headers: [.contentType: "application/pdf"], body: ByteBuffer(bytes: pdf))
            #expect(try oldAgain.json()["matchesStoredVersion"] as? Bool == true)
        }
    }

    /// The TSA certificate is made to expire in 30 days. The renewal job rotates the TSA
    /// (a new key and a 5-year certificate from the issuing CA, the old certificate retired,
    /// its key gone) and moves the letter's newest time-stamp onto the new TSA, so the PDF
    /// still verifies once the old certificate has expired; `openssl ts -verify -attime`
    /// shows the difference at +60 days. An operator's rotation then renews with `--all`.
    @Test func anExpiringTSAIsRotatedAndThePDFsMoveOntoTheNewOne() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        var stored: [String: String] = [:]
        for row in try await test.pool.query("SELECT name, certificate, private_key FROM pki_material") {
            let name: String = try row.decode("name")
            stored[name + ".certificate"] = try row.decode("certificate")
            stored[name + ".private_key"] = try row.decode("private_key")
        }
        let storedTSAKey = stored["tsa.private_key"] ?? "", root = stored["root.certificate"] ?? ""
        let pem = { (name: String, column: String) in stored[name + "." + column] ?? "" }
        let issuing = try Certificate(pem: pem("issuing", "certificate"))
        let issuingKey = try PrivateKey.unlock(pem: pem("issuing", "private_key"), passphrase: TestApp.pkiPassphrase)
        let tsaKey = try PrivateKey.unlock(pem: pem("tsa", "private_key"), passphrase: TestApp.pkiPassphrase)
        let shortLived = try CertificateIssuer.issue(
            subject: .init(commonName: "Pemerintah Kabupaten Uji Time-Stamping Authority", organization: "Pemerintah Kabupaten Uji"),
            publicKeyOf: tsaKey, profile: .timestamping, issuer: (issuing, issuingKey), notAfter: Date() + 30 * 86_400)
        try await test.pool.query("UPDATE pki_material SET certificate = $1 WHERE name = 'tsa'", [try shortLived.pem])
        try await test.pki.refreshTimestampAuthority()
        #expect(try test.pki.timestampAuthority().certificate.serialHex == shortLived.serialHex)

        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let id = try await Self.signedLetter(client, dinas)
            let tu = try await client.login("tu", "kata-sandi-123")
            let signedPDF = Array(try await client.send(.get, "/api/v1/letters/\(id)/pdf", token: tu).body.readableBytesView)

            #expect(try await test.services.pdfs.renewTimestamps() == 1)
            let rotated = try test.pki.timestampAuthority().certificate
            #expect(rotated.serialHex != shortLived.serialHex && rotated.notAfter > Date() + 4 * 365 * 86_400)
            let retired = try await test.pool.query("SELECT certificate_serial FROM retired_timestamp_authorities")
            #expect(try retired.map { try $0.decode("certificate_serial", as: String.self) } == [shortLived.serialHex])
            #expect(try await test.pool.query("SELECT private_key FROM pki_material WHERE name = 'tsa'").single().decode("private_key", as: String.self)
                    != storedTSAKey, "the retired key is gone")
            #expect(try await test.pool.query("SELECT 1 FROM audit_events WHERE action = 'pki.tsa_rotated'").count == 1)
            #expect(try await test.services.pdfs.renewTimestamps() == 0, "the new TSA is not due")

            let renewed = Array(try await client.send(.get, "/api/v1/letters/\(id)/pdf", token: tu).body.readableBytesView)
            #expect(Array(renewed.prefix(signedPDF.count)) == signedPDF)
            let check = PAdESLetter.verify(renewed, with: SignatureVerifier(trust: try await test.pki.trustStore()))
            #expect(check.passed && check.level == "B-LTA", "\(check.signatures.map(\.detail)) \(check.problems)")

            // Stock openssl, 60 days on: the first document time-stamp's TSA has expired by
            // then, the renewal's has not.
            let directory = NSTemporaryDirectory() + "esurat-tsa-rotation-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let stamps = try PDFFile(renewed).signatures().filter { $0.kind == .documentTimestamp }
            #expect(stamps.count == 2)
            try root.write(toFile: directory + "/root.pem", atomically: true, encoding: .utf8)
            try pemBundle([issuing, shortLived, rotated]).write(toFile: directory + "/chain.pem", atomically: true, encoding: .utf8)
            let later = String(Int(Date().timeIntervalSince1970) + 60 * 86_400)
            var verdicts: [Bool] = []
            for (index, stamp) in stamps.enumerated() {
                try Data(stamp.contents).write(to: URL(fileURLWithPath: directory + "/ts\(index).der"))
                try Data(stamp.signedBytes).write(to: URL(fileURLWithPath: directory + "/ts\(index).bin"))
                for attime in [nil, later] {
                    let result = try await ArchiveTools.run("/usr/bin/openssl", [
                        "ts", "-verify", "-token_in", "-in", directory + "/ts\(index).der", "-data", directory + "/ts\(index).bin",
                        "-CAfile", directory + "/root.pem", "-untrusted", directory + "/chain.pem",
                    ] + (attime.map { ["-attime", $0] } ?? []))
                    verdicts.append(result.output.contains("Verification: OK"))
                }
            }
            #expect(verdicts == [true, false, true, true], "now and +60 days, for the first and the renewed time-stamp")

            // pyHanko, with the installation's root as the only anchor, agrees.
            let file = directory + "/renewed.pdf"
            try Data(renewed).write(to: URL(fileURLWithPath: file))
            let verdict = try await PDFTools.adesverify(file, root: root)
            #expect(verdict.status == 0 && verdict.output.contains(":VALID"), "\(verdict.output)")

            // The operator rotates (a key no longer trusted) and moves every PDF onto the new TSA.
            let replacement = try await test.pki.rotateTimestampAuthority(ifExpiringBefore: nil, actorUserID: nil, request: .local)
            #expect(replacement.serialHex != rotated.serialHex)
            #expect(try await test.services.pdfs.renewTimestamps() == 0)
            #expect(try await test.services.pdfs.renewTimestamps(includingOtherTSAs: true) == 1)
            #expect(try await test.services.pdfs.renewTimestamps(includingOtherTSAs: true) == 0)
            #expect(try await test.pki.timestampCertificates().map(\.serialHex) == [replacement.serialHex, rotated.serialHex, shortLived.serialHex])
        }
    }

    @Test func thePublicCheckIsRateLimitedPerClient() async throws {
        let limiter = ClientRateLimiter(perMinute: 30, burst: 10)
        for _ in 0..<10 { try limiter.take("203.0.113.7") }
        #expect(throws: ServiceError.self) { try limiter.take("203.0.113.7") }
        try limiter.take("198.51.100.1")
        do {
            try limiter.take("203.0.113.7")
        } catch let error as ServiceError {
            #expect(error.kind == .rateLimited && (error.retryAfterSeconds ?? 0) >= 1)
        }
        var test = try await TestApp.make()
        defer { test.close() }
        // One token a minute after the burst: the check does not depend on how fast a loaded
        // machine sends the requests.
        test.services.publicLimiter = ClientRateLimiter(perMinute: 1, burst: 20)
        try await test.application().test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<22 { statuses.append(try await client.send(.get, "/api/v1/public/letters/\(UUID().uuidString)?h=0123456789abcdef").status) }
            #expect(statuses.prefix(20).allSatisfy { $0 == .ok } && statuses.last == .tooManyRequests, "\(statuses)")
        }
    }
}
