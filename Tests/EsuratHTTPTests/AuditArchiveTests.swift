@testable import EsuratHTTP
import EsuratDomain
import EsuratPostgres
@testable import EsuratServices
import EsuratSigning
import EsuratTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Days around today in WIB, as the export takes them.
func wibDay(offset: Int) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Asia/Jakarta")!
    let day = calendar.date(byAdding: .day, value: offset, to: Date())!
    let c = calendar.dateComponents([.year, .month, .day], from: day)
    return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
}

@Suite struct AuditArchiveTests {
    /// Three letters with attachments, signed, delivered, registered, disposed and reported
    /// on; exported over the API by an auditor, downloaded, and judged by stock tools.
    @Test func anExportOfRealLettersValidatesWithBagitOpenSSLAndVerifyArchive() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let worker = DispatchTests.worker(test)
        let scratch = NSTemporaryDirectory() + "esurat-archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let tarPath = scratch + "/arsip.tar"
        let letters = try await test.application().test(.router) { client -> [String] in
            var letters: [String] = []
            let dinas = try await Dinas.make(client)
            let admin = dinas.admin
            let camatPosition = try await OrganisationAPITests.position(client, admin, unit: dinas.recipient, title: "Camat Socah", head: true)
            let sekcamPosition = try await client.send(.post, "/api/v1/positions", token: admin,
                json: #"{"unitId": "\#(dinas.recipient)", "title": "Sekretaris Kecamatan", "superiorId": "\#(camatPosition)"}"#).json()["id"] as? String ?? ""
            _ = try await OrganisationAPITests.user(client, admin, username: "camat.s", roles: ["official"], unit: dinas.recipient, position: camatPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "sekcam", roles: ["official"], unit: dinas.recipient, position: sekcamPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "auditor", roles: ["auditor"], unit: dinas.unit)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            let auditor = try await client.login("auditor", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)

            for (n, subject) in ["Undangan Rapat Koordinasi TTE", "Laporan Realisasi Anggaran", "Pemberitahuan Libur Nasional"].enumerated() {
                let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(subject: subject)).json()["id"] as? String ?? ""
                for (name, type, bytes) in [("jadwal rapat \(n).pdf", "application/pdf", Array("%PDF-1.7 jadwal \(n)".utf8) + [0, 0, 7]),
                                            ("denah.png", "image/png", [0x89, 0x50, 0x4E, 0x47, 0, 1, 2, UInt8(n)])].prefix(n == 2 ? 0 : 2) {
                    let uploaded = try await client.execute(
                        uri: "/api/v1/letters/\(id)/attachments?filename=\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .post,
                        headers: [.authorization: "Bearer \(tu)", .contentType: type], body: ByteBuffer(bytes: bytes))
                    #expect(uploaded.status == .created)
                }
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .ok)
                letters.append(id)
            }
            while try await worker.drainOnce() > 0 {}
            let camat = try await client.login("camat.s", "kata-sandi-123")
            let sekcam = try await client.login("sekcam", "kata-sandi-123")
            let inbox = try await client.send(.get, "/api/v1/inbox", token: camat).json()["items"] as? [[String: Any]] ?? []
            #expect(inbox.count == 3)
            for entry in inbox {
                let entryID = entry["id"] as? String ?? ""
                #expect(try await client.send(.post, "/api/v1/inbox/\(entryID)/register", token: camat).status == .ok)
                let disposition = try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: camat,
                    json: #"{"toPositionIds": ["\#(sekcamPosition)"], "instructions": ["tindak_lanjuti"], "note": "Segera"}"#)
                #expect(disposition.status == .created)
                let dispositionID = try disposition.json()["id"] as? String ?? ""
                #expect(try await client.send(.post, "/api/v1/dispositions/\(dispositionID)/complete", token: sekcam, json: #"{"report": "Sudah ditindaklanjuti."}"#).status == .ok)
            }

