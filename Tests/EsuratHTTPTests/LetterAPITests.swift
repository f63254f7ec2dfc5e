@testable import EsuratHTTP
import EsuratPostgres
import EsuratServices
import EsuratSigning
import NIOCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A Dinas with its chain of positions and accounts, for letter tests.
struct Dinas {
    var admin: String
    var unit: String
    var recipient: String
    var kadisPosition: String
    var sekretarisPosition: String
    var kabidPosition: String
    var tuPosition: String

    static func make(_ client: some TestClientProtocol) async throws -> Dinas {
        let admin = try await client.login("admin", TestApp.adminPassword)
        let unit = try await OrganisationAPITests.unit(client, admin, code: "DISKOMINFO", name: "Dinas Komunikasi dan Informatika")
        let recipient = try await OrganisationAPITests.unit(client, admin, code: "KEC-SOCAH", name: "Kecamatan Socah", kind: "kecamatan")
        let kadis = try await OrganisationAPITests.position(client, admin, unit: unit, title: "Kepala Dinas Komunikasi dan Informatika", head: true)
        func position(_ title: String, superior: String) async throws -> String {
            let response = try await client.send(.post, "/api/v1/positions", token: admin, json: #"{"unitId": "\#(unit)", "title": "\#(title)", "superiorId": "\#(superior)"}"#)
            return try response.json()["id"] as? String ?? ""
        }
        let sekretaris = try await position("Sekretaris", superior: kadis)
        let kabid = try await position("Kepala Bidang Aplikasi Informatika", superior: sekretaris)
        let tu = try await position("Kepala Subbagian Tata Usaha", superior: kabid)
        _ = try await OrganisationAPITests.user(client, admin, username: "kadis", roles: ["official"], unit: unit, position: kadis, fullName: "Siti Nur'aini", nip: "198001012005012001")
        _ = try await OrganisationAPITests.user(client, admin, username: "sekretaris", roles: ["official"], unit: unit, position: sekretaris, fullName: "Achmad Ma'ruf", nip: "197505052000031002")
        _ = try await OrganisationAPITests.user(client, admin, username: "kabid", roles: ["official"], unit: unit, position: kabid, fullName: "Rina Agustina", nip: "198203032006042003")
        _ = try await OrganisationAPITests.user(client, admin, username: "tu", roles: ["clerk", "official"], unit: unit, position: tu, fullName: "Bambang Suharto", nip: "198506062010011004")
        _ = try await OrganisationAPITests.user(client, admin, username: "staf", roles: ["staff"], unit: unit)
        _ = try await OrganisationAPITests.user(client, admin, username: "camat", roles: ["official"], unit: recipient)
        return Dinas(admin: admin, unit: unit, recipient: recipient, kadisPosition: kadis, sekretarisPosition: sekretaris, kabidPosition: kabid, tuPosition: tu)
    }

    func draft(signer: String? = nil, reviewers: [String] = [], security: String = "biasa", subject: String = "Undangan Rapat Koordinasi TTE") -> String {
        let reviewerList = reviewers.map { "\"\($0)\"" }.joined(separator: ", ")
        return #"{"type": "undangan", "subject": "\#(subject)", "classificationCode": "000.1", "securityLevel": "\#(security)", "urgency": "segera", "body": "Dengan hormat, kami mengundang Saudara …", "recipients": [{"unitId": "\#(recipient)", "role": "to"}], "signerPositionId": "\#(signer ?? kadisPosition)", "reviewerPositionIds": [\#(reviewerList)]}"#
    }
}

@Suite struct LetterAPITests {
    @Test func draftReviewReturnEditSignAndVerifyWithStockOpenSSL() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kabid = try await client.login("kabid", "kata-sandi-123")
            let sekretaris = try await client.login("sekretaris", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)

