import EsuratHTTP
import EsuratPostgres
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What a stolen session can no longer do with an official's signature (issue 16): give
/// itself a signing key without the account password, or guess the key's passphrase.
@Suite struct SigningProofTests {
    @Test func makingOrReplacingASigningKeyNeedsTheAccountPassword() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            _ = try await Dinas.make(client)
            let kadis = try await client.login("kadis", "kata-sandi-123")
            func makeKey(_ body: String) async throws -> TestResponse {
                try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: body)
            }
            // The session alone was enough before.
            let bare = try await makeKey(#"{"passphrase": "frasa-sandi-pencuri"}"#)
            #expect(bare.status == .badRequest)
            #expect(try bare.problem().errors?.contains { $0.field == "password" } == true)
            let wrong = try await makeKey(#"{"passphrase": "frasa-sandi-pencuri", "password": "tebakan-pencuri"}"#)
            #expect(wrong.status == .forbidden)
            #expect(try wrong.problem().errors?.first?.field == "password")
            #expect(try await test.pool.query("SELECT count(*) AS n FROM signing_keys").single().decode("n", as: Int.self) == 0)

            let first = try await makeKey(#"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#)
            #expect(first.status == .created, "\(first.text)")
            let firstSerial = try #require(try first.json()["certificateSerial"] as? String)
            let second = try await makeKey(#"{"passphrase": "frasa-sandi-baru", "password": "kata-sandi-123"}"#)
            #expect(second.status == .created)

            // Guessing the password through this door counts as guessing it at the login: after
            // five wrong ones (with the first above) even the right one waits.
            for guess in 0..<4 {
                #expect(try await makeKey(#"{"passphrase": "frasa-sandi-pencuri", "password": "tebakan-\#(guess)"}"#).status == .forbidden)
            }
            let limited = try await makeKey(#"{"passphrase": "frasa-sandi-pencuri", "password": "kata-sandi-123"}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter].flatMap(Int.init) != nil)
            #expect(try await client.send(.post, "/api/v1/auth/login", json: #"{"username": "kadis", "password": "kata-sandi-123"}"#).status == .tooManyRequests)

            let events = try await test.pool.query(
                "SELECT action, details->>'replaces' AS replaces FROM audit_events WHERE action LIKE 'pki.signing_key_%' OR action = 'auth.password_confirmation_failed' ORDER BY seq")
            let actions = try events.map { try $0.decode("action", as: String.self) }
            #expect(actions == ["auth.password_confirmation_failed", "pki.signing_key_issued", "pki.signing_key_replaced"] + Array(repeating: "auth.password_confirmation_failed", count: 4))
            #expect(try events[2].decode("replaces", as: String?.self) == firstSerial)
        }
        #expect(!test.logs.lines.contains { $0.contains("tebakan-") || $0.contains("kata-sandi-123") || $0.contains("frasa-sandi") })
    }

    @Test func wrongSigningPassphrasesAreLimitedAndAudited() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            let id = try #require(try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String)
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)

            // Ten guesses at once: each looks at the count only after the guess before it was
            // counted, so five are tried (and refused) and five never reach the key.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for guess in 0..<10 {
                    group.addTask {
                        try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "tebakan-\#(guess)"}"#).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unprocessableContent }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 5)
            // The right passphrase waits out the window too; the letter is untouched.
            let limited = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap(Int.init))
            #expect((1...900).contains(retryAfter))
            #expect(try await client.send(.get, "/api/v1/letters/\(id)", token: kadis).json()["status"] as? String == "awaiting_signature")
            let wrongs = try await test.pool.query(
                "SELECT count(*) AS n FROM audit_events WHERE action = 'letter.sign_passphrase_wrong' AND lower(object_id) = $1", [id]
            ).single().decode("n", as: Int.self)
            #expect(wrongs == 5)

            // When the window has passed (moved here rather than waited for), the right
            // passphrase signs.
            try await test.pool.query("UPDATE signing_passphrase_failures SET at = at - interval '16 minutes'")
            let signed = try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
            #expect(signed.status == .ok, "\(signed.text)")
            // Neither a right passphrase nor a refusal that never tried one (the letter is
            // signed now) counts as a failure.
            #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .conflict)
            #expect(try await test.pool.query("SELECT count(*) AS n FROM signing_passphrase_failures WHERE at > now() - interval '15 minutes'").single().decode("n", as: Int.self) == 0)
        }
    }
}
