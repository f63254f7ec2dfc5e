@testable import EsuratHTTP
import EsuratPostgres
import EsuratServices
import EsuratSigning
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Signing keys, the CA chain, CRLs and revocation through the API.
@Suite struct PKIAPITests {
    @Test func anOfficialGetsAKeyWhoseSignaturesVerifyWithTheServedChain() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await OrganisationAPITests.unit(client, admin, code: "DISKOMINFO", name: "Dinas Komunikasi dan Informatika")
            let position = try await OrganisationAPITests.position(client, admin, unit: unit, title: "Kepala Dinas", head: true)
            let official = try await OrganisationAPITests.user(
                client, admin, username: "kadis", roles: ["official"], unit: unit, position: position, fullName: "Siti Nur'aini", nip: "198001012005012001")
            _ = official
            let token = try await client.login("kadis", "kata-sandi-123")

            let short = try await client.send(.post, "/api/v1/me/signing-key", token: token, json: #"{"passphrase": "pendek", "password": "kata-sandi-123"}"#)
            #expect(short.status == .badRequest)
            #expect(try short.problem().errors?.first?.field == "passphrase")

            let issued = try await client.send(.post, "/api/v1/me/signing-key", token: token, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#)
            #expect(issued.status == .created, "\(issued.text)")
            let body = try issued.json()
            let serial = try #require(body["certificateSerial"] as? String)
            #expect(serial == serial.uppercased())
            #expect((body["subject"] as? String)?.contains("serialNumber=198001012005012001") == true)
            #expect((body["subject"] as? String)?.contains("CN=Siti Nur'aini") == true)

            // The chain and the CRLs are public.
            let chain = try await client.send(.get, "/api/v1/pki/ca.pem")
            #expect(chain.status == .ok)
            #expect(try Certificate.chain(pem: chain.text).count == 2)
            let crl = try await client.send(.get, "/api/v1/pki/crl.der")
            #expect(crl.status == .ok)
            let rootCRL = try await client.send(.get, "/api/v1/pki/root-crl.der")

            // The stored key, unlocked with the passphrase, signs; the served chain verifies it.
            let row = try await test.pool.query("SELECT certificate, private_key FROM signing_keys WHERE certificate_serial = $1", [serial]).single()
            let key = try PrivateKey.unlock(pem: try row.decode("private_key"), passphrase: "frasa-sandi-kadis")
            #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try PrivateKey.unlock(pem: try row.decode("private_key"), passphrase: "salah-sandi") }
            let certificate = try Certificate(pem: try row.decode("certificate"))
            let document = Array("{\"perihal\":\"Uji\"}".utf8)
            let signature = try CMSSigner(certificate: certificate, key: key, chain: [try test.pki.issuingCertificate()], timestampAuthority: try test.pki.timestampAuthority()).sign(document)
            let trust = try TrustStore(
                pemBundle: chain.text,
                crls: [try RevocationList(der: Array(crl.body.readableBytesView)), try RevocationList(der: Array(rootCRL.body.readableBytesView))])
            #expect(SignatureVerifier(trust: trust).verify(content: document, signature: signature).passed)

            // Revoked (admin only), it shows in the next CRL.
            let staff = try await OrganisationAPITests.user(client, admin, username: "staf", roles: ["staff"], unit: unit)
            _ = staff
            let staffToken = try await client.login("staf", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: staffToken, json: #"{"passphrase": "frasa-sandi-staf", "password": "kata-sandi-123"}"#).status == .forbidden)
            #expect(try await client.send(.post, "/api/v1/pki/certificates/\(serial)/revoke", token: token, json: #"{"reason": "keyCompromise"}"#).status == .forbidden)
            let badReason = try await client.send(.post, "/api/v1/pki/certificates/\(serial)/revoke", token: admin, json: #"{"reason": "bosan"}"#)
            #expect(badReason.status == .badRequest)
            #expect(try await client.send(.post, "/api/v1/pki/certificates/ABCDEF/revoke", token: admin, json: #"{"reason": "keyCompromise"}"#).status == .notFound)
            #expect(try await client.send(.post, "/api/v1/pki/certificates/\(serial)/revoke", token: admin, json: #"{"reason": "keyCompromise"}"#).status == .noContent)
            #expect(try await client.send(.post, "/api/v1/pki/certificates/\(serial)/revoke", token: admin, json: #"{"reason": "keyCompromise"}"#).status == .conflict)
            let newCRL = try RevocationList(der: Array(try await client.send(.get, "/api/v1/pki/crl.der").body.readableBytesView))
            #expect(newCRL.revocationDate(serialHex: serial) != nil)
        }
    }

    @Test func anAccountWithoutANIPCannotGetACertificate() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await OrganisationAPITests.unit(client, admin, code: "BAPPEDA")
            _ = try await OrganisationAPITests.user(client, admin, username: "tanpanip", roles: ["official"], unit: unit)
            let token = try await client.login("tanpanip", "kata-sandi-123")
            let response = try await client.send(.post, "/api/v1/me/signing-key", token: token, json: #"{"passphrase": "frasa-sandi-ok", "password": "kata-sandi-123"}"#)
            #expect(response.status == .unprocessableContent)
            #expect(try response.problem().errors?.first?.field == "nip")
        }
    }
}