            let created = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition, dinas.sekretarisPosition]))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(try created.json()["id"] as? String)
            func status() async throws -> String { try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()["status"] as? String ?? "" }
            // Two attachments, hashed as they arrive.
            for (name, type, bytes) in [("jadwal.pdf", "application/pdf", Array("%PDF-1.7 jadwal".utf8) + [0, 0, 7]), ("denah.png", "image/png", [0x89, 0x50, 0x4E, 0x47, 0, 1, 2])] {
                let uploaded = try await client.execute(
                    uri: "/api/v1/letters/\(id)/attachments?filename=\(name)", method: .post,
                    headers: [.authorization: "Bearer \(tu)", .contentType: type], body: ByteBuffer(bytes: bytes))
                #expect(uploaded.status == .created)
            }

            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
            #expect(try await status() == "in_review")
            // The wrong reviewer, and the wrong state.
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: sekretaris, json: #"{"decision": "approve"}"#).status == .forbidden)
            let again = try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu)
            #expect(again.status == .conflict)
            #expect(try again.problem().detail?.contains("in_review") == true)
            // Returned with a note, edited (If-Match), resubmitted.
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: kabid, json: #"{"decision": "return", "note": "Perihal kurang jelas"}"#).status == .ok)
            let current = try await client.send(.get, "/api/v1/letters/\(id)", token: tu)
            let etag = try #require(current.headers[.eTag])
            let stale = try await client.send(.put, "/api/v1/letters/\(id)", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition, dinas.sekretarisPosition]), headers: [.ifMatch: "\"99\""])
            #expect(stale.status == .conflict)
            let edited = try await client.send(.put, "/api/v1/letters/\(id)", token: tu,
                                               json: dinas.draft(reviewers: [dinas.kabidPosition, dinas.sekretarisPosition], subject: "Undangan Rapat Koordinasi Penerapan TTE"),
                                               headers: [.ifMatch: etag])
            #expect(edited.status == .ok, "\(edited.text)")
            // An edit that names a shorter route replaces it; restore the two reviewers after.
            let shorter = try await client.send(.put, "/api/v1/letters/\(id)", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition]),
                                                headers: [.ifMatch: "\"\(try edited.json()["version"] as? Int ?? 0)\""])
            #expect((try shorter.json()["route"] as? [Any])?.count == 2)
            let restored = try await client.send(.put, "/api/v1/letters/\(id)", token: tu,
                                                 json: dinas.draft(reviewers: [dinas.kabidPosition, dinas.sekretarisPosition], subject: "Undangan Rapat Koordinasi Penerapan TTE"),
                                                 headers: [.ifMatch: "\"\(try shorter.json()["version"] as? Int ?? 0)\""])
            #expect((try restored.json()["route"] as? [Any])?.count == 3)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: kabid, json: #"{"decision": "approve"}"#).status == .ok)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: sekretaris, json: #"{"decision": "approve", "note": "Setuju"}"#).status == .ok)
            #expect(try await status() == "awaiting_signature")

            // A wrong passphrase consumes no number.
            let wrong = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "bukan-ini"}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect(try wrong.problem().errors?.first?.field == "passphrase")
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kabid, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .forbidden)
            let signed = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
            #expect(signed.status == .ok, "\(signed.text)")
            let body = try signed.json()
            #expect(body["status"] as? String == "signed")
            let number = try #require(body["number"] as? String)
            let year = Calendar(identifier: .gregorian).component(.year, from: Date())
            #expect(number == "000.1/1/DISKOMINFO/\(year)" || number == "000.1/1/DISKOMINFO/\(year + 1)")
            let history = (body["history"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(history.contains("letter.returned") && history.contains("letter.signed"))

            // The document and the signature verify with the stock command and the served chain.
            let document = try await client.send(.get, "/api/v1/letters/\(id)/document", token: tu)
            #expect(document.headers[.contentType]?.hasPrefix("application/json") == true)
            let signature = try await client.send(.get, "/api/v1/letters/\(id)/signature", token: tu)
            let chain = try await client.send(.get, "/api/v1/pki/ca.pem")
            let scratch = NSTemporaryDirectory() + "esurat-letter-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try Data(document.body.readableBytesView).write(to: URL(fileURLWithPath: scratch + "/document.json"))
            try Data(signature.body.readableBytesView).write(to: URL(fileURLWithPath: scratch + "/signature.p7s"))
            try Data(chain.body.readableBytesView).write(to: URL(fileURLWithPath: scratch + "/chain.pem"))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["cms", "-verify", "-binary", "-inform", "DER", "-in", scratch + "/signature.p7s", "-content", scratch + "/document.json", "-CAfile", scratch + "/chain.pem", "-out", "/dev/null"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let documentText = String(buffer: document.body)
            #expect(documentText.contains(number))
            // The attachment hashes in the signed document match the bytes served.
            let signedAttachments = (try JSONSerialization.jsonObject(with: Data(document.body.readableBytesView)) as? [String: Any])?["attachments"] as? [[String: Any]] ?? []
            #expect(signedAttachments.count == 2)
            for attachment in try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()["attachments"] as? [[String: Any]] ?? [] {
                let served = try await client.send(.get, "/api/v1/letters/\(id)/attachments/\(attachment["id"] as? String ?? "")", token: tu)
                let hasher = try SHA256Hasher()
                try hasher.update(Array(served.body.readableBytesView))
                let digest = try hasher.finalizeHex()
                #expect(signedAttachments.contains { $0["sha256"] as? String == digest })
            }
            #expect(documentText.contains(#""printed":["Kepala Dinas Komunikasi dan Informatika"]"#))
            let verification = try await client.send(.get, "/api/v1/letters/\(id)/verification", token: tu)
            #expect(try verification.json()["indication"] as? String == "TOTAL_PASSED", "\(verification.text)")

            // After signing, nothing but dispatch applies.
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/withdraw", token: tu).status == .conflict)
            let outbox: Int = try await test.pool.query("SELECT count(*) AS n FROM deliveries WHERE letter_id = $1", [UUID(uuidString: id)!]).single().decode("n")
            #expect(outbox == 1)
        }
    }

    @Test func aRahasiaLetterIsInvisibleToColleaguesWhoAreNotNamed() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let staf = try await client.login("staf", "kata-sandi-123")
            let sekretaris = try await client.login("sekretaris", "kata-sandi-123")
            let camat = try await client.login("camat", "kata-sandi-123")
            let biasa = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
            let rahasia = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition], security: "rahasia")).json()["id"] as? String ?? ""
            #expect(try await client.send(.get, "/api/v1/letters/\(biasa)", token: staf).status == .ok)
            #expect(try await client.send(.get, "/api/v1/letters/\(rahasia)", token: staf).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/letters/\(rahasia)", token: sekretaris).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/letters/\(rahasia)", token: tu).status == .ok)
            let kabid = try await client.login("kabid", "kata-sandi-123")
            #expect(try await client.send(.get, "/api/v1/letters/\(rahasia)", token: kabid).status == .ok)
            #expect(try await client.send(.get, "/api/v1/letters/\(biasa)", token: camat).status == .notFound)
            #expect(try await client.send(.post, "/api/v1/letters/\(rahasia)/submit", token: staf).status == .notFound)
        }
    }

    @Test func parallelSigningsGetGaplessNumbers() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        // 50 at once: each signing now also renders and PAdES-signs the PDF under the unit's number
        // lock (about 16 ms in a debug build, several times that with the whole suite loading both
        // cores), so 200 at once outwaited the 10 s pool acquire timeout.
        let count = 50
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            var ids: [String] = []
            for _ in 0..<count {
                let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
                ids.append(id)
            }
            // One wrong passphrase in the middle takes no number.
            #expect(try await client.send(.post, "/api/v1/letters/\(ids[0])/sign", token: kadis, json: #"{"passphrase": "salah"}"#).status == .unprocessableContent)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for id in ids {
                    group.addTask { try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
        }
        let numbers = try await test.pool.query("SELECT number_sequence FROM letters WHERE number_sequence IS NOT NULL ORDER BY 1").map { try $0.decode("number_sequence", as: Int.self) }
        #expect(numbers == Array(1...count))
    }

    @Test func badLetterInputIsAClear4xxAndStoresNothing() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            func field(_ json: String) async throws -> (HTTPResponse.Status, String?) {
                let response = try await client.send(.post, "/api/v1/letters", token: tu, json: json)
                return (response.status, try response.problem().errors?.first?.field)
            }
            let good = dinas.draft()
            #expect(try await field(good.replacingOccurrences(of: #""type": "undangan""#, with: #""type": "pantun""#)) == (.badRequest, "type"))
            #expect(try await field(good.replacingOccurrences(of: #""classificationCode": "000.1""#, with: #""classificationCode": "1.2""#)) == (.badRequest, "classificationCode"))
            #expect(try await field(good.replacingOccurrences(of: #""classificationCode": "000.1""#, with: #""classificationCode": "999.9""#)) == (.badRequest, "classificationCode"))
            #expect(try await field(good.replacingOccurrences(of: #""subject": "Undangan Rapat Koordinasi TTE""#, with: #""subject": """#)) == (.badRequest, "subject"))
            #expect(try await field(good.replacingOccurrences(of: #""subject": "Undangan Rapat Koordinasi TTE""#, with: #""subject": "\#(String(repeating: "a", count: 10_000))""#)) == (.badRequest, "subject"))
            #expect(try await field(good.replacingOccurrences(of: #""recipients": [{"unitId": "\#(dinas.recipient)", "role": "to"}]"#, with: #""recipients": []"#)) == (.badRequest, "recipients"))
            #expect(try await field(good.replacingOccurrences(of: dinas.recipient, with: UUID().uuidString)) == (.badRequest, "recipients[0].unitId"))
            #expect(try await field(good.replacingOccurrences(of: dinas.recipient, with: "bukan-uuid")) == (.badRequest, "recipients[0].unitId"))
            #expect(try await field(good.replacingOccurrences(of: #""securityLevel": "biasa""#, with: #""securityLevel": "penting""#)) == (.badRequest, "securityLevel"))
            #expect(try await field(good.replacingOccurrences(of: dinas.kadisPosition, with: UUID().uuidString)) == (.badRequest, "signerPositionId"))
            #expect(try await client.send(.get, "/api/v1/letters/not-a-uuid", token: tu).status == .badRequest)
            #expect(try await client.send(.get, "/api/v1/letters/\(UUID())", token: tu).status == .notFound)
            let staf = try await client.login("staf", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/letters", token: staf, json: good).status == .forbidden)
        }
        #expect(try await test.pool.query("SELECT count(*) AS n FROM letters").single().decode("n", as: Int.self) == 0)
    }
}