            // Who may export, and bad input named by field.
            let range = #""from": "\#(wibDay(offset: -1))", "to": "\#(wibDay(offset: 1))""#
            let refused = try await client.send(.post, "/api/v1/archive/exports", token: tu, json: "{\(range)}")
            #expect(refused.status == .forbidden)
            #expect(try refused.problem().detail?.contains("auditor") == true)
            let inverted = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{"from": "2026-12-31", "to": "2026-01-01"}"#)
            #expect(inverted.status == .badRequest)
            #expect(try inverted.problem().errors?.map(\.field) == ["to"])
            let unknownUnit = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{\#(range), "unitId": "\#(UUID().uuidString)"}"#)
            #expect(unknownUnit.status == .badRequest)
            #expect(try unknownUnit.problem().errors?.map(\.field) == ["unitId"])
            let badDate = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{"from": "2026-02-30", "to": "2026-03-01"}"#)
            #expect(try badDate.problem().errors?.map(\.field) == ["from"])
            let missing = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{"from": "2026-02-01"}"#)
            #expect(missing.status == .badRequest)
            #expect(try missing.problem().errors?.first?.field == "to")
            let unknownCode = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{\#(range), "classification": "999.9"}"#)
            #expect(try unknownCode.problem().errors?.map(\.field) == ["classification"])

            // The export, by unit (the sender's) and classification, as a background job.
            let queued = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{\#(range), "unitId": "\#(dinas.unit)", "classification": "000"}"#)
            #expect(queued.status == .accepted, "\(queued.text)")
            let exportID = try queued.json()["id"] as? String ?? ""
            var job: [String: Any] = [:]
            for _ in 0..<300 {
                job = try await client.send(.get, "/api/v1/archive/exports/\(exportID)", token: auditor).json()
                if job["state"] as? String == "done" || job["state"] as? String == "failed" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(job["state"] as? String == "done", "\(job)")
            #expect(job["letters"] as? Int == 3)
            #expect(try await client.send(.get, "/api/v1/archive/exports/\(exportID)", token: tu).status == .forbidden)
            let download = try await client.send(.get, "/api/v1/archive/exports/\(exportID)/download", token: auditor)
            #expect(download.status == .ok)
            #expect(download.headers[.contentType] == "application/x-tar")
            let bytes = Array(download.body.readableBytesView)
            #expect(bytes.count == job["bytes"] as? Int)
            #expect(Digest.hex(try Digest.sha256(bytes)) == job["sha256"] as? String)
            try Data(bytes).write(to: URL(fileURLWithPath: tarPath))

            // Another unit's selection holds none of these letters.
            let other = try await client.send(.post, "/api/v1/archive/exports", token: auditor, json: #"{\#(range), "unitId": "\#(dinas.recipient)"}"#)
            let otherID = try other.json()["id"] as? String ?? ""
            for _ in 0..<300 {
                job = try await client.send(.get, "/api/v1/archive/exports/\(otherID)", token: auditor).json()
                if job["state"] as? String == "done" || job["state"] as? String == "failed" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(job["state"] as? String == "done" && job["letters"] as? Int == 0, "\(job)")
            return letters
        }

        // The bag validates with the PyPI bagit package.
        let bag = try await ArchiveTools.extract(tarPath)
        let validated = try await ArchiveTools.bagitValidate(bag)
        #expect(validated.status == 0, "\(validated.output)")
        // Every .p7s verifies with stock openssl and only the archive's CA file.
        let signatures = ArchiveTools.signatures(in: bag)
        #expect(signatures.filter { $0.signature.hasSuffix("document.p7s") }.count == 3)
        #expect(signatures.filter { $0.signature.contains("/evidence/") }.count == 9, "three REM events per letter")
        #expect(signatures.contains { $0.signature.contains("/audit/checkpoints/") })
        #expect(signatures.contains { $0.signature.hasSuffix("/tagmanifest-sha256.txt.p7s") }, "the bag itself is signed")
        for (signature, content) in signatures {
            let stock = try await ArchiveTools.run("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", content,
                                                                  "-CAfile", bag + "/data/pki/ca.pem", "-out", "/dev/null"])
            #expect(stock.status == 0, "\(signature): \(stock.output)")
        }
        // Time-stamps with openssl ts, as the README tells.
        let first = bag + "/data/letters/\(letters[0].lowercased())"
        let ts = try await ArchiveTools.run("/usr/bin/openssl", ["ts", "-verify", "-in", first + "/document.tst", "-token_in", "-data", first + "/document.sigvalue",
                                                           "-CAfile", bag + "/data/pki/ca.pem", "-untrusted", bag + "/data/pki/tsa.pem"])
        #expect(ts.status == 0 && ts.output.contains("Verification: OK"), "\(ts.output)")
        // The letter directory holds what the issue asks for.
        let files = try FileManager.default.contentsOfDirectory(atPath: first)
        #expect(Set(["letter.json", "document.json", "document.p7s", "document.pdf", "history.jsonl", "deliveries.json", "dispositions.json", "attachments", "evidence"]).isSubset(of: Set(files)))
        let dispositions = try String(contentsOfFile: first + "/dispositions.json", encoding: .utf8)
        #expect(dispositions.contains("Sudah ditindaklanjuti.") && dispositions.contains("tindak_lanjuti"))
        let history = try String(contentsOfFile: first + "/history.jsonl", encoding: .utf8)
        #expect(history.contains("letter.signed") && history.contains("\"hash\""))
        let deliveries = try String(contentsOfFile: first + "/deliveries.json", encoding: .utf8)
        #expect(deliveries.contains("\"agendaNumber\"") && deliveries.contains("KEC-SOCAH"))
        let readme = try String(contentsOfFile: bag + "/data/README.txt", encoding: .utf8)
        #expect(readme.contains("Bahasa Indonesia") && readme.contains("English") && readme.contains("openssl cms -verify"))
        let info = try String(contentsOfFile: bag + "/bag-info.txt", encoding: .utf8)
        for field in ["Source-Organization: Pemerintah Kabupaten Uji", "Bagging-Date: ", "Payload-Oxum: ", "External-Identifier: urn:uuid:", "Esurat-Unit: DISKOMINFO"] {
            #expect(info.contains(field), "\(field)")
        }

        // verify-archive passes every item of the untouched archive (in process and as the
        // command), but without the published root fingerprint that is not a success: the
        // root is the archive's own word.
        var lines: [String] = []
        let verdict = try ArchiveVerifier().verify(path: tarPath) { lines.append("\($0.passed) \($0.subject): \($0.detail)") }
        guard case .rootUnconfirmed = verdict else { Issue.record("\(verdict): \(lines)"); return }
        #expect(lines.last?.hasPrefix("false trust anchor") == true, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("true audit chain") })
        #expect(lines.filter { $0.hasPrefix("true letter ") }.count == 3)
        #expect(lines.filter { $0.contains("document.pdf is PAdES B-LTA and embeds document.json") }.count == 3, "\(lines)")
        let command = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", tarPath])
        #expect(command.status == 2, "\(command.output)")
        #expect(command.output.contains("UNVERIFIED  trust anchor") && command.output.contains("Not verified yet"), "\(command.output)")
        #expect(!command.output.contains("FAIL  "), "\(command.output)")

        // The same bag re-packed in another member order still verifies.
        let reversed = scratch + "/reversed.tar"
        try await ArchiveTools.tamper(tarPath, reversed, mode: "reverse")
        let reversedReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", reversed])
        #expect(reversedReport.status == 2 && !reversedReport.output.contains("FAIL  "), "\(reversedReport.output)")

        // One flipped byte in a payload file: bagit and verify-archive both refuse.
        let flipped = scratch + "/flipped.tar"
        try await ArchiveTools.tamper(tarPath, flipped, mode: "flip")
        let flippedBag = try await ArchiveTools.extract(flipped)
        #expect(try await ArchiveTools.bagitValidate(flippedBag).status != 0)
        let flippedReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", flipped])
        #expect(flippedReport.status == 1, "\(flippedReport.output)")
        #expect(flippedReport.output.contains("FAIL  manifest-sha256.txt") && flippedReport.output.contains("attachments"))

        // One flipped byte inside a signed PDF, the bag made to agree: the PDF check refuses.
        let flippedPDF = scratch + "/flipped-pdf.tar"
        try await ArchiveTools.tamper(tarPath, flippedPDF, mode: "flip-pdf")
        let pdfReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", flippedPDF])
        #expect(pdfReport.status == 1 && pdfReport.output.contains("document.pdf"), "\(pdfReport.output)")

        // A deleted audit event and two swapped ones, with the bag's manifests rewritten to
        // match: the bag is valid, the chain is not.
        for mode in ["delete-event", "swap-events"] {
            let tampered = scratch + "/\(mode).tar"
            try await ArchiveTools.tamper(tarPath, tampered, mode: mode)
            #expect(try await ArchiveTools.bagitValidate(try await ArchiveTools.extract(tampered)).status == 0, "the rewritten bag is still a valid bag")
            let report = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", tampered])
            #expect(report.status == 1, "\(mode): \(report.output)")
            #expect(report.output.contains("FAIL  audit chain"), "\(mode): \(report.output)")
            #expect(report.output.contains("FAIL  bag signature"), "\(mode): \(report.output)")
        }
        // The segment cut short at its end, segment.json and the manifests made to agree: the
        // chain still links, but the bag's signature no longer matches its tag manifest.
        let truncated = scratch + "/truncate-tail.tar"
        try await ArchiveTools.tamper(tarPath, truncated, mode: "truncate-tail")
        let truncatedReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", truncated])
        #expect(truncatedReport.status == 1, "\(truncatedReport.output)")
        #expect(truncatedReport.output.contains("FAIL  bag signature"), "\(truncatedReport.output)")
        // A tar cut short in the middle of a member is a failed item, not a crash.
        let whole = try Data(contentsOf: URL(fileURLWithPath: tarPath))
        let cut = scratch + "/cut.tar"
        try whole.prefix(whole.count / 2 + 100).write(to: URL(fileURLWithPath: cut))
        let cutReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", cut])
        #expect(cutReport.status == 1 && cutReport.output.contains("FAIL  archive"), "\(cutReport.output)")
        // Cut between two members (here: only the end-of-archive blocks gone), it is still cut.
        let unended = scratch + "/unended.tar"
        try whole.prefix(whole.count - 1024).write(to: URL(fileURLWithPath: unended))
        let unendedReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", unended])
        #expect(unendedReport.status == 1 && unendedReport.output.contains("FAIL  archive"), "\(unendedReport.output)")
        // A root of the tamperer's added to ca.pem is refused.
        let rogue = scratch + "/rogue-root.tar"
        try await ArchiveTools.tamper(tarPath, rogue, mode: "rogue-root")
        let rogueReport = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", rogue])
        #expect(rogueReport.status == 1 && rogueReport.output.contains("FAIL  pki"), "\(rogueReport.output)")
        // The root's fingerprint: reported, and when the auditor gives the published one,
        // required; it is what `openssl x509 -fingerprint -sha256` prints for the root.
        let rootPEM = try String(contentsOfFile: bag + "/data/pki/ca.pem", encoding: .utf8)
            .components(separatedBy: "-----END CERTIFICATE-----").filter { $0.contains("BEGIN") }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n-----END CERTIFICATE-----\n" }
        var published: String?
        for pem in rootPEM {
            let file = scratch + "/cert.pem"
            try pem.write(toFile: file, atomically: true, encoding: .utf8)
            let subject = try await ArchiveTools.run("/usr/bin/openssl", ["x509", "-in", file, "-noout", "-subject", "-issuer", "-fingerprint", "-sha256"]).output
            let lines = subject.split(separator: "\n").map(String.init)
            if lines.count >= 3, lines[0].dropFirst("subject=".count) == lines[1].dropFirst("issuer=".count) {
                published = lines[2].components(separatedBy: "=").last
            }
        }
        #expect(published != nil)
        #expect(command.output.contains(published ?? "-"), "the report prints the root's fingerprint")
        let pinned = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", "--ca-fingerprint", published ?? "", tarPath])
        #expect(pinned.status == 0, "\(pinned.output)")
        let wrongPin = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", "--ca-fingerprint", String(repeating: "AB", count: 32), tarPath])
        #expect(wrongPin.status == 1 && wrongPin.output.contains("FAIL  pki"), "\(wrongPin.output)")

        // A forger holding an official's key of the same CA: the letter edited and re-signed,
        // the server's evidence, checkpoints and bag re-signed with that key, the bag re-made.
        // Swapping evidence.pem for the official's certificate passed before; now the server's
        // certificate must carry the evidence purpose no official's has.
        let official = try await test.pool.query("SELECT certificate, private_key FROM signing_keys ORDER BY created_at LIMIT 1").single()
        let forgeCert = scratch + "/forger-cert.pem", forgeKey = scratch + "/forger-key.pem", lockedKey = scratch + "/forger-key-locked.pem"
        try (try official.decode("certificate", as: String.self)).write(toFile: forgeCert, atomically: true, encoding: .utf8)
        try (try official.decode("private_key", as: String.self)).write(toFile: lockedKey, atomically: true, encoding: .utf8)
        let unlocked = try await ArchiveTools.run("/usr/bin/openssl", ["pkey", "-in", lockedKey, "-passin", "pass:frasa-sandi-kadis", "-out", forgeKey])
        #expect(unlocked.status == 0, "\(unlocked.output)")
        for swap in ["1", "0"] {
            let forged = scratch + "/forged-\(swap).tar"
            try await ArchiveTools.tamper(tarPath, forged, mode: "forge-official", environment: ["FORGE_CERT": forgeCert, "FORGE_KEY": forgeKey, "FORGE_SWAP_EVIDENCE": swap])
            #expect(try await ArchiveTools.bagitValidate(try await ArchiveTools.extract(forged)).status == 0, "the forged bag is a valid bag")
            let report = try await ArchiveTools.run(ArchiveTools.esurat, ["verify-archive", "--ca-fingerprint", published ?? "", forged])
            #expect(report.status == 1 && report.output.contains("does NOT verify"), "\(report.output)")
            if swap == "1" {
                #expect(report.output.contains("FAIL  pki: data/pki/evidence.pem") && report.output.contains("lacks the evidence purpose"), "\(report.output)")
            } else {
                #expect(report.output.contains("FAIL  bag signature") && report.output.contains("not a server evidence certificate"), "\(report.output)")
                #expect(report.output.contains("the server recorded sending a document with SHA-256"), "\(report.output)")
            }
        }
    }

    /// Many transactions append events at once while two sealers run; every committed event
    /// ends up in one gap-free chain whose hashes recompute, and a checkpoint of its head
    /// verifies with stock openssl.
    @Test func theSealerChainsConcurrentInsertsAndCheckpointsVerify() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let chain = AuditChain(pool: test.pool, pki: test.pki, blocking: test.services.blocking)

        // A lower seq that commits after a higher one was sealed joins the chain later,
        // instead of being skipped.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let (inserted, insertedSignal) = AsyncStream<Void>.makeStream()
        let slow = Task {
            try await test.pool.withTransaction { tx in
                try await AuditLog.append(.init("test.slow", objectType: "test", actorUserID: nil), request: .local, on: tx)
                insertedSignal.yield()
                for await _ in gate { break }
            }
        }
        for await _ in inserted { break }
        try await test.pool.withTransaction { tx in
            try await AuditLog.append(.init("test.fast", objectType: "test", actorUserID: nil), request: .local, on: tx)
        }
        try await chain.sealAll()
        #expect(try await test.pool.query("SELECT count(*) AS n FROM audit_events WHERE action = 'test.fast' AND chain_seq IS NOT NULL").single().decode("n", as: Int.self) == 1)
        open.yield()
        open.finish()
        try await slow.value
        try await chain.sealAll()
        let slowRow = try await test.pool.query("SELECT seq, chain_seq FROM audit_events WHERE action = 'test.slow'").single()
        let fastRow = try await test.pool.query("SELECT seq, chain_seq FROM audit_events WHERE action = 'test.fast'").single()
        #expect(try slowRow.decode("seq", as: Int.self) < fastRow.decode("seq", as: Int.self))
        #expect(try slowRow.decode("chain_seq", as: Int.self) > fastRow.decode("chain_seq", as: Int.self))

        let writers = 8, perWriter = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for n in 0..<perWriter {
                        // Two events per transaction, with a pause in between, so that lower
                        // seq values often commit after higher ones.
                        try await test.pool.withTransaction { tx in
                            try await AuditLog.append(.init("test.write", objectType: "test", objectID: "\(w)-\(n)", actorUserID: nil, details: ["n": "\(n)"]), request: .local, on: tx)
                            try await Task.sleep(for: .microseconds(Int.random(in: 0...1500)))
                            try await AuditLog.append(.init("test.write.second", objectType: "test", objectID: "\(w)-\(n)", actorUserID: nil), request: .local, on: tx)
                        }
                    }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<200 {
                        try await chain.seal(batchSize: 37)
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await chain.sealAll()
        let stats = try await test.pool.query(
            "SELECT count(*) AS n, count(chain_seq) AS sealed, min(chain_seq) AS lo, max(chain_seq) AS hi FROM audit_events").single()
        let total: Int = try stats.decode("n")
        #expect(total >= writers * perWriter * 2)
        #expect(try stats.decode("sealed", as: Int.self) == total)
        #expect(try stats.decode("lo", as: Int.self) == 1 && stats.decode("hi", as: Int.self) == total)

        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await OrganisationAPITests.unit(client, admin, code: "INSPEKTORAT", name: "Inspektorat Daerah")
            _ = try await OrganisationAPITests.user(client, admin, username: "auditor", roles: ["auditor"], unit: unit)
            _ = try await OrganisationAPITests.user(client, admin, username: "staf", roles: ["staff"], unit: unit)
            let auditor = try await client.login("auditor", "kata-sandi-123")
            let staf = try await client.login("staf", "kata-sandi-123")
            #expect(try await client.send(.get, "/api/v1/audit", token: staf).status == .forbidden)
            #expect(try await client.send(.post, "/api/v1/audit/checkpoints", token: staf).status == .forbidden)
            #expect(try await client.send(.get, "/api/v1/audit?limit=0", token: auditor).problem().errors?.first?.field == "limit")
            #expect(try await client.send(.get, "/api/v1/audit?cursor=xyz", token: auditor).status == .badRequest)

            let created = try await client.send(.post, "/api/v1/audit/checkpoints", token: auditor)
            #expect(created.status == .created, "\(created.text)")
            let checkpoint = try created.json()
            let sequence = checkpoint["sequence"] as? Int ?? 0
            // Walk the chain page by page over the API, recomputing every hash and link.
            var previous = AuditChain.genesisHash
            var expected = 1
            var cursor: String?
            var hashes: [Int: String] = [:]
            repeat {
                let page = try await client.send(.get, "/api/v1/audit?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), token: auditor).json()
                for event in page["items"] as? [[String: Any]] ?? [] {
                    let canonical = event["canonical"] as? String ?? ""
                    #expect(Digest.hex(try Digest.sha256(Array(canonical.utf8))) == event["hash"] as? String)
                    #expect(event["prevHash"] as? String == previous)
                    #expect(event["chainSeq"] as? Int == expected)
                    #expect(canonical.contains("\"prevHash\":\"\(previous)\""))
                    previous = event["hash"] as? String ?? ""
                    hashes[expected] = previous
                    expected += 1
                }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(expected - 1 >= sequence)
            #expect(hashes[sequence] == checkpoint["headHash"] as? String)

            // The checkpoint's statement verifies with stock openssl and the served chain.
            let scratch = NSTemporaryDirectory() + "esurat-checkpoint-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let statement = checkpoint["statement"] as? String ?? ""
            #expect(statement.contains("\"sequence\":\(sequence)"))
            try Data(statement.utf8).write(to: URL(fileURLWithPath: scratch + "/checkpoint.json"))
            try Data(base64Encoded: checkpoint["signature"] as? String ?? "")!.write(to: URL(fileURLWithPath: scratch + "/checkpoint.p7s"))
            let chainPEM = try await client.send(.get, "/api/v1/pki/ca.pem")
            try Data(chainPEM.body.readableBytesView).write(to: URL(fileURLWithPath: scratch + "/ca.pem"))
            let stock = try await ArchiveTools.run("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", scratch + "/checkpoint.p7s",
                                                                  "-content", scratch + "/checkpoint.json", "-CAfile", scratch + "/ca.pem", "-out", "/dev/null"])
            #expect(stock.status == 0, "\(stock.output)")
            let listed = try await client.send(.get, "/api/v1/audit/checkpoints", token: auditor).json()["items"] as? [[String: Any]] ?? []
            #expect(listed.contains { $0["sequence"] as? Int == sequence })
        }

        // Sealed events cannot be changed or removed, by anyone.
        await #expect(throws: PostgresError.self) { try await test.pool.query("UPDATE audit_events SET action = 'forged' WHERE chain_seq = 1") }
        await #expect(throws: PostgresError.self) { try await test.pool.query("DELETE FROM audit_events WHERE chain_seq = 2") }
        await #expect(throws: PostgresError.self) { try await test.pool.withConnection { try await $0.runScript("TRUNCATE audit_events CASCADE") } }
        // Nor can an event arrive pre-sealed, or be edited while it waits for the sealer.
        await #expect(throws: PostgresError.self) {
            try await test.pool.query("INSERT INTO audit_events (action, object_type, chain_seq, prev_hash, hash) VALUES ('forged', 'x', 999999, $1, $1)",
                                      [PostgresBytes([UInt8](repeating: 0, count: 32))])
        }
        let waiting: Int = try await test.pool.query("INSERT INTO audit_events (action, object_type) VALUES ('test.waiting', 'test') RETURNING seq").single().decode("seq")
        await #expect(throws: PostgresError.self) { try await test.pool.query("UPDATE audit_events SET action = 'forged' WHERE seq = $1", [waiting]) }
    }

    /// JRA: letters show their retention; admins set schedules; the report lists what is due.
    @Test func retentionStateScheduleAndDueReport() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            _ = try await OrganisationAPITests.user(client, dinas.admin, username: "auditor", roles: ["auditor"], unit: dinas.unit)
            let auditor = try await client.login("auditor", "kata-sandi-123")
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
            #expect(try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()["retention"] == nil, "a draft is not a record yet")
            _ = try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .ok)
            let retention = try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()["retention"] as? [String: Any] ?? [:]
            // 000.1 is seeded with 2 active + 1 inactive years, musnah.
            #expect(retention["state"] as? String == "active")
            #expect(retention["scheduleCode"] as? String == "000.1" && retention["activeYears"] as? Int == 2 && retention["finalDisposition"] as? String == "musnah")
            #expect(try await client.send(.get, "/api/v1/archive/retention?due=true", token: auditor).json()["items"] as? [Any] != nil)
            #expect((try await client.send(.get, "/api/v1/archive/retention?due=true", token: auditor).json()["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.send(.get, "/api/v1/archive/retention", token: tu).status == .forbidden)

            // Only admins set schedules; bad values are named.
            #expect(try await client.send(.put, "/api/v1/classifications/000.1/retention", token: auditor, json: #"{"activeYears": 0, "inactiveYears": 0, "finalDisposition": "permanen"}"#).status == .forbidden)
            let bad = try await client.send(.put, "/api/v1/classifications/000.1/retention", token: dinas.admin, json: #"{"activeYears": -1, "inactiveYears": 0, "finalDisposition": "bakar"}"#)
            #expect(Set(try bad.problem().errors?.map(\.field) ?? []) == ["activeYears", "finalDisposition"])
            #expect(try await client.send(.put, "/api/v1/classifications/123.4/retention", token: dinas.admin, json: #"{"activeYears": 1, "inactiveYears": 1, "finalDisposition": "musnah"}"#).status == .notFound)
            let set = try await client.send(.put, "/api/v1/classifications/000.1/retention", token: dinas.admin, json: #"{"activeYears": 0, "inactiveYears": 0, "finalDisposition": "permanen"}"#)
            #expect(set.status == .ok, "\(set.text)")
            let due = try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()["retention"] as? [String: Any] ?? [:]
            #expect(due["state"] as? String == "due" && due["finalDisposition"] as? String == "permanen")
            let report = try await client.send(.get, "/api/v1/archive/retention?due=true", token: auditor).json()["items"] as? [[String: Any]] ?? []
            #expect(report.map { $0["letterId"] as? String } == [id])
            #expect((report.first?["retention"] as? [String: Any])?["state"] as? String == "due")
        }
        // Nothing was deleted: the letter and its document are still there.
        #expect(try await test.pool.query("SELECT count(*) AS n FROM letter_documents").single().decode("n", as: Int.self) == 1)
    }

    /// The ustar writer against GNU tar and the reader: long paths split into prefix and
    /// name, empty and odd-sized members, checksums.
    @Test func tarWriterAndReaderAgreeWithGNUTar() async throws {
        let path = NSTemporaryDirectory() + "esurat-tar-\(UUID().uuidString).tar"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let long = "bag/data/letters/" + String(repeating: "a", count: 36) + "/evidence/" + String(repeating: "b", count: 36) + "-SubmissionAcceptance.p7s"
        #expect(long.utf8.count > 100)
        let tar = try TarWriter(sink: try FileArchiveSink(path: path), mtime: Date())
        let contents: [(String, [UInt8])] = [("bag/empty.txt", []), (long, Array(repeating: 7, count: 1000)), ("bag/c.bin", (0..<513).map { UInt8($0 % 251) })]
        for (name, bytes) in contents {
            let digests = try await tar.add(path: name, bytes: bytes)
            #expect(digests.sha256 == Digest.hex(try Digest.sha256(bytes)))
            #expect(digests.sha512 == Digest.hex(try Digest.sha512(bytes)))
        }
        let whole = try await tar.close()
        #expect(whole == Digest.hex(try Digest.sha256(Array(try Data(contentsOf: URL(fileURLWithPath: path))))))
        let listed = try await ArchiveTools.run("/usr/bin/tar", ["-tvf", path])
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.output.contains(long) && listed.output.contains(" 1000 ") && listed.output.contains(" 513 "))
        let reader = try TarReader(path: path)
        var read: [(String, [UInt8])] = []
        while let entry = try reader.next() {
            var bytes: [UInt8] = []
            try reader.read(entry) { bytes.append(contentsOf: $0) }
            read.append((entry.path, bytes))
        }
        #expect(read.map(\.0) == contents.map(\.0))
        #expect(read.map(\.1) == contents.map(\.1))
        #expect(throws: TarWriter.NameTooLong.self) { try TarWriter.header(path: String(repeating: "x", count: 300), size: 0, mtime: 0) }
    }
}
