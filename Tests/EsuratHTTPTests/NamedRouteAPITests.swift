import EsuratHTTP
import EsuratPostgres
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// "The drafter chooses the signer" (issue 16): a named route obeys the hierarchy, a.n. needs a
/// recorded mandate, and a workflow can demand a minimum chain. In the Dinas of ``Dinas``: TU
/// (drafter) ← Kabid ← Sekretaris ← Kepala Dinas.
@Suite struct NamedRouteAPITests {
    @Test func theDrafterCannotNameJustAnyoneAsSignerOrReviewer() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kabid = try await client.login("kabid", "kata-sandi-123")
            // A peer of the Kabid, under the Sekretaris: not above the TU.
            let peer = try await client.send(
                .post, "/api/v1/positions", token: dinas.admin,
                json: #"{"unitId": "\#(dinas.unit)", "title": "Kepala Bidang Statistik", "superiorId": "\#(dinas.sekretarisPosition)"}"#
            ).json()["id"] as? String ?? ""
            func refused(_ token: String, signer: String, reviewers: [String] = []) async throws -> String? {
                let response = try await client.send(.post, "/api/v1/letters", token: token, json: dinas.draft(signer: signer, reviewers: reviewers))
                guard response.status == .badRequest else { return "\(response.status)" }
                return try response.problem().errors?.first?.field
            }
            // Before the fix every one of these made a letter the drafter's pick would sign.
            #expect(try await refused(tu, signer: dinas.tuPosition) == "signerPositionId")
            #expect(try await refused(tu, signer: peer) == "signerPositionId")
            #expect(try await refused(kabid, signer: dinas.tuPosition) == "signerPositionId")
            #expect(try await refused(tu, signer: dinas.sekretarisPosition, reviewers: [dinas.kadisPosition]) == "reviewerPositionIds[0]")
            #expect(try await refused(kabid, signer: dinas.kadisPosition, reviewers: [dinas.kabidPosition]) == "reviewerPositionIds[0]")
            #expect(try await test.pool.query("SELECT count(*) AS n FROM letters").single().decode("n", as: Int.self) == 0)