@Suite struct PltSigningTests {
    @Test func aPltSignsAsPltAndBothThePositionAndThePersonAreRecorded() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await OrganisationAPITests.unit(client, admin, code: "DINSOS", name: "Dinas Sosial")
            let recipient = try await OrganisationAPITests.unit(client, admin, code: "KEC-KAMAL", name: "Kecamatan Kamal", kind: "kecamatan")
            // The head's position is vacant; the secretary is Plt.
            let kadis = try await OrganisationAPITests.position(client, admin, unit: unit, title: "Kepala Dinas Sosial", head: true)
            let sekretarisPosition = try await client.send(.post, "/api/v1/positions", token: admin, json: #"{"unitId": "\#(unit)", "title": "Sekretaris", "superiorId": "\#(kadis)"}"#).json()["id"] as? String ?? ""
            let sekretaris = try await OrganisationAPITests.user(client, admin, username: "sekdin", roles: ["official", "clerk"], unit: unit, position: sekretarisPosition, fullName: "Hasan Basri", nip: "197001012000011001")
            let iso = ISO8601DateFormatter()
            let window = #"{"positionId": "\#(kadis)", "userId": "\#(sekretaris)", "capacity": "plt", "validFrom": "\#(iso.string(from: Date() - 60))", "validUntil": "\#(iso.string(from: Date() + 86_400))"}"#
            #expect(try await client.send(.post, "/api/v1/delegations", token: admin, json: window).status == .created)
            let token = try await client.login("sekdin", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: token, json: #"{"passphrase": "frasa-sandi-sekdin", "password": "kata-sandi-123"}"#).status == .created)
            let draft = #"{"type": "surat_dinas", "subject": "Penyaluran Bantuan Sosial", "classificationCode": "400", "securityLevel": "biasa", "urgency": "biasa", "body": "Isi surat", "recipients": [{"unitId": "\#(recipient)", "role": "to"}], "signerPositionId": "\#(kadis)", "reviewerPositionIds": []}"#
            let id = try await client.send(.post, "/api/v1/letters", token: token, json: draft).json()["id"] as? String ?? ""
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: token).json()["status"] as? String == "awaiting_signature")
            let signed = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: token, json: #"{"passphrase": "frasa-sandi-sekdin"}"#)
            #expect(signed.status == .ok, "\(signed.text)")
            let document = try await client.send(.get, "/api/v1/letters/\(id)/document", token: token).text
            #expect(document.contains(#""printed":["Plt. Kepala Dinas Sosial"]"#), "\(document)")
            #expect(document.contains(#""capacity":"plt""#))
            #expect(document.contains(#""positionId":"\#(kadis)""#))
            #expect(document.contains(#""userId":"\#(sekretaris)""#))
            let history = try signed.json()["history"] as? [[String: Any]] ?? []
            let signing = history.first { $0["action"] as? String == "letter.signed" }
            #expect(signing?["actingPositionId"] as? String == kadis)
            #expect(signing?["actingCapacity"] as? String == "plt")
            #expect(signing?["actorUserId"] as? String == sekretaris)
        }
    }
}

