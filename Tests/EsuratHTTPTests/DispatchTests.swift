@testable import EsuratHTTP
import EsuratDomain
import EsuratSigning
import EsuratPostgres
@testable import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@Suite struct DispatchTests {
    /// `count` signed letters from one unit to each of `recipients`, written straight into the
    /// tables (the worker does not care how they were signed).
    static func outbox(_ test: TestApp, letters count: Int, recipients: Int) async throws -> (units: [UUID], letters: [UUID]) {
        let admin: UUID = try await test.pool.query("SELECT id FROM users WHERE username = 'admin'").single().decode("id")
        let sender: UUID = try await test.pool.query("SELECT id FROM units WHERE code = 'PEMDA'").single().decode("id")
        var units: [UUID] = []
        for n in 0..<recipients {
            units.append(try await test.pool.query("INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", ["R\(n)", "Penerima \(n)"]).single().decode("id"))
        }
        var state = LetterWorkflowState(route: [RouteStep(kind: .sign, positionID: UUID(), escalationPositionID: nil, deadlineHours: nil)], drafterUserID: admin, drafterPositionID: nil)
        state.status = .signed
        let json = try PostgresJSONB(state)
        var letters: [UUID] = []
        for _ in 0..<count {
            let letter: UUID = try await test.pool.query(
                """
                INSERT INTO letters (unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, status, workflow_state,
                                     pending_deliveries)
                VALUES ($1, $2, 'nota_dinas', 'Uji', '000', 'biasa', 'biasa', '', 'signed', $3, $4) RETURNING id
                """, [sender, admin, json, units.count]).single().decode("id")
            try await test.pool.query("INSERT INTO deliveries (letter_id, recipient_unit_id, role) SELECT $1, unnest($2::uuid[]), 'to'", [letter, units])
            letters.append(letter)
        }
        return (units, letters)
    }

    static func worker(_ test: TestApp, configure: (inout DispatchWorker.Configuration) -> Void = { _ in }) -> DispatchWorker {
        var configuration = DispatchWorker.Configuration()
        configure(&configuration)
        return DispatchWorker(pool: test.pool, evidence: (test.pki, test.services.blocking), configuration: configuration, logger: Logger(label: "test.dispatch"))
    }

    @Test func anIdleWorkerWaitsBetweenPollsAndANotificationWakesIt() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let worker = Self.worker(test) { $0.pollInterval = .milliseconds(400) }
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        // Counted from its first claim: on a machine loaded by the whole suite, starting (LISTEN,
        // the first heartbeat) once took longer than the two seconds measured.
        let clock = ContinuousClock()
        let startDeadline = clock.now + .seconds(30)
        while worker.claimsMade.load(ordering: .relaxed) == 0, clock.now < startDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let claimsBefore = worker.claimsMade.load(ordering: .relaxed)
        // Idle for two seconds: a claim per poll and delivery loop (about ten for its two
        // loops; fewer when the machine is busy), not the claim loop of the bug this guards
        // against (thousands).
        try await Task.sleep(for: .seconds(2))
        let idleClaims = worker.claimsMade.load(ordering: .relaxed) - claimsBefore
        #expect((1...30).contains(idleClaims), "\(idleClaims) claims in two idle seconds")
        // Still listening after those timed-out waits: a queued letter is delivered.
        let (_, letters) = try await Self.outbox(test, letters: 1, recipients: 2)
        try await test.pool.query("SELECT pg_notify('deliveries', $1)", [letters[0].uuidString])
        let deadline = clock.now + .seconds(30)
        while try await test.pool.query("SELECT status FROM letters WHERE id = $1", [letters[0]]).single().decode("status", as: String.self) != "delivered" {
            #expect(clock.now < deadline, "not delivered")
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func everyRecipientGetsTheLetterOnceAndTheLetterIsDelivered() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (units, letters) = try await Self.outbox(test, letters: 3, recipients: 4)
        let worker = Self.worker(test)
        while try await worker.drainOnce() > 0 {}
        let inbox: Int = try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n")
        #expect(inbox == 12)
        #expect(units.count == 4)
        for letter in letters {
            let status: String = try await test.pool.query("SELECT status FROM letters WHERE id = $1", [letter]).single().decode("status")
            #expect(status == "delivered")
            // Each move of the letter is audited once, in order.
            let moves = try await test.pool.query(
                "SELECT action FROM audit_events WHERE object_id = $1 AND action LIKE 'letter.%' ORDER BY seq", [letter.uuidString]
            ).map { try $0.decode("action", as: String.self) }
            #expect(moves == ["letter.dispatching", "letter.delivered"])
        }
        let attempts = try await test.pool.query("SELECT DISTINCT attempts FROM deliveries").map { try $0.decode("attempts", as: Int.self) }
        #expect(attempts == [1])
    }

    @Test func twoWorkersAtOnceNeverDeliverOneItemTwice() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        _ = try await Self.outbox(test, letters: 100, recipients: 3)
        let workers = [Self.worker(test) { $0.batchSize = 7 }, Self.worker(test) { $0.batchSize = 11 }]
        let handled = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in workers {
                group.addTask {
                    var total = 0
                    while true {
                        let n = try await worker.drainOnce()
                        if n == 0 { return total }
                        total += n
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(handled.reduce(0, +) == 300)
        #expect(handled.allSatisfy { $0 > 0 }, "both workers took part: \(handled)")
        let duplicates: Int = try await test.pool.query(
            "SELECT count(*) AS n FROM (SELECT letter_id, unit_id FROM inbox_entries GROUP BY 1, 2 HAVING count(*) > 1) d").single().decode("n")
        #expect(duplicates == 0)
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 300)
        let failures = try await test.pool.query("SELECT DISTINCT last_error FROM deliveries WHERE state <> 'delivered'").map { try $0.decode("last_error", as: String?.self) ?? "" }
        #expect(failures.isEmpty, "\(failures)")
        // Letters shared by both workers' batches moved on once each, not once per worker.
        let moves = try await test.pool.query(
            "SELECT action, count(*) AS n, count(DISTINCT object_id) AS letters FROM audit_events WHERE action LIKE 'letter.%' GROUP BY action ORDER BY action")
        #expect(try moves.map { try $0.decode("action", as: String.self) } == ["letter.delivered", "letter.dispatching"])
        #expect(try moves.allSatisfy { try $0.decode("n", as: Int.self) == 100 && $0.decode("letters", as: Int.self) == 100 })
        #expect(try await test.pool.query("SELECT count(*) AS n FROM letters WHERE status <> 'delivered'").single().decode("n", as: Int.self) == 0)
    }

    @Test func theWorkerTellsWhatItDeliveredOnceItIsCommitted() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (_, letters) = try await Self.outbox(test, letters: 2, recipients: 3)
        let (told, tell) = AsyncStream.makeStream(of: DispatchWorker.Delivered.self)
        let worker = Self.worker(test) { $0.onDelivered = { for delivery in $0 { tell.yield(delivery) } } }
        // Each delivery is looked up from another connection as soon as the worker tells of it:
        // its inbox entry is there. (A weak check of the order: a hook called just before the
        // commit could still lose the race to it.)
        let checked = Task {
            var seen: [(delivery: UUID, letter: UUID, visible: Bool)] = []
            for await delivery in told {
                let visible = try await test.pool.query(
                    "SELECT count(*) AS n FROM inbox_entries WHERE delivery_id = $1 AND letter_id = $2", [delivery.delivery, delivery.letter]
                ).single().decode("n", as: Int.self) == 1
                seen.append((delivery.delivery, delivery.letter, visible))
            }
            return seen
        }
        while try await worker.drainOnce() > 0 {}
        tell.finish()
        let reported = try await checked.value
        let deliveries = try await test.pool.query("SELECT id, letter_id FROM deliveries").map { (try $0.decode("id", as: UUID.self), try $0.decode("letter_id", as: UUID.self)) }
        #expect(reported.count == 6)
        #expect(Set(reported.map(\.delivery)) == Set(deliveries.map(\.0)))
        #expect(Set(reported.map(\.letter)) == Set(letters))
        #expect(reported.allSatisfy { report in deliveries.contains { $0 == (report.delivery, report.letter) } })
        #expect(reported.allSatisfy { $0.visible })
    }

    @Test func aBatchIsCompletedThroughItsOwnIdsNotThroughEveryLease() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (_, letters) = try await Self.outbox(test, letters: 30, recipients: 10)
        // A history of delivered letters, as any installation soon has: 40,000 deliveries.
        try await test.pool.query(
            """
            WITH units AS (
                INSERT INTO units (code, name, kind) SELECT 'H' || g, 'Penerima lama ' || g, 'opd' FROM generate_series(1, 200) g RETURNING id),
            sent AS (
                INSERT INTO letters (unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, status, workflow_state,
                                     pending_deliveries)
                SELECT unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, 'delivered', workflow_state, 0
                FROM letters, generate_series(1, 200) WHERE id = $1 RETURNING id)
            INSERT INTO deliveries (letter_id, recipient_unit_id, role, state, delivered_at) SELECT sent.id, units.id, 'to', 'delivered', now() FROM sent, units
            """, [letters[0]])
        // Another worker holds most of the queue; this one completes a batch of its own.
        _ = try await Self.worker(test) { $0.batchSize = 250 }.claim()
        let worker = Self.worker(test) { $0.batchSize = 50 }
        let claims = try await worker.claim()
        #expect(claims.count == 50)
        try await test.pool.query("ANALYZE deliveries")
        let plan = try await test.pool.query(
            PostgresQuery(trustedSQL: "EXPLAIN " + DispatchWorker.completion.sql), worker.completionBinds(claims, evidence: nil)
        ).map { try $0.decode("QUERY PLAN", as: String.self) }.joined(separator: "\n")
        // Reached through the lease index, every worker's leases (and the entries of leases
        // long ended) were joined against the whole batch.
        #expect(!plan.contains("deliveries_leases_idx"), "\(plan)")
        #expect(plan.contains("deliveries_pkey"), "\(plan)")
    }

    @Test func onlyALeasedDeliveryHasALeaseOwner() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        _ = try await Self.outbox(test, letters: 1, recipients: 2)
        // The worker's fence (owner and attempt) relies on this: an owner marks a lease.
        for (state, owner) in [("pending", "someone"), ("delivered", "someone"), ("dead", "someone"), ("leased", nil)] as [(String, String?)] {
            await #expect(throws: PostgresError.self, "\(state) with owner \(owner ?? "none")") {
                try await test.pool.query("UPDATE deliveries SET state = $1, lease_owner = $2", [state, owner])
            }
        }
        #expect(try await test.pool.query("UPDATE deliveries SET state = 'leased', lease_owner = 'someone'").affectedRows == 2)
    }

    @Test func aClaimDeliveredOnItsOwnWritesWhatABatchWrites() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (units, letters) = try await Self.outbox(test, letters: 1, recipients: 1)
        let worker = Self.worker(test)
        let claims = try await worker.claim()
        #expect(claims.count == 1)
        // The path a claim takes when its batch failed as a whole.
        await worker.deliver(claims[0])
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 1)
        #expect(try await test.pool.query("SELECT count(*) AS n FROM delivery_evidence WHERE kind = 'ContentConsignment'").single().decode("n", as: Int.self) == 1)
        let consigned = try await test.pool.query(
            "SELECT object_id, details->'unitIds' = $1::jsonb AS units FROM audit_events WHERE action = 'delivery.consigned'",
            [String(decoding: try JSONEncoder().encode([units[0].uuidString.lowercased()]), as: UTF8.self)]).single()
        #expect(try consigned.decode("object_id", as: String.self) == letters[0].uuidString)
        #expect(try consigned.decode("units", as: Bool.self))
        let moves = try await test.pool.query(
            "SELECT action FROM audit_events WHERE object_id = $1 AND action LIKE 'letter.%' ORDER BY seq", [letters[0].uuidString]
        ).map { try $0.decode("action", as: String.self) }
        #expect(moves == ["letter.dispatching", "letter.delivered"])
        #expect(try await test.pool.query("SELECT state FROM deliveries").single().decode("state", as: String.self) == "delivered")
    }

    @Test func aLostLeaseChangesNothing() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        _ = try await Self.outbox(test, letters: 1, recipients: 1)
        let first = Self.worker(test) { $0.lease = .seconds(1) }
        let claims = try await first.claim()
        #expect(claims.count == 1)
        // The lease runs out; another worker reclaims and delivers.
        try await Task.sleep(for: .milliseconds(1500))
        let second = Self.worker(test)
        #expect(try await second.drainOnce() == 1)
        // The first worker wakes up late: its fenced completion finds no row and writes nothing.
        await first.deliver(claims[0])
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 1)
        #expect(try await test.pool.query("SELECT attempts FROM deliveries").single().decode("attempts", as: Int.self) == 2)
    }

    @Test func aBatchTakesALetterAtATime() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (_, letters) = try await Self.outbox(test, letters: 3, recipients: 4)
        // Written recipient by recipient, all due at one moment: in heap order a batch of four
        // would hold one delivery of each letter.
        try await test.pool.query("DELETE FROM deliveries")
        try await test.pool.query(
            """
            INSERT INTO deliveries (letter_id, recipient_unit_id, role, next_attempt_at)
            SELECT l, u.id, 'to', now() - interval '1 second' FROM (SELECT id FROM units WHERE code LIKE 'R%') u, unnest($1::uuid[]) AS l ORDER BY u.id, l
            """, [letters])
        let worker = Self.worker(test) { $0.batchSize = 4 }
        var seen: [UUID] = []
        for _ in 0..<3 {
            let batch = try await worker.claim()
            #expect(batch.count == 4)
            #expect(Set(batch.map(\.letterID)).count == 1, "one batch, one letter")
            seen += batch.prefix(1).map(\.letterID)
        }
        #expect(seen == letters.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() })
    }

    @Test func aLostLeaseChangesNothingInABatchEither() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (_, letters) = try await Self.outbox(test, letters: 2, recipients: 3)
        let toldLate = Atomic<Int>(0)
        let first = Self.worker(test) {
            $0.lease = .seconds(1)
            $0.onDelivered = { toldLate.add($0.count, ordering: .relaxed) }
        }
        let claims = try await first.claim()
        #expect(claims.count == 6)
        try await Task.sleep(for: .milliseconds(1500))
        let second = Self.worker(test)
        #expect(try await second.drainOnce() == 6)
        // The late batch completes nothing: no second inbox entry, evidence or audit event.
        await first.deliver(batch: claims)
        #expect(toldLate.load(ordering: .relaxed) == 0, "the late worker delivered nothing")
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 6)
        #expect(try await test.pool.query("SELECT count(*) AS n FROM delivery_evidence WHERE kind = 'ContentConsignment'").single().decode("n", as: Int.self) == 6)
        // One event per letter of the batch, naming the units it reached and the attempt that
        // did; filed under the letter as every other event is, so its history shows it.
        let events = try await test.pool.query(
            """
            SELECT object_id, jsonb_array_length(details->'unitIds') AS units, details->'attempts' = '[2, 2, 2]'::jsonb AS second_attempts
            FROM audit_events WHERE action = 'delivery.consigned'
            """)
        #expect(Set(try events.map { try $0.decode("object_id", as: String.self) }) == Set(letters.map(\.uuidString)))
        #expect(try events.map { try $0.decode("units", as: Int.self) } == [3, 3])
        #expect(try events.allSatisfy { try $0.decode("second_attempts", as: Bool.self) })
        #expect(try await test.pool.query("SELECT count(*) AS n FROM letters WHERE status = 'delivered'").single().decode("n", as: Int.self) == 2)
    }

    @Test func aSilentWorkersLeasesAreReclaimedBeforeTheyExpireAndLiveOnesAreRenewed() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        _ = try await Self.outbox(test, letters: 1, recipients: 4)
        // Both hold leases far longer than the test; only the heartbeat can free them.
        let silent = Self.worker(test) { $0.lease = .seconds(600); $0.heartbeat = .milliseconds(200); $0.batchSize = 2 }
        let live = Self.worker(test) { $0.lease = .seconds(600); $0.heartbeat = .milliseconds(200); $0.batchSize = 2 }
        try await silent.beat()
        try await live.beat()
        let silentClaims = try await silent.claim()
        let liveClaims = try await live.claim()
        #expect(silentClaims.count == 2 && liveClaims.count == 2)
        // The live worker keeps beating; the silent one stops. After three beats the live
        // worker's beat expires the silent worker's leases, and its own stay renewed.
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(200))
            try await live.beat()
        }
        let stopped = try await test.pool.query("SELECT stop_reason FROM dispatch_workers WHERE owner = $1", [silent.configuration.owner]).single()
        #expect(try stopped.decode("stop_reason", as: String?.self) == "heartbeat_lost")
        let liveLeases = try await test.pool.query(
            "SELECT count(*) AS n FROM deliveries WHERE lease_owner = $1 AND lease_expires_at > now() + interval '500 seconds'", [live.configuration.owner]).single()
        #expect(try liveLeases.decode("n", as: Int.self) == 2)
        // The reclaimed deliveries go to the next claim; the late silent worker's completion is fenced off.
        await live.deliver(batch: liveClaims)
        // Drains until both are taken: on a machine loaded by the whole suite a drain's reclaim
        // can fail (a pool timeout) and is then tried again by the next drain.
        var reclaimedAndDelivered = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while reclaimedAndDelivered < 2, ContinuousClock.now < deadline {
            let handled = try await live.drainOnce()
            reclaimedAndDelivered += handled
            if handled == 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(reclaimedAndDelivered == 2)
        await silent.deliver(batch: silentClaims)
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 4)
        #expect(try await test.pool.query("SELECT count(*) AS n FROM deliveries WHERE state = 'delivered'").single().decode("n", as: Int.self) == 4)
    }

    @Test func anInactiveUnitRetriesDeadLettersAndIsDeliveredAfterRequeue() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let (units, _) = try await Self.outbox(test, letters: 1, recipients: 1)
        let unit = units[0].uuidString.lowercased()
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            let deactivated = try await client.send(.patch, "/api/v1/units/\(unit)", token: admin, json: #"{"active": false}"#)
            #expect(deactivated.status == .ok, "\(deactivated.text)")
            #expect(try deactivated.json()["active"] as? Bool == false)
            // An empty change and a blank name are refused, naming the field.
            let empty = try await client.send(.patch, "/api/v1/units/\(unit)", token: admin, json: "{}")
            #expect(try empty.problem().errors?.first?.field == "body")
            let blank = try await client.send(.patch, "/api/v1/units/\(unit)", token: admin, json: #"{"name": "  "}"#)
            #expect(try blank.problem().errors?.first?.field == "name")
            #expect(try await client.send(.patch, "/api/v1/units/\(UUID().uuidString)", token: admin, json: #"{"active": true}"#).status == .notFound)
        }
        let worker = Self.worker(test) {
            $0.maxAttempts = 3
            $0.backoff = .milliseconds(1)
            $0.maxBackoff = .seconds(0)
        }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await worker.drainOnce() == 1)
        }
        let row = try await test.pool.query("SELECT state, attempts, last_error FROM deliveries").single()
        #expect(try row.decode("state", as: String.self) == "dead")
        #expect(try row.decode("attempts", as: Int.self) == 3)
        #expect(try row.decode("last_error", as: String?.self)?.contains("inactive") == true)
        #expect(try await worker.drainOnce() == 0)

        // The admin reactivates the unit and requeues, both over the API.
        try await test.application().test(.router) { client in
            let admin = try await client.login("admin", TestApp.adminPassword)
            #expect(try await client.send(.patch, "/api/v1/units/\(unit)", token: admin, json: #"{"active": true}"#).json()["active"] as? Bool == true)
            let dead = try await client.send(.get, "/api/v1/deliveries?state=dead", token: admin)
            let items = try dead.json()["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            let id = items.first?["id"] as? String ?? ""
            #expect(try await client.send(.post, "/api/v1/deliveries/\(id)/requeue", token: admin).status == .noContent)
            #expect(try await client.send(.post, "/api/v1/deliveries/\(id)/requeue", token: admin).status == .notFound)
        }
        #expect(try await worker.drainOnce() == 1)
        #expect(try await test.pool.query("SELECT state FROM deliveries").single().decode("state", as: String.self) == "delivered")
        #expect(try await test.pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 1)
    }
}