            // Allowed: reviewers given top-down initial bottom-up; the peer gives paraf koordinasi.
            let created = try await client.send(
                .post, "/api/v1/letters", token: tu, json: dinas.draft(reviewers: [dinas.sekretarisPosition, peer, dinas.kabidPosition]))
            #expect(created.status == .created, "\(created.text)")
            let route = try created.json()["route"] as? [[String: Any]] ?? []
            #expect(route.compactMap { $0["positionId"] as? String } == [peer, dinas.kabidPosition, dinas.sekretarisPosition, dinas.kadisPosition]
                || route.compactMap { $0["positionId"] as? String } == [dinas.kabidPosition, peer, dinas.sekretarisPosition, dinas.kadisPosition])
            #expect(route.compactMap { $0["kind"] as? String }.sorted() == ["reviewCoordination", "reviewHierarchy", "reviewHierarchy", "sign"])
            #expect(route.last?["capacity"] as? String == "direct")

            // A workflow for undangan that demands two reviewers holds named routes to it.
            let workflow = #"{"name": "undangan-berjenjang", "letterType": "undangan", "minimumReviewers": 2, "steps": [{"kind": "reviewHierarchy", "actor": "superiorOfDrafter"}, {"kind": "sign", "actor": "headOfDrafterUnit"}]}"#
            let defined = try await client.send(.post, "/api/v1/workflows", token: dinas.admin, json: workflow)
            #expect(defined.status == .created, "\(defined.text)")
            #expect(try defined.json()["minimumReviewers"] as? Int == 2)
            #expect(try await refused(tu, signer: dinas.kadisPosition, reviewers: [dinas.kabidPosition]) == "reviewerPositionIds")
            #expect(try await client.send(
                .post, "/api/v1/letters", token: tu, json: dinas.draft(reviewers: [dinas.kabidPosition, dinas.sekretarisPosition])).status == .created)
        }
    }

    @Test func signingAtasNamaNeedsAMandateInForceWhenDraftedAndWhenSigned() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let sekretaris = try await client.login("sekretaris", "kata-sandi-123")
            #expect(try await client.send(
                .post, "/api/v1/me/signing-key", token: sekretaris, json: #"{"passphrase": "frasa-sandi-sekretaris", "password": "kata-sandi-123"}"#
            ).status == .created)
            let atasNama = dinas.draft(signer: dinas.sekretarisPosition, reviewers: [dinas.kabidPosition])
                .replacingOccurrences(of: #""reviewerPositionIds""#, with: #""signingCapacity": "an", "reviewerPositionIds""#)
            let unmandated = try await client.send(.post, "/api/v1/letters", token: tu, json: atasNama)
            #expect(unmandated.status == .badRequest)
            #expect(try unmandated.problem().errors?.first?.field == "signingCapacity")

            let iso = ISO8601DateFormatter()
            func mandate(principal: String, from: Date = Date() - 60, until: Date = Date() + 86_400, token: String? = nil) async throws -> TestResponse {
                try await client.send(
                    .post, "/api/v1/mandates", token: token ?? dinas.admin,
                    json: #"{"positionId": "\#(dinas.sekretarisPosition)", "principalPositionId": "\#(principal)", "reference": "SK Kepala Dinas Nomor 800/17/2026", "validFrom": "\#(iso.string(from: from))", "validUntil": "\#(iso.string(from: until))"}"#)
            }
            #expect(try await mandate(principal: dinas.kadisPosition, token: tu).status == .forbidden)
            let below = try await mandate(principal: dinas.kabidPosition)
            #expect(below.status == .badRequest)
            #expect(try below.problem().errors?.first?.field == "principalPositionId")
            let recorded = try await mandate(principal: dinas.kadisPosition)
            #expect(recorded.status == .created, "\(recorded.text)")
            #expect(try await mandate(principal: dinas.kadisPosition).status == .conflict)
            let audited = try await test.pool.query("SELECT details->>'reference' AS reference FROM audit_events WHERE action = 'mandate.created'")
            #expect(try audited.map { try $0.decode("reference", as: String.self) } == ["SK Kepala Dinas Nomor 800/17/2026"])

            func drafted() async throws -> String {
                let created = try await client.send(.post, "/api/v1/letters", token: tu, json: atasNama)
                #expect(created.status == .created, "\(created.text)")
                let json = try created.json()
                let signer = (json["route"] as? [[String: Any]] ?? []).last
                #expect(signer?["capacity"] as? String == "an")
                #expect(signer?["principalPositionId"] as? String == dinas.kadisPosition)
                let id = json["id"] as? String ?? ""
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
                let kabid = try await client.login("kabid", "kata-sandi-123")
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/review", token: kabid, json: #"{"decision": "approve"}"#).status == .ok)
                return id
            }
            let signedLetter = try await drafted()
            let signed = try await client.send(.post, "/api/v1/letters/\(signedLetter)/sign", token: sekretaris, json: #"{"passphrase": "frasa-sandi-sekretaris"}"#)
            #expect(signed.status == .ok, "\(signed.text)")
            let document = try await client.send(.get, "/api/v1/letters/\(signedLetter)/document", token: tu).text
            #expect(document.contains(#""printed":["a.n. Kepala Dinas Komunikasi dan Informatika","Sekretaris"]"#), "\(document)")

            // The mandate ends before the next letter is signed: the signature is refused and
            // the letter keeps waiting, unnumbered.
            let waiting = try await drafted()
            try await test.pool.query("UPDATE signing_mandates SET valid_until = now() - interval '1 second' WHERE valid_until > now()")
            let late = try await client.send(.post, "/api/v1/letters/\(waiting)/sign", token: sekretaris, json: #"{"passphrase": "frasa-sandi-sekretaris"}"#)
            #expect(late.status == .conflict, "\(late.text)")
            let after = try await client.send(.get, "/api/v1/letters/\(waiting)", token: tu).json()
            #expect(after["status"] as? String == "awaiting_signature")
            #expect(after["number"] == nil)
        }
    }
}