@Suite struct LetterQueueTests {
    @Test func aBoxPagesThroughManyLettersNewestFirstWithoutHistory() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            var created: [String] = []
            for index in 0..<32 {
                let response = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(subject: "Undangan ke-\(index)"))
                created.append(try response.json()["id"] as? String ?? "")
            }
            // Pages of 20 and 12: more letters than one pipelined batch of views (25).
            let first = try await client.send(.get, "/api/v1/letters?box=drafts&limit=30", token: tu).json()
            let firstItems = first["items"] as? [[String: Any]] ?? []
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await client.send(.get, "/api/v1/letters?box=drafts&limit=30&cursor=\(cursor)", token: tu).json()
            let secondItems = second["items"] as? [[String: Any]] ?? []
            #expect(firstItems.count == 30 && secondItems.count == 2)
            #expect(second["nextCursor"] == nil || second["nextCursor"] is NSNull)
            #expect((firstItems + secondItems).compactMap { $0["id"] as? String } == created.reversed())
            #expect((firstItems + secondItems).compactMap { $0["subject"] as? String } == (0..<32).reversed().map { "Undangan ke-\($0)" })
            #expect(firstItems.allSatisfy { ($0["history"] as? [Any])?.isEmpty ?? true })
        }
    }

    @Test func boxesAndAnOverdueReviewThatEscalates() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kabid = try await client.login("kabid", "kata-sandi-123")
            let sekretaris = try await client.login("sekretaris", "kata-sandi-123")
            let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition])).json()["id"] as? String ?? ""
            func box(_ name: String, _ token: String) async throws -> [String] {
                (try await client.send(.get, "/api/v1/letters?box=\(name)", token: token).json()["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await box("drafts", tu) == [id])
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
            #expect(try await box("drafts", tu).isEmpty)
            #expect(try await box("review", kabid) == [id])
            #expect(try await box("review", sekretaris).isEmpty)
            #expect(try await client.send(.get, "/api/v1/letters?box=lainnya", token: tu).status == .badRequest)

            // Nothing is overdue yet; a day later the Kabid's superior may act.
            #expect(try await test.services.letters.escalateOverdue(now: Date()) == 0)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: sekretaris, json: #"{"decision": "approve"}"#).status == .forbidden)
            #expect(try await test.services.letters.escalateOverdue(now: Date().addingTimeInterval(25 * 3600)) == 1)
            #expect(try await test.services.letters.escalateOverdue(now: Date().addingTimeInterval(26 * 3600)) == 0)
            #expect(try await box("review", sekretaris) == [id])
            let approved = try await client.send(.post, "/api/v1/letters/\(id)/review", token: sekretaris, json: #"{"decision": "approve", "note": "Diambil alih"}"#)
            #expect(approved.status == .ok)
            let history = (try approved.json()["history"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(history.contains("letter.step_escalated"))
            #expect(try approved.json()["status"] as? String == "awaiting_signature")
        }
    }
}

@Suite struct AttachmentTests {
    @Test func attachmentsAreHashedSignedAndServedByteForByte() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            let staf = try await client.login("staf", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
            func upload(_ bytes: [UInt8], type: String, name: String, token: String? = nil) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v1/letters/\(id)/attachments?filename=\(name)", method: .post,
                    headers: [.authorization: "Bearer \(token ?? tu)", .contentType: type], body: ByteBuffer(bytes: bytes))
            }
            let pdf: [UInt8] = Array("%PDF-1.7\n".utf8) + [0, 0, 1, 2, 0, 255] + Array(repeating: 0x41, count: 5000)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 300)
            let first = try await upload(pdf, type: "application/pdf", name: "undangan.pdf")
            #expect(first.status == .created, "\(first.text)")
            let second = try await upload(png, type: "image/png", name: "denah%20lokasi.png")
            #expect(second.status == .created)
            // Refused: a type not on the list, a file over 20 MB, someone else's draft.
            let exe = try await upload([0x4D, 0x5A], type: "application/x-msdownload", name: "virus.exe")
            #expect(exe.status == .unsupportedMediaType)
            #expect(try exe.problem().errors?.first?.field == "Content-Type")
            #expect(try await upload(Array(repeating: 0, count: (20 << 20) + 1), type: "application/pdf", name: "besar.pdf").status == .contentTooLarge)
            #expect(try await upload(pdf, type: "application/pdf", name: "lain.pdf", token: staf).status == .forbidden)
            #expect(try await upload(pdf, type: "application/pdf", name: "").status == .badRequest)

            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
            // After submission the draft is frozen.
            #expect(try await upload(pdf, type: "application/pdf", name: "telat.pdf").status == .conflict)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .ok)

            let document = try JSONSerialization.jsonObject(with: Data(try await client.send(.get, "/api/v1/letters/\(id)/document", token: tu).body.readableBytesView)) as? [String: Any] ?? [:]
            let listed = document["attachments"] as? [[String: Any]] ?? []
            #expect(listed.count == 2)
            let letter = try await client.send(.get, "/api/v1/letters/\(id)", token: tu).json()
            for attachment in letter["attachments"] as? [[String: Any]] ?? [] {
                let served = try await client.send(.get, "/api/v1/letters/\(id)/attachments/\(attachment["id"] as? String ?? "")", token: tu)
                #expect(served.status == .ok)
                #expect(served.headers[.contentType] == attachment["mediaType"] as? String)
                let digest = try SHA256Hasher()
                try digest.update(Array(served.body.readableBytesView))
                let hash = try digest.finalizeHex()
                #expect(hash == attachment["sha256"] as? String)
                #expect(listed.contains { $0["sha256"] as? String == hash && ($0["size"] as? Int) == served.body.readableBytes })
            }
            #expect(listed.contains { $0["name"] as? String == "denah lokasi.png" })
        }
        let stored = try await test.pool.query("SELECT count(*) AS n FROM attachments").single().decode("n", as: Int.self)
        #expect(stored == 2)
    }
}