@Suite struct InboxTests {
    @Test func theRecipientSearchesRegistersAndOnlyItsHeadSeesRahasia() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let worker = DispatchTests.worker(test)
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let camatPosition = try await OrganisationAPITests.position(client, dinas.admin, unit: dinas.recipient, title: "Camat Socah", head: true)
            _ = try await OrganisationAPITests.user(client, dinas.admin, username: "camat.socah", roles: ["official"], unit: dinas.recipient, position: camatPosition, fullName: "Zainal Arifin")
            _ = try await OrganisationAPITests.user(client, dinas.admin, username: "tu.socah", roles: ["clerk"], unit: dinas.recipient)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            var sent: [String] = []
            for (subject, security) in [("Undangan Rapat Koordinasi Penanggulangan Banjir", "biasa"), ("Laporan Pemeriksaan Khusus", "rahasia")] {
                let id = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft(security: security, subject: subject)).json()["id"] as? String ?? ""
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/submit", token: tu).status == .ok)
                #expect(try await client.send(.post, "/api/v1/letters/\(id)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#).status == .ok)
                sent.append(id)
            }
            while try await worker.drainOnce() > 0 {}
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[0])", token: tu).json()["status"] as? String == "delivered")

            let clerk = try await client.login("tu.socah", "kata-sandi-123")
            let camat = try await client.login("camat.socah", "kata-sandi-123")
            func inbox(_ token: String, _ query: String = "") async throws -> [[String: Any]] {
                try await client.send(.get, "/api/v1/inbox" + query, token: token).json()["items"] as? [[String: Any]] ?? []
            }
            #expect(try await inbox(clerk).count == 1, "the clerk does not see the Rahasia letter")
            #expect(try await inbox(camat).count == 2)
            #expect(try await inbox(tu).isEmpty, "the sender's unit has no inbox entry")
            // Indonesian full-text search: "banjir" finds the letter, "rapat" too (stemmed), "gempa" nothing.
            #expect(try await inbox(camat, "?q=banjir").count == 1)
            #expect(try await inbox(camat, "?q=rapat").count == 1)
            #expect(try await inbox(camat, "?q=gempa").isEmpty)
            #expect(try await client.send(.get, "/api/v1/inbox?state=lama", token: camat).status == .badRequest)

            let entry = try await inbox(clerk).first?["id"] as? String ?? ""
            let registered = try await client.send(.post, "/api/v1/inbox/\(entry)/register", token: clerk)
            #expect(registered.status == .ok)
            #expect(try registered.json()["agendaNumber"] as? Int == 1)
            #expect(try await client.send(.post, "/api/v1/inbox/\(entry)/register", token: clerk).status == .conflict)
            #expect(try await inbox(clerk, "?state=new").isEmpty)
            #expect(try await client.send(.get, "/api/v1/inbox/\(entry)", token: tu).status == .notFound)
            let secret = try await inbox(camat, "?state=new").first?["id"] as? String ?? ""
            #expect(try await client.send(.get, "/api/v1/inbox/\(secret)", token: clerk).status == .notFound)
            // The letters themselves: the clerk reads the ordinary one, the Rahasia one only the head.
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[0])/document", token: clerk).status == .ok)
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[1])", token: clerk).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[1])/document", token: clerk).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[1])/document", token: camat).status == .ok)
            let second = try await client.send(.post, "/api/v1/inbox/\(secret)/register", token: camat)
            #expect(try second.json()["agendaNumber"] as? Int == 2)
            // The sender sees each recipient's delivery and acceptance.
            let deliveries = try await client.send(.get, "/api/v1/letters/\(sent[0])/deliveries", token: tu).json()["items"] as? [[String: Any]] ?? []
            #expect(deliveries.count == 1)
            #expect(deliveries.first?["state"] as? String == "delivered")
            #expect(deliveries.first?["deliveredAt"] != nil)
            #expect(deliveries.first?["acceptedAt"] != nil)
            // Evidence of the three REM events, each signed by the server and verifiable.
            let evidence = try await client.send(.get, "/api/v1/letters/\(sent[0])/evidence", token: tu).json()["items"] as? [[String: Any]] ?? []
            #expect(Set(evidence.compactMap { $0["kind"] as? String }) == ["SubmissionAcceptance", "ContentConsignment", "ContentHandover"])
            let trust = try await test.pki.trustStore()
            for item in evidence {
                let evidenceID = item["id"] as? String ?? ""
                let record = try await client.send(.get, "/api/v1/letters/\(sent[0])/evidence/\(evidenceID)", token: tu)
                let signature = try await client.send(.get, "/api/v1/letters/\(sent[0])/evidence/\(evidenceID)?part=signature", token: tu)
                #expect(String(buffer: record.body).contains(#""event":"\#(item["kind"] as? String ?? "")""#))
                let report = SignatureVerifier(trust: trust).verify(content: Array(record.body.readableBytesView), signature: Array(signature.body.readableBytesView))
                #expect(report.passed, "\(item["kind"] ?? "")")
            }
            // A record is found under its own letter only, by someone who may read both letters.
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[1])/evidence", token: tu).status == .ok)
            let someRecord = evidence.first?["id"] as? String ?? ""
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[1])/evidence/\(someRecord)", token: tu).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/letters/\(sent[0])/evidence/\(UUID().uuidString)", token: tu).status == .notFound)
        }
        let accepted: Int = try await test.pool.query("SELECT count(*) AS n FROM deliveries WHERE accepted_at IS NOT NULL").single().decode("n")
        #expect(accepted == 2)
    }
}

