@testable import EsuratHTTP
import EsuratServices
import EsuratPostgres
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Units, positions, users and delegations through the API: who may see and change what,
/// and every way a client can get the input wrong.
@Suite struct OrganisationAPITests {
    /// Creates a unit as admin and returns its id.
    static func unit(_ client: some TestClientProtocol, _ admin: String, code: String, name: String? = nil, kind: String = "opd") async throws -> String {
        let response = try await client.send(.post, "/api/v1/units", token: admin, json: #"{"code": "\#(code)", "name": "\#(name ?? "Dinas \(code)")", "kind": "\#(kind)"}"#)
        #expect(response.status == .created, "\(response.text)")
        return try response.json()["id"] as? String ?? ""
    }

    static func position(_ client: some TestClientProtocol, _ admin: String, unit: String, title: String, head: Bool = false) async throws -> String {
        let response = try await client.send(.post, "/api/v1/positions", token: admin, json: #"{"unitId": "\#(unit)", "title": "\#(title)", "isHead": \#(head)}"#)
        #expect(response.status == .created, "\(response.text)")
        return try response.json()["id"] as? String ?? ""
    }

    static func user(
        _ client: some TestClientProtocol, _ admin: String, username: String, roles: [String], unit: String,
        position: String? = nil, fullName: String = "Pegawai", nip: String? = nil
    ) async throws -> String {
        let positionField = position.map { #", "positionId": "\#($0)""# } ?? ""
        let nipField = nip.map { #", "nip": "\#($0)""# } ?? ""
        let roleList = roles.map { "\"\($0)\"" }.joined(separator: ", ")
        let response = try await client.send(
            .post, "/api/v1/users", token: admin,
            json: #"{"username": "\#(username)", "fullName": "\#(fullName)", "password": "kata-sandi-123", "roles": [\#(roleList)], "unitId": "\#(unit)"\#(positionField)\#(nipField)}"#)
        #expect(response.status == .created, "\(response.text)")
        return try response.json()["id"] as? String ?? ""
    }

    @Test func visibilityMatrixOfEachRoleOverOwnAndOtherUnit() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let own = try await Self.unit(client, admin, code: "OWN")
            let other = try await Self.unit(client, admin, code: "OTHER")
            let ownTarget = try await Self.user(client, admin, username: "target.own", roles: ["staff"], unit: own)
            let otherTarget = try await Self.user(client, admin, username: "target.other", roles: ["staff"], unit: other)
            let otherPosition = try await Self.position(client, admin, unit: other, title: "Kepala Dinas", head: true)

            for role in ["admin", "clerk", "official", "staff", "auditor"] {
                _ = try await Self.user(client, admin, username: "role.\(role)", roles: [role], unit: own)
                let token = try await client.login("role.\(role)", "kata-sandi-123")
                let seesEveryAccount = role == "admin" || role == "auditor"
                // The organisation's structure is visible to everyone signed in.
                #expect(try await client.send(.get, "/api/v1/units", token: token).status == .ok)
                #expect(try await client.send(.get, "/api/v1/units/\(other)", token: token).status == .ok)
                #expect(try await client.send(.get, "/api/v1/positions/\(otherPosition)", token: token).status == .ok)
                #expect(try await client.send(.get, "/api/v1/positions?unitId=\(other)", token: token).status == .ok)
                // Accounts: own unit for everyone, other units for admins and auditors only; the
                // others get 404, not 403, so an account's existence does not leak.
                #expect(try await client.send(.get, "/api/v1/users/\(ownTarget)", token: token).status == .ok, "\(role)")
                let otherUser = try await client.send(.get, "/api/v1/users/\(otherTarget)", token: token)
                #expect(otherUser.status == (seesEveryAccount ? .ok : .notFound), "\(role)")
                let list = try await client.send(.get, "/api/v1/users?limit=200", token: token).text
                #expect(list.contains("target.own"))
                #expect(list.contains("target.other") == seesEveryAccount, "\(role)")
                // Changes are for admins; others get 403.
                let expected: HTTPResponse.Status = role == "admin" ? .created : .forbidden
                let unit = try await client.send(.post, "/api/v1/units", token: token, json: #"{"code": "N-\#(role)", "name": "Baru", "kind": "opd"}"#)
                #expect(unit.status == expected, "\(role): \(unit.text)")
                let position = try await client.send(.post, "/api/v1/positions", token: token, json: #"{"unitId": "\#(own)", "title": "Staf \#(role)"}"#)
                #expect(position.status == expected, "\(role)")
                let user = try await client.send(.post, "/api/v1/users", token: token, json: #"{"username": "new.\#(role)", "fullName": "Baru", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(own)"}"#)
                #expect(user.status == expected, "\(role)")
                if role != "admin" { #expect(try user.problem().status == 403) }
                let renamed = try await client.send(.patch, "/api/v1/units/\(other)", token: token, json: #"{"name": "Nama \#(role)"}"#)
                #expect(renamed.status == (role == "admin" ? .ok : .forbidden), "\(role)")
            }
        }
    }

    @Test func aDelegationGrantsThePositionOnlyWithinItsWindow() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let dinas = try await Self.unit(client, admin, code: "DINAS")
            let head = try await Self.position(client, admin, unit: dinas, title: "Kepala Dinas", head: true)
            let secretaryPosition = try await Self.position(client, admin, unit: dinas, title: "Sekretaris")
            let secretary = try await Self.user(client, admin, username: "sekretaris", roles: ["official"], unit: dinas, position: secretaryPosition)
            let token = try await client.login("sekretaris", "kata-sandi-123")
            func acting() async throws -> [[String: Any]] {
                try await client.send(.get, "/api/v1/me", token: token).json()["actingPositions"] as? [[String: Any]] ?? []
            }
            let iso = ISO8601DateFormatter()
            let now = Date()
            func window(_ from: TimeInterval, _ until: TimeInterval, capacity: String = "plt") -> String {
                #"{"positionId": "\#(head)", "userId": "\#(secretary)", "capacity": "\#(capacity)", "validFrom": "\#(iso.string(from: now + from))", "validUntil": "\#(iso.string(from: now + until))"}"#
            }
            // In the future: nothing yet.
            #expect(try await client.send(.post, "/api/v1/delegations", token: admin, json: window(3600, 7200)).status == .created)
            #expect(try await acting().count == 1)
            // In the past: nothing.
            #expect(try await client.send(.post, "/api/v1/delegations", token: admin, json: window(-7200, -3600)).status == .created)
            #expect(try await acting().count == 1)
            // Now: Plt. Kepala Dinas.
            #expect(try await client.send(.post, "/api/v1/delegations", token: admin, json: window(-60, 3600)).status == .created)
            let positions = try await acting()
            #expect(positions.count == 2)
            #expect(positions.contains { $0["positionId"] as? String == head && $0["capacity"] as? String == "plt" })

            // Overlapping, inverted, and Plh. for a vacant position are refused.
            let overlap = try await client.send(.post, "/api/v1/delegations", token: admin, json: window(1800, 5400))
            #expect(overlap.status == .conflict)
            #expect(try overlap.problem().errors?.first?.field == "validFrom")
            let inverted = try await client.send(.post, "/api/v1/delegations", token: admin, json: window(9000, 8000))
            #expect(inverted.status == .badRequest)
            #expect(try inverted.problem().errors?.first?.field == "validUntil")
            let plh = try await client.send(.post, "/api/v1/delegations", token: admin, json: window(20000, 30000, capacity: "plh"))
            #expect(plh.status == .conflict)
            #expect(try plh.problem().errors?.first?.field == "capacity")
            let listed = try await client.send(.get, "/api/v1/delegations?positionId=\(head)", token: token).json()["items"] as? [Any]
            #expect(listed?.count == 3)
        }
    }

    @Test func badInputIsAClear4xxNamingTheField() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await Self.unit(client, admin, code: "DISKOMINFO")
            func field(_ json: String, _ path: String = "/api/v1/users") async throws -> (HTTPResponse.Status, String?) {
                let response = try await client.send(.post, path, token: admin, json: json)
                return (response.status, try response.problem().errors?.first?.field)
            }
            #expect(try await field(#"{"fullName": "Budi", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.badRequest, "username"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(UUID())"}"#) == (.badRequest, "unitId"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "not-a-uuid"}"#) == (.badRequest, "unitId"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "password": "short", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.badRequest, "password"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "password": "kata-sandi-123", "roles": ["raja"], "unitId": "\#(unit)"}"#).0 == .badRequest)
            #expect(try await field(#"{"username": "Budi Santoso!", "fullName": "Budi", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.badRequest, "username"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "nip": "19800230 200501 1 001", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.badRequest, "nip"))
            #expect(try await field(#"{"username": "budi", "fullName": "Budi", "nip": "12345", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.badRequest, "nip"))
            // Duplicates are 409 naming the field.
            _ = try await Self.user(client, admin, username: "budi", roles: ["staff"], unit: unit, nip: "19800101 200501 1 001")
            #expect(try await field(#"{"username": "budi", "fullName": "Budi Lain", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.conflict, "username"))
            #expect(try await field(#"{"username": "budi2", "fullName": "Budi Lain", "nip": "198001012005011001", "password": "kata-sandi-123", "roles": ["staff"], "unitId": "\#(unit)"}"#) == (.conflict, "nip"))
            #expect(try await field(#"{"code": "DISKOMINFO", "name": "Lagi", "kind": "opd"}"#, "/api/v1/units") == (.conflict, "code"))
            #expect(try await field(#"{"code": "X1", "name": "Lagi", "kind": "kerajaan"}"#, "/api/v1/units").0 == .badRequest)
            #expect(try await field(#"{"code": "bad code!", "name": "Lagi", "kind": "opd"}"#, "/api/v1/units") == (.badRequest, "code"))
            #expect(try await field(#"{"code": "X2", "name": "Lagi", "kind": "opd", "parentId": "\#(UUID())"}"#, "/api/v1/units") == (.badRequest, "parentId"))
            #expect(try await field(#"{"unitId": "\#(UUID())", "title": "Kepala"}"#, "/api/v1/positions") == (.badRequest, "unitId"))
            #expect(try await field(#"{"unitId": "\#(unit)", "title": ""}"#, "/api/v1/positions") == (.badRequest, "title"))
            // Paging parameters.
            let badLimit = try await client.send(.get, "/api/v1/units?limit=1000", token: admin)
            #expect(badLimit.status == .badRequest)
            let badCursor = try await client.send(.get, "/api/v1/units?cursor=%%%", token: admin)
            #expect(badCursor.status == .badRequest)
            // A 10 MB body is refused before it is read.
            let huge = #"{"username": "x", "fullName": ""# + String(repeating: "a", count: 10 << 20) + #"", "password": "p", "roles": [], "unitId": "x"}"#
            let tooLarge = try await client.send(.post, "/api/v1/users", token: admin, json: huge)
            #expect(tooLarge.status == .contentTooLarge)
            // Nothing half-written: only the one valid account exists besides admin.
            let count: Int = try await test.pool.query("SELECT count(*) AS n FROM users").single().decode("n")
            #expect(count == 2)
        }
    }

    @Test func indonesianNamesAndApostrophesRoundTrip() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let unit = try await Self.unit(client, admin, code: "KEC-SOCAH", name: "Kecamatan Socah — Kab. Bangkalan", kind: "kecamatan")
            for name in ["Siti Nur'aini", "Moh. Ma'ruf Šukri", "Ni Luh Putu Ayu Dewi", "H. Abd. Rahman, S.Kom., M.T.", "Ḥasan 'Ali"] {
                let id = try await Self.user(client, admin, username: "u\(abs(name.hashValue) % 100000)", roles: ["staff"], unit: unit, fullName: name)
                let fetched = try await client.send(.get, "/api/v1/users/\(id)", token: admin)
                #expect(try fetched.json()["fullName"] as? String == name)
            }
            let fetched = try await client.send(.get, "/api/v1/units/\(unit)", token: admin)
            #expect(try fetched.json()["name"] as? String == "Kecamatan Socah — Kab. Bangkalan")
        }
    }

    @Test func listsPageWithCursors() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            for n in 0..<7 { _ = try await Self.unit(client, admin, code: "U\(n)") }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = "/api/v1/units?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri, token: admin).json()
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ["PEMDA", "U0", "U1", "U2", "U3", "U4", "U5", "U6"])
        }
    }
}