@Suite struct WorkflowVersionTests {
    @Test func aLetterStaysOnTheWorkflowVersionItStartedWith() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kabid = try await client.login("kabid", "kata-sandi-123")
            // v1: the drafter's superior initials, the Sekretaris initials, the head signs.
            let v1 = #"{"name": "undangan-dinas", "letterType": "undangan", "steps": [{"kind": "reviewHierarchy", "actor": "superiorOfDrafter", "deadlineHours": 24}, {"kind": "reviewHierarchy", "actor": "position", "positionId": "\#(dinas.sekretarisPosition)"}, {"kind": "sign", "actor": "headOfDrafterUnit", "capacity": "direct"}]}"#
            let created = try await client.send(.post, "/api/v1/workflows", token: dinas.admin, json: v1)
            #expect(created.status == .created, "\(created.text)")
            #expect(try created.json()["version"] as? Int == 1)
            #expect(try await client.send(.post, "/api/v1/workflows", token: tu, json: v1).status == .forbidden)
            let withoutRoute = #"{"type": "undangan", "subject": "Rapat", "classificationCode": "000.1", "securityLevel": "biasa", "urgency": "biasa", "body": "Isi", "recipients": [{"unitId": "\#(dinas.recipient)", "role": "to"}]}"#
            let first = try await client.send(.post, "/api/v1/letters", token: tu, json: withoutRoute).json()
            let firstRoute = (first["route"] as? [[String: Any]] ?? []).compactMap { $0["positionId"] as? String }
            #expect(firstRoute == [dinas.kabidPosition, dinas.sekretarisPosition, dinas.kadisPosition])