@Suite struct DispositionTests {
    /// The API the web UI needs besides: the managed instruction list with its labels, the
    /// read state of an incoming letter (per person), and Batalkan Disposisi while unread.
    @Test func instructionsReadStateAndCancellingAnUnreadDisposition() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let worker = DispatchTests.worker(test)
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let admin = dinas.admin
            let camatPosition = try await OrganisationAPITests.position(client, admin, unit: dinas.recipient, title: "Camat Kamal", head: true)
            let sekcamPosition = try await client.send(
                .post, "/api/v1/positions", token: admin,
                json: #"{"unitId": "\#(dinas.recipient)", "title": "Sekretaris Kecamatan", "superiorId": "\#(camatPosition)"}"#).json()["id"] as? String ?? ""
            _ = try await OrganisationAPITests.user(client, admin, username: "camat.k", roles: ["official"], unit: dinas.recipient, position: camatPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "sekcam.k", roles: ["official"], unit: dinas.recipient, position: sekcamPosition)
            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            _ = try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#)
            let letter = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
            _ = try await client.send(.post, "/api/v1/letters/\(letter)/submit", token: tu)
            _ = try await client.send(.post, "/api/v1/letters/\(letter)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
            while try await worker.drainOnce() > 0 {}
            let camat = try await client.login("camat.k", "kata-sandi-123")
            let sekcam = try await client.login("sekcam.k", "kata-sandi-123")

            let listed = try await client.send(.get, "/api/v1/disposition-instructions", token: sekcam)
            #expect(listed.status == .ok, "\(listed.text)")
            let instructions = try listed.json()["items"] as? [[String: Any]] ?? []
            #expect(instructions.count == 8)
            #expect(instructions.first?["code"] as? String == "tindak_lanjuti" && instructions.first?["title"] as? String == "Tindak lanjuti")
            #expect(instructions.last?["code"] as? String == "arsipkan" && instructions.allSatisfy { $0["active"] as? Bool == true })
            #expect(try await client.send(.get, "/api/v1/disposition-instructions").status == .unauthorized)

            // Read state: per person, the first opening counts.
            let entryID = (try await client.send(.get, "/api/v1/inbox", token: camat).json()["items"] as? [[String: Any]])?.first?["id"] as? String ?? ""
            #expect((try await client.send(.get, "/api/v1/inbox", token: camat).json()["items"] as? [[String: Any]])?.first?["readAt"] == nil)
            let read = try await client.send(.post, "/api/v1/inbox/\(entryID)/read", token: camat)
            #expect(read.status == .ok, "\(read.text)")
            let readAt = try read.json()["readAt"] as? String
            #expect(readAt != nil)
            #expect(try await client.send(.post, "/api/v1/inbox/\(entryID)/read", token: camat).json()["readAt"] as? String == readAt)
            #expect((try await client.send(.get, "/api/v1/inbox", token: camat).json()["items"] as? [[String: Any]])?.first?["readAt"] as? String == readAt)
            #expect((try await client.send(.get, "/api/v1/inbox", token: sekcam).json()["items"] as? [[String: Any]])?.first?["readAt"] == nil)
            #expect(try await client.send(.post, "/api/v1/inbox/\(entryID)/read", token: tu).status == .notFound)
            #expect(try await client.send(.post, "/api/v1/inbox/\(UUID().uuidString)/read", token: camat).status == .notFound)

            // Batalkan Disposisi: the sender's, while unread; not the recipient's, not after.
            func dispose() async throws -> String {
                try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: camat,
                                      json: #"{"toPositionIds": ["\#(sekcamPosition)"], "instructions": ["untuk_diketahui"]}"#).json()["id"] as? String ?? ""
            }
            let first = try await dispose()
            #expect(try await client.send(.post, "/api/v1/dispositions/\(first)/cancel", token: sekcam).status == .notFound)
            #expect(try await client.send(.post, "/api/v1/dispositions/\(first)/cancel", token: camat).status == .noContent)
            #expect((try await client.send(.get, "/api/v1/inbox/\(entryID)/dispositions", token: camat).json()["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.send(.post, "/api/v1/dispositions/\(first)/cancel", token: camat).status == .notFound)
            let second = try await dispose()
            #expect(try await client.send(.get, "/api/v1/dispositions/\(second)", token: sekcam).status == .ok)
            let late = try await client.send(.post, "/api/v1/dispositions/\(second)/cancel", token: camat)
            #expect(late.status == .conflict, "\(late.text)")
        }
        let cancelled: Int = try await test.pool.query("SELECT count(*) AS n FROM audit_events WHERE action = 'disposition.cancelled'").single().decode("n")
        let reads: Int = try await test.pool.query("SELECT count(*) AS n FROM audit_events WHERE action = 'inbox.read'").single().decode("n")
        #expect(cancelled == 1 && reads == 1)
    }