            // v2: only the head signs.
            let v2 = #"{"name": "undangan-dinas", "letterType": "undangan", "steps": [{"kind": "sign", "actor": "headOfDrafterUnit"}]}"#
            #expect(try await client.send(.post, "/api/v1/workflows", token: dinas.admin, json: v2).json()["version"] as? Int == 2)
            let second = try await client.send(.post, "/api/v1/letters", token: tu, json: withoutRoute).json()
            #expect((second["route"] as? [[String: Any]] ?? []).compactMap { $0["positionId"] as? String } == [dinas.kadisPosition])

            // The first letter still walks v1's route.
            let firstID = first["id"] as? String ?? ""
            #expect(try await client.send(.post, "/api/v1/letters/\(firstID)/submit", token: tu).status == .ok)
            let reviewed = try await client.send(.post, "/api/v1/letters/\(firstID)/review", token: kabid, json: #"{"decision": "approve"}"#).json()
            #expect(reviewed["status"] as? String == "in_review")
            #expect((reviewed["route"] as? [[String: Any]] ?? []).count == 3)

            // Definitions are validated.
            let badSteps = try await client.send(.post, "/api/v1/workflows", token: dinas.admin, json: #"{"name": "x", "steps": [{"kind": "reviewHierarchy", "actor": "superiorOfDrafter"}]}"#)
            #expect(badSteps.status == .badRequest)
            #expect(try badSteps.problem().errors?.first?.field == "steps[0].kind")
            let unknown = try await client.send(.post, "/api/v1/workflows", token: dinas.admin, json: #"{"name": "y", "steps": [{"kind": "sign", "actor": "position", "positionId": "\#(UUID())"}]}"#)
            #expect(try unknown.problem().errors?.first?.field == "steps[0].positionId")
            let listed = try await client.send(.get, "/api/v1/workflows", token: tu).json()["items"] as? [Any]
            #expect(listed?.count == 2)
        }
    }
}

@Suite struct IdempotencyTests {
    @Test func aRetriedCreateReturnsTheFirstResult() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let first = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(), headers: [.idempotencyKey: "surat-2026-0001"])
            let again = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(), headers: [.idempotencyKey: "surat-2026-0001"])
            #expect(first.status == .created && again.status == .created)
            #expect(try first.json()["id"] as? String == (try again.json()["id"] as? String))
            #expect(again.headers[.idempotentReplayed] == "true")
            let different = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(subject: "Lain"), headers: [.idempotencyKey: "surat-2026-0001"])
            #expect(different.status == .unprocessableContent)
            #expect(try different.problem().errors?.first?.field == "Idempotency-Key")
            // Keys belong to their caller.
            let kabid = try await client.login("kabid", "kata-sandi-123")
            let other = try await client.send(.post, "/api/v1/letters", token: kabid, json: dinas.draft(), headers: [.idempotencyKey: "surat-2026-0001"])
            #expect(other.status == .created)
            #expect(try other.json()["id"] as? String != (try first.json()["id"] as? String))
            // A refusal is the answer too.
            let bad = try await client.send(.post, "/api/v1/units", token: dinas.admin, json: #"{"code": "bad code!", "name": "x", "kind": "opd"}"#, headers: [.idempotencyKey: "unit-1"])
            let badAgain = try await client.send(.post, "/api/v1/units", token: dinas.admin, json: #"{"code": "bad code!", "name": "x", "kind": "opd"}"#, headers: [.idempotencyKey: "unit-1"])
            #expect(bad.status == .badRequest && badAgain.status == .badRequest)
            #expect(try await client.send(.post, "/api/v1/units", token: dinas.admin, json: "{}", headers: [.idempotencyKey: String(repeating: "k", count: 300)]).status == .badRequest)
        }
        let letters = try await test.pool.query("SELECT count(*) AS n FROM letters").single().decode("n", as: Int.self)
        #expect(letters == 2)
    }

    /// Issue 16: the store kept a plain SHA-256 of bodies holding passwords, kept new API
    /// tokens in plaintext for replays, and left a crashed request's key "in progress" for
    /// a day.
    @Test func theStoreKeepsNoSecretAndForgetsAClaimWhoseServerDied() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let body = #"{"name": "integrasi-arsip"}"#
            let created = try await client.send(.post, "/api/v1/me/tokens", token: tu, json: body, headers: [.idempotencyKey: "token-1"])
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(try created.json()["token"] as? String)
            let stored = try await test.pool.query("SELECT request_hash, body, response_withheld FROM idempotency_keys WHERE key = 'token-1'").single()
            #expect(try stored.decode("body", as: PostgresBytes?.self) == nil)
            #expect(try stored.decode("response_withheld", as: Bool.self))
            let everything = try await test.pool.query("SELECT coalesce(string_agg(encode(coalesce(body, ''), 'escape'), ''), '') AS all FROM idempotency_keys").single()
            #expect(!(try everything.decode("all", as: String.self)).contains(secret))
            // The hash is keyed: not the SHA-256 of what the middleware hashes.
            let plain = Digest.hex(try Digest.sha256(Array("POST /api/v1/me/tokens\napplication/json\n\(body)".utf8)))
            #expect(try stored.decode("request_hash", as: String.self) != plain)
            #expect(try stored.decode("request_hash", as: String.self) != Digest.hex(try Digest.sha256(Array(plain.utf8))))
            // A retry learns that it succeeded, never the token.
            let retried = try await client.send(.post, "/api/v1/me/tokens", token: tu, json: body, headers: [.idempotencyKey: "token-1"])
            #expect(retried.status == .conflict)
            #expect(!retried.text.contains(secret))
            #expect(try retried.problem().errors?.first?.field == "Idempotency-Key")

            // A claim left by a server that died mid-request: a retry after the request's
            // timeout runs instead of getting 409 all day.
            let user = try await test.pool.query("SELECT id FROM users WHERE username = 'tu'").single().decode("id", as: UUID.self)
            try await test.pool.query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, 'surat-mati', 'x', now() - interval '6 minutes')", [user])
            try await test.pool.query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, 'surat-jalan', 'x', now() - interval '1 minute')", [user])
            #expect(try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(), headers: [.idempotencyKey: "surat-mati"]).status == .created)
            let running = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(), headers: [.idempotencyKey: "surat-jalan"])
            #expect(running.status == .unprocessableContent || running.status == .conflict)
        }
    }
}