    @Test func dispositionsGoDownAsATreeAndCloseWithReports() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let worker = DispatchTests.worker(test)
        try await test.application().test(.router) { client in
            let dinas = try await Dinas.make(client)
            let admin = dinas.admin
            let camatPosition = try await OrganisationAPITests.position(client, admin, unit: dinas.recipient, title: "Camat Socah", head: true)
            func position(_ title: String, under superior: String) async throws -> String {
                try await client.send(.post, "/api/v1/positions", token: admin, json: #"{"unitId": "\#(dinas.recipient)", "title": "\#(title)", "superiorId": "\#(superior)"}"#).json()["id"] as? String ?? ""
            }
            let sekcamPosition = try await position("Sekretaris Kecamatan", under: camatPosition)
            let kasiPosition = try await position("Kepala Seksi Pemerintahan", under: sekcamPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "camat.s", roles: ["official"], unit: dinas.recipient, position: camatPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "sekcam", roles: ["official"], unit: dinas.recipient, position: sekcamPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "kasi", roles: ["official"], unit: dinas.recipient, position: kasiPosition)
            _ = try await OrganisationAPITests.user(client, admin, username: "staf.s", roles: ["staff"], unit: dinas.recipient)

            let tu = try await client.login("tu", "kata-sandi-123")
            let kadis = try await client.login("kadis", "kata-sandi-123")
            #expect(try await client.send(.post, "/api/v1/me/signing-key", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis", "password": "kata-sandi-123"}"#).status == .created)
            let letter = try await client.send(.post, "/api/v1/letters", token: tu, json: dinas.draft()).json()["id"] as? String ?? ""
            _ = try await client.send(.post, "/api/v1/letters/\(letter)/submit", token: tu)
            _ = try await client.send(.post, "/api/v1/letters/\(letter)/sign", token: kadis, json: #"{"passphrase": "frasa-sandi-kadis"}"#)
            while try await worker.drainOnce() > 0 {}

            let camat = try await client.login("camat.s", "kata-sandi-123")
            let sekcam = try await client.login("sekcam", "kata-sandi-123")
            let kasi = try await client.login("kasi", "kata-sandi-123")
            let staf = try await client.login("staf.s", "kata-sandi-123")
            let entry = try await client.send(.get, "/api/v1/inbox", token: camat).json()["items"] as? [[String: Any]] ?? []
            let entryID = entry.first?["id"] as? String ?? ""
            func order(_ to: [String], _ instructions: [String] = ["tindak_lanjuti"], due: String? = nil) -> String {
                let targets = to.map { "\"\($0)\"" }.joined(separator: ", ")
                let list = instructions.map { "\"\($0)\"" }.joined(separator: ", ")
                return #"{"toPositionIds": [\#(targets)], "instructions": [\#(list)], "note": "Segera ditindaklanjuti"\#(due.map { #", "dueDate": "\#($0)""# } ?? "")}"#
            }
            // Only the head, only downward, only inside the unit, only listed instructions.
            #expect(try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: sekcam, json: order([kasiPosition])).status == .forbidden)
            let outside = try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: camat, json: order([dinas.kabidPosition]))
            #expect(try outside.problem().errors?.first?.field == "toPositionIds[0]")
            let badInstruction = try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: camat, json: order([sekcamPosition], ["bersantai"]))
            #expect(try badInstruction.problem().errors?.first?.field == "instructions[0]")

            let created = try await client.send(.post, "/api/v1/inbox/\(entryID)/dispositions", token: camat, json: order([sekcamPosition], ["tindak_lanjuti", "koordinasikan"], due: "2020-01-31"))
            #expect(created.status == .created, "\(created.text)")
            let top = try created.json()["id"] as? String ?? ""
            // Not addressed: invisible.
            #expect(try await client.send(.get, "/api/v1/dispositions/\(top)", token: kasi).status == .notFound)
            let stafItems = try await client.send(.get, "/api/v1/dispositions?state=open", token: staf).json()["items"] as? [Any]
            #expect(stafItems?.isEmpty == true)
            let opened = try await client.send(.get, "/api/v1/dispositions/\(top)", token: sekcam).json()
            #expect((opened["recipients"] as? [[String: Any]])?.first?["state"] as? String == "dibaca")
            #expect((try await client.send(.get, "/api/v1/dispositions?state=overdue", token: sekcam).json()["items"] as? [Any])?.count == 1)

            // Upward is refused; downward makes a child.
            let upward = try await client.send(.post, "/api/v1/dispositions/\(top)/forward", token: sekcam, json: order([camatPosition]))
            #expect(upward.status == .badRequest)
            let child = try await client.send(.post, "/api/v1/dispositions/\(top)/forward", token: sekcam, json: order([kasiPosition], ["pelajari_balas"]))
            #expect(child.status == .created)
            #expect(try child.json()["parentId"] as? String == top)
            let childID = try child.json()["id"] as? String ?? ""
            #expect(try await client.send(.post, "/api/v1/dispositions/\(childID)/complete", token: kasi, json: #"{"report": "Konsep balasan sudah disiapkan."}"#).status == .ok)
            #expect(try await client.send(.post, "/api/v1/dispositions/\(childID)/complete", token: kasi, json: #"{"report": "Lagi"}"#).status == .conflict)
            #expect(try await client.send(.post, "/api/v1/dispositions/\(childID)/complete", token: kasi, json: #"{"report": ""}"#).status == .badRequest)

            let tree = try await client.send(.get, "/api/v1/inbox/\(entryID)/dispositions", token: camat).json()["items"] as? [[String: Any]] ?? []
            #expect(tree.count == 2)
            let states = tree.flatMap { ($0["recipients"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String } }
            #expect(Set(states) == ["ditindaklanjuti", "selesai"])
            #expect(tree.first { $0["id"] as? String == top }?["overdue"] as? Bool == true)
            // The timer escalates the overdue branch once (the finished child is not overdue).
            let dispositions = DispositionService(pool: test.pool)
            #expect(try await dispositions.escalateOverdue() == 1)
            #expect(try await dispositions.escalateOverdue() == 0)
            let escalated = try await client.send(.get, "/api/v1/inbox/\(entryID)/dispositions", token: camat).json()["items"] as? [[String: Any]] ?? []
            let branch = (escalated.first { $0["id"] as? String == top }?["recipients"] as? [[String: Any]])?.first
            #expect(branch?["escalatedAt"] != nil)
            #expect(try await client.send(.get, "/api/v1/inbox/\(entryID)/dispositions", token: sekcam).status == .notFound)

            // The incoming letter's view: the signed document, its hash, the attachments and the
            // dispositions each reader may see (the head all, the others their own branches).
            let headView = try await client.send(.get, "/api/v1/inbox/\(entryID)", token: camat)
            #expect(headView.status == .ok, "\(headView.text)")
            let view = try headView.json()
            #expect((view["document"] as? [String: Any])?["subject"] as? String == view["subject"] as? String)
            #expect(((view["document"] as? [String: Any])?["number"] as? String)?.isEmpty == false)
            #expect((view["dispositions"] as? [Any])?.count == 2)
            #expect(view["attachments"] is [Any])
            let kasiView = try await client.send(.get, "/api/v1/inbox/\(entryID)", token: kasi).json()
            #expect((kasiView["dispositions"] as? [[String: Any]])?.map { $0["id"] as? String } == [childID])
            #expect((try await client.send(.get, "/api/v1/inbox/\(entryID)", token: staf).json()["dispositions"] as? [Any])?.isEmpty == true)
            // The receiving unit reads the letter, its document byte for byte as hashed and its
            // signature, but not the sender's internal history.
            let document = try await client.send(.get, "/api/v1/letters/\(letter)/document", token: staf)
            #expect(document.status == .ok)
            #expect(Digest.hex(try Digest.sha256(Array(document.body.readableBytesView))) == view["documentSha256"] as? String)
            #expect(try await client.send(.get, "/api/v1/letters/\(letter)/signature", token: staf).status == .ok)
            let seenByRecipient = try await client.send(.get, "/api/v1/letters/\(letter)", token: staf).json()
            #expect((seenByRecipient["history"] as? [Any])?.isEmpty == true)
            #expect(((try await client.send(.get, "/api/v1/letters/\(letter)", token: tu).json()["history"]) as? [Any])?.isEmpty == false)
            // The sending unit has no view of the receiving unit's inbox entry.
            #expect(try await client.send(.get, "/api/v1/inbox/\(entryID)", token: tu).status == .notFound)
        }
        let audited: Int = try await test.pool.query("SELECT count(*) AS n FROM audit_events WHERE action LIKE 'disposition.%'").single().decode("n")
        #expect(audited == 5)
    }
}