@Suite struct ClassificationTests {
    @Test func adminsKeepTheTableAndLettersUseIt() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let codes = (try await client.send(.get, "/api/v1/classifications", token: tu).json()["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            #expect(codes.prefix(3) == ["000", "000.1", "100"])
            #expect(try await client.send(.post, "/api/v1/classifications", token: tu, json: #"{"code": "000.1.2", "title": "Persuratan"}"#).status == .forbidden)
            let orphan = try await client.send(.post, "/api/v1/classifications", token: dinas.admin, json: #"{"code": "000.9.1", "title": "Tanpa induk"}"#)
            #expect(try orphan.problem().errors?.first?.field == "code")
            #expect(try await client.send(.post, "/api/v1/classifications", token: dinas.admin, json: #"{"code": "000.1.2", "title": "Persuratan"}"#).status == .ok)
            let draft = dinas.draft().replacingOccurrences(of: #""classificationCode": "000.1""#, with: #""classificationCode": "000.1.2""#)
            #expect(try await client.send(.post, "/api/v1/letters", token: tu, json: draft).status == .created)
            // Deactivated codes take no new letters.
            #expect(try await client.send(.post, "/api/v1/classifications", token: dinas.admin, json: #"{"code": "000.1.2", "title": "Persuratan", "active": false}"#).status == .ok)
            #expect(try await client.send(.post, "/api/v1/letters", token: tu, json: draft).status == .badRequest)
        }
    }
}
