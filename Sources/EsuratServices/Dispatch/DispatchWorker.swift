public import EsuratDomain
public import EsuratPostgres
public import Foundation
public import Logging
public import ServiceLifecycle
import Metrics
import Synchronization

/// Delivers the outbox that signing writes: claims ready deliveries with
/// `FOR UPDATE SKIP LOCKED` under a lease, puts each letter in its recipient unit's inbox and
/// completes the delivery in the same transaction — fenced by lease owner and attempt, so a
/// worker that lost its lease changes nothing. Failures retry with exponential backoff and
/// jitter, then go dead for an admin to requeue. Any number of workers may run, on any
/// number of machines; leases of dead workers expire and are claimed again.
public final class DispatchWorker: Service, Sendable {
    public struct Configuration: Sendable {
        /// Names this worker in leases; unique per process.
        public var owner = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        /// Deliveries claimed and completed at once. Each batch pays a planned claim, a few round
        /// trips, the letters' count-down and a commit's WAL flush; at 100 rather than 50 a
        /// delivery cost a fifth less CPU in interleaved runs of `esurat bench dispatch`.
        public var batchSize = 100
        /// Batches a worker has in flight at once. One batch spends much of its time waiting
        /// on PostgreSQL (round trips, the commit's WAL flush); a second, claimed and signed
        /// meanwhile, keeps the worker and the database busy.
        public var concurrency = 2
        public var lease: Duration = .seconds(30)
        public var maxAttempts = 8
        /// The first retry waits about this long; each next one twice as long, up to `maxBackoff`.
        public var backoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(900)
        /// How often to look for work when no notification comes.
        public var pollInterval: Duration = .seconds(1)
        /// How often the worker says it is alive and renews its leases. A worker silent for
        /// three beats is taken for dead: the others expire its leases.
        public var heartbeat: Duration = .seconds(5)
        /// Told, after each of this worker's commits, the deliveries it made visible (each with
        /// its letter): for an observer in the same process, such as the latency benchmark, which
        /// then need not poll the database. Only this worker's: deliveries other workers make,
        /// and one whose commit this worker could not confirm (its connection lost at COMMIT),
        /// are not told.
        public var onDelivered: (@Sendable ([Delivered]) -> Void)?
        public init() {}
    }

    let pool: PostgresPool
    /// Signs the ContentConsignment evidence; nil only in tests of the queue alone.
    let evidence: (pki: PKIService, blocking: BlockingWork)?
    public let configuration: Configuration
    let logger: Logger

    /// `/metrics`: the queue as this worker last saw it, and what it did.
    private let queueDepth = Gauge(label: "esurat_dispatch_queue_depth")
    private let oldestReadyAge = Gauge(label: "esurat_dispatch_oldest_ready_seconds")
    private let oldestLeaseAge = Gauge(label: "esurat_dispatch_oldest_lease_seconds")
    private let delivered = Counter(label: "esurat_dispatch_delivered_total")
    private let failures = Counter(label: "esurat_dispatch_failures_total")
    private let deadLettered = Counter(label: "esurat_dispatch_dead_total")
    private let workersAlive = Gauge(label: "esurat_dispatch_workers_alive")
    private let leasesReclaimed = Counter(label: "esurat_dispatch_leases_reclaimed_total")
    /// Claims made, empty ones included: an idle worker makes one per poll interval.
    private let claims = Counter(label: "esurat_dispatch_claims_total")
    let claimsMade = Atomic<Int>(0)
    /// When expired leases were last reclaimed: at most once a second, not before every batch.
    private let leasesReclaimedAt = Mutex<ContinuousClock.Instant?>(nil)

    public init(pool: PostgresPool, evidence: (pki: PKIService, blocking: BlockingWork)?, configuration: Configuration = .init(), logger: Logger) {
        self.pool = pool
        self.evidence = evidence
        self.configuration = configuration
        self.logger = logger
    }

    /// A delivery completed: its inbox entry committed.
    public struct Delivered: Sendable {
        public var delivery: UUID
        public var letter: UUID
    }

    struct Claim: Sendable {
        var id: UUID
        var letterID: UUID
        var unitID: UUID
        var role: String
        var attempt: Int
        /// What the delivery needs to know, read with the claim: whether the recipient unit
        /// is active, and what the evidence states about the letter.
        var unitActive: Bool
        var letterNumber: String
        var senderUnitID: UUID
        var documentSHA256: String

        /// What its evidence states.
        var subject: Evidence.Subject {
            Evidence.Subject(
                deliveryID: id, letterID: letterID, letterNumber: letterNumber, documentSHA256: documentSHA256,
                senderUnitID: senderUnitID, recipientUnitID: unitID, attempt: attempt)
        }
    }

    struct Undeliverable: Error, CustomStringConvertible {
        var description: String
    }

    /// Works until graceful shutdown: then it stops claiming, finishes the batches in hand
    /// and returns its unfinished leases.
    public func run() async throws {
        let notifications = try? await pool.listen(on: "deliveries")
        // One wake-up per delivery loop. A NOTIFY wakes the first loop; a loop that claims a
        // full batch wakes the next, so a backlog brings them all in while a single signed
        // letter costs one claim, not one per loop. Shutdown wakes them all.
        let wakes = (0..<max(1, configuration.concurrency)).map { _ in WakeSignal() }
        let listener = Task {
            guard let notifications else { return }
            for try await _ in notifications { wakes[0].wake() }
        }
        defer { listener.cancel() }
        try? await beat()
        let heartbeat = Task { [configuration] in
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.heartbeat)
                if Task.isCancelled { break }
                do { try await self.beat() } catch {
                    self.logger.warning("heartbeat failed", metadata: ["error": "\(type(of: error))"])
                }
            }
        }
        defer { heartbeat.cancel() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { loops in
                for (index, wake) in wakes.enumerated() {
                    let next = wakes[(index + 1) % wakes.count]
                    loops.addTask {
                        while !Task.isShuttingDownGracefully && !Task.isCancelled {
                            let processed = (try? await self.drainOnce()) ?? 0
                            if processed >= self.configuration.batchSize, next !== wake { next.wake() }
                            if processed > 0 { continue }
                            // A NOTIFY is a hint; the poll catches what it misses.
                            await wake.wait(timeout: self.configuration.pollInterval)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            for wake in wakes { wake.wake() }
        }
        heartbeat.cancel()
        try? await releaseLeases()
        _ = try? await pool.query(
            "UPDATE dispatch_workers SET stopped_at = now(), stop_reason = 'shutdown' WHERE owner = $1", [configuration.owner])
    }

    /// One heartbeat: this worker is alive, its leases are renewed, and the leases of
    /// workers silent for three beats are expired so the next claim takes them.
    public func beat() async throws {
        let beatSeconds = configuration.heartbeat.inSeconds
        let results = try await pool.withConnection { connection in
            try await connection.pipelined([
                PostgresStatement(
                    """
                    INSERT INTO dispatch_workers (owner, host, pid) VALUES ($1, $2, $3)
                    ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL, stop_reason = NULL
                    """, [configuration.owner, ProcessInfo.processInfo.hostName, Int(getpid())]),
                PostgresStatement(
                    "UPDATE deliveries SET lease_expires_at = now() + make_interval(secs => $2) WHERE lease_owner = $1 AND state = 'leased'",
                    [configuration.owner, configuration.lease.inSeconds]),
                PostgresStatement(
                    """
                    WITH lost AS (
                        UPDATE dispatch_workers SET stopped_at = now(), stop_reason = 'heartbeat_lost'
                        WHERE stopped_at IS NULL AND heartbeat_at < now() - make_interval(secs => $1) RETURNING owner)
                    UPDATE deliveries SET lease_expires_at = now() WHERE state = 'leased' AND lease_owner IN (SELECT owner FROM lost)
                    """, [beatSeconds * 3]),
                PostgresStatement("SELECT count(*) AS alive FROM dispatch_workers WHERE stopped_at IS NULL"),
            ])
        }
        if results[2].affectedRows > 0 {
            logger.notice("expired the leases of workers whose heartbeat stopped", metadata: ["leases": "\(results[2].affectedRows)"])
        }
        workersAlive.record(try results[3].single().decode("alive", as: Int.self))
        // The queue gauges count the whole backlog, so they are read with the heartbeat.
        try await recordQueue()
    }

    /// Claims one batch and delivers it; returns how many deliveries it handled.
    @discardableResult
    public func drainOnce() async throws -> Int {
        let now = ContinuousClock.now
        let due = leasesReclaimedAt.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        if due {
            do {
                let reclaimed = try await reclaimExpiredLeases()
                if reclaimed > 0 { leasesReclaimed.increment(by: reclaimed) }
            } catch {
                // Not fatal to the drain (what is ready can still be claimed), but not let go
                // either: tried again at the next drain, not a second later.
                leasesReclaimedAt.withLock { $0 = nil }
                logger.warning("could not reclaim expired leases", metadata: ["error": "\(type(of: error))"])
            }
        }
        let claims = try await claim()
        if !claims.isEmpty { await deliver(batch: claims) }
        return claims.count
    }

    func recordQueue() async throws {
        let row = try await pool.query(
            """
            -- Two counts, each over its own partial index: `state IN (…)` matches neither index's
            -- predicate and read the whole table, every delivery ever made, at every heartbeat.
            SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending') + (SELECT count(*) FROM deliveries WHERE state = 'leased') AS depth,
                   coalesce(extract(epoch FROM now() - (SELECT next_attempt_at FROM deliveries WHERE state = 'pending' AND next_attempt_at <= now()
                                                      ORDER BY next_attempt_at LIMIT 1)), 0)::float8 AS ready_age,
                   coalesce(extract(epoch FROM now() - (SELECT min(lease_expires_at) FROM deliveries WHERE state = 'leased') + make_interval(secs => $1)), 0)::float8 AS lease_age
            """, [configuration.lease.inSeconds]).single()
        queueDepth.record(try row.decode("depth", as: Int.self))
        oldestReadyAge.record(try row.decode("ready_age", as: Double.self))
        oldestLeaseAge.record(try row.decode("lease_age", as: Double.self))
    }

    /// Leases up to a batch of ready deliveries, oldest first and a letter at a time (so a
    /// batch locks and counts down a few letters, not one per delivery), and reads what
    /// delivering them needs in the same statement. Expired leases are not looked
    /// for here: once a second ``drainOnce()`` puts them back in the ready state, so the
    /// claim is one scan of the ready index, not also a walk over every lease that ever expired.
    func claim() async throws -> [Claim] {
        claims.increment()
        claimsMade.add(1, ordering: .relaxed)
        let leaseSeconds = configuration.lease.inSeconds
        // The lease commits without waiting for the WAL flush: a crash that loses it leaves the
        // delivery pending with its old attempt count, so this worker's completion is fenced
        // out and the delivery is claimed again. The completion, which writes the inbox entry,
        // commits synchronously and flushes the lease with it.
        let rows = try await pool.withConnection { connection in
            try await connection.pipelinedTransaction([PostgresStatement(
            """
            WITH claimed AS (
                UPDATE deliveries d SET state = 'leased', lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                       attempts = d.attempts + 1
                FROM (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at, letter_id LIMIT $3 FOR UPDATE SKIP LOCKED) chosen
                WHERE d.id = chosen.id
                RETURNING d.id, d.letter_id, d.recipient_unit_id, d.role, d.attempts)
            SELECT c.id, c.letter_id, c.recipient_unit_id, c.role, c.attempts, u.active, l.number, l.unit_id AS sender, ld.document_sha256
            FROM claimed c JOIN units u ON u.id = c.recipient_unit_id JOIN letters l ON l.id = c.letter_id
            LEFT JOIN letter_documents ld ON ld.letter_id = c.letter_id
            """, [configuration.owner, leaseSeconds, configuration.batchSize])], asynchronousCommit: true)[0]
        }
        return try rows.map {
            Claim(id: try $0.decode("id"), letterID: try $0.decode("letter_id"), unitID: try $0.decode("recipient_unit_id"),
                  role: try $0.decode("role"), attempt: try $0.decode("attempts"), unitActive: try $0.decode("active"),
                  letterNumber: try $0.decode("number", as: String?.self) ?? "", senderUnitID: try $0.decode("sender"),
                  documentSHA256: try $0.decode("document_sha256", as: String?.self) ?? "")
        }
    }

    /// Puts deliveries whose lease ran out back in the ready state (their worker died, hung
    /// or lost its heartbeat); their attempt count stays, so the late worker's fenced
    /// completion finds nothing. Returns how many.
    @discardableResult
    public func reclaimExpiredLeases() async throws -> Int {
        try await pool.query(
            """
            UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now()
            WHERE id IN (SELECT id FROM deliveries WHERE state = 'leased' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED)
            """).affectedRows
    }

    /// Delivers a claimed batch in one transaction of a few round trips: one statement
    /// completes every delivery still leased to this worker (the fence: lease owner and
    /// attempt) and, for exactly those, inserts the inbox entries, the signed evidence and
    /// the audit events; then the letters move on. Deliveries to inactive units fail one by
    /// one; if the batch transaction fails as a whole, each delivery is tried on its own so
    /// one bad item cannot hold up the rest.
    func deliver(batch claims: [Claim]) async {
        do {
            for claim in claims where !claim.unitActive {
                await fail(claim, reason: "the recipient unit is inactive")
            }
            let deliverable = claims.filter(\.unitActive)
            if deliverable.isEmpty { return }
            let records = try await evidenceRecords(deliverable.map(\.subject))
            let completed = try await pool.withRetryingTransaction(.readCommitted) { tx in
                try await self.complete(deliverable, evidence: records, on: tx)
            }
            tell(completed)
            if completed.count < deliverable.count {
                logger.info("delivery leases lost; other workers have them", metadata: ["lost": "\(deliverable.count - completed.count)"])
            }
        } catch {
            logger.warning("batch delivery failed; delivering one by one", metadata: ["error": "\(type(of: error))", "batch": "\(claims.count)"])
            for claim in claims { await deliver(claim) }
        }
    }

    /// The ContentConsignment records for `subjects`, signed (nil: no evidence key in tests
    /// of the queue alone).
    private func evidenceRecords(_ subjects: [Evidence.Subject]) async throws -> Evidence.SignedRecords? {
        guard let evidence else { return nil }
        return try await Evidence.sign(.contentConsignment, for: subjects, pki: evidence.pki, blocking: evidence.blocking)
    }

    /// The fenced completion of a batch: the deliveries still leased to this worker at the
    /// claimed attempt turn delivered, and for exactly those the inbox entries, evidence and
    /// audit events are written. Returns the deliveries completed (id, letter_id).
    static let completion: PostgresQuery = """
        WITH done AS (
            UPDATE deliveries d SET state = 'delivered', delivered_at = now(), lease_owner = NULL, lease_expires_at = NULL, last_error = NULL
            FROM unnest($2::uuid[], $3::int[]) AS c(id, attempt)
            -- The fence: owner and attempt. Only a leased delivery has an owner (a check
            -- constraint), and saying `state = 'leased'` as well let the planner scan the
            -- partial lease index, every worker's leases joined against the batch.
            WHERE d.id = c.id AND d.attempts = c.attempt AND d.lease_owner = $1
            RETURNING d.id, d.letter_id, d.recipient_unit_id, d.role, d.attempts),
        inboxed AS (
            INSERT INTO inbox_entries (letter_id, unit_id, delivery_id, role)
            SELECT letter_id, recipient_unit_id, id, role FROM done
            ON CONFLICT (letter_id, unit_id) DO NOTHING),
        evidenced AS (
            INSERT INTO delivery_evidence (delivery_id, letter_id, kind, record, signature)
            SELECT done.id, done.letter_id, $4, e.record, e.signature
            FROM unnest($5::uuid[], $6::bytea[], $7::bytea[]) AS e(delivery_id, record, signature) JOIN done ON done.id = e.delivery_id
            ON CONFLICT (delivery_id, kind) DO NOTHING),
        -- One event per letter in the batch, naming every unit it reached and the attempt
        -- that did: a 61-recipient letter's history gets a line or two, not 61, and each
        -- delivery costs no audit row and index entries of its own. object_id as every
        -- other writer spells it (Swift's uuidString, upper case), so the letter's history
        -- and the archive find these events.
        audited AS (
            INSERT INTO audit_events (action, object_type, object_id, client_address, details)
            SELECT 'delivery.consigned', 'letter', upper(letter_id::text), $8,
                   jsonb_build_object('unitIds', jsonb_agg(recipient_unit_id::text ORDER BY recipient_unit_id),
                                      'attempts', jsonb_agg(attempts ORDER BY recipient_unit_id))
            FROM done GROUP BY letter_id)
        SELECT id, letter_id FROM done
        """

    /// The parameters of ``completion`` for a batch (evidence nil: none to write).
    func completionBinds(_ claims: [Claim], evidence: Evidence.SignedRecords?) -> [any PostgresEncodable] {
        [configuration.owner, claims.map(\.id), claims.map(\.attempt), Evidence.Kind.contentConsignment.rawValue,
         evidence?.deliveryIDs ?? [], evidence?.records ?? [], evidence?.signatures ?? [], RequestInfo.local.clientAddress]
    }

    /// The fenced completion of a batch with its inbox entries, evidence and audit events;
    /// returns the deliveries it completed. When it completed any, the letters' writes
    /// carry the transaction's COMMIT.
    private func complete(_ claims: [Claim], evidence: Evidence.SignedRecords?, on tx: PostgresConnection) async throws -> [Delivered] {
        let done = try await tx.query(Self.completion, completionBinds(claims, evidence: evidence))
        let completed = try done.map { Delivered(delivery: try $0.decode("id"), letter: try $0.decode("letter_id")) }
        try await advanceLetters(completed.reduce(into: [:]) { $0[$1.letter, default: 0] += 1 }, on: tx)
        return completed
    }

    /// Counts committed deliveries in /metrics and tells the observer, if any: the same for a
    /// batch and for a claim delivered on its own.
    private func tell(_ completed: [Delivered]) {
        delivered.increment(by: completed.count)
        configuration.onDelivered?(completed)
    }

    /// One claim on its own, after its batch failed as a whole: the unit is read afresh (the
    /// batch may have failed on it), then the batch's own completion does a batch of one, so
    /// both paths write the same rows and events.
    func deliver(_ claim: Claim) async {
        do {
            let completed = try await pool.withRetryingTransaction(.readCommitted) { tx in
                guard let unit = try await tx.query("SELECT active FROM units WHERE id = $1", [claim.unitID]).first,
                      try unit.decode("active", as: Bool.self)
                else { throw Undeliverable(description: "the recipient unit is inactive") }
                return try await self.complete([claim], evidence: try await self.evidenceRecords([claim.subject]), on: tx)
            }
            guard !completed.isEmpty else {
                logger.info("delivery lease lost; another worker has it", metadata: ["delivery": "\(claim.id)"])
                return
            }
            tell(completed)
        } catch {
            await fail(claim, reason: (error as? Undeliverable)?.description ?? "\(type(of: error))")
        }
    }

    /// Schedules a retry with backoff and jitter, or dead-letters after the last attempt.
    func fail(_ claim: Claim, reason: String) async {
        failures.increment()
        if claim.attempt >= configuration.maxAttempts { deadLettered.increment() }
        let base = configuration.backoff.inSeconds
        let ceiling = configuration.maxBackoff.inSeconds
        let exponential = min(ceiling, base * pow(2, Double(max(0, claim.attempt - 1))))
        let delay = exponential / 2 + Double.random(in: 0...(exponential / 2))
        do {
            try await pool.query(
                """
                UPDATE deliveries SET state = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END,
                       next_attempt_at = now() + make_interval(secs => $5), last_error = $6, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'leased'
                """, [claim.id, configuration.owner, claim.attempt, configuration.maxAttempts, delay, String(reason.prefix(500))])
        } catch {
            logger.warning("could not record a failed delivery; its lease will expire", metadata: ["delivery": "\(claim.id)"])
        }
    }

    /// Counts `delivered` deliveries off each letter's pending ones and moves the letters on,
    /// each move audited: to dispatching, and to delivered when none is pending. The last
    /// writes carry the transaction's COMMIT, so the letters' row locks, which other workers
    /// delivering the same letters queue on, go one round trip sooner.
    func advanceLetters(_ delivered: [UUID: Int], on tx: PostgresConnection) async throws {
        if delivered.isEmpty { return }
        let letters = delivered.keys.sorted { $0.uuidString < $1.uuidString }
        // Locked in id order first, so two batches sharing letters wait for each other instead
        // of deadlocking (FOR NO KEY UPDATE: the lock the decrement itself takes). Under the
        // lock each decrement sees the one committed before it: the batch that reaches zero is
        // the one that completed the letter.
        let results = try await tx.pipelined([
            PostgresStatement("SELECT id FROM letters WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE", [letters]),
            PostgresStatement(
                """
                UPDATE letters l SET pending_deliveries = l.pending_deliveries - c.n
                FROM unnest($1::uuid[], $2::int[]) AS c(id, n) WHERE l.id = c.id
                RETURNING l.id, l.pending_deliveries, l.workflow_state
                """, [letters, letters.map { delivered[$0] ?? 0 }]),
        ])
        var updates: [PostgresStatement] = []
        for row in results[1] {
            let id: UUID = try row.decode("id")
            let before = try row.decode("workflow_state", as: PostgresJSONB.self).decode(LetterWorkflowState.self)
            var state = before
            var events: [LetterEvent] = [.dispatchStarted]
            if try row.decode("pending_deliveries", as: Int.self) <= 0 { events.append(.allDelivered) }
            for event in events {
                guard case .success(let (next, actions)) = LetterWorkflow.apply(event, to: state, by: nil, at: Date()) else { continue }
                state = next
                // Each move is audited, as every other transition of a letter is.
                for case .audit(let action, _, let note) in actions {
                    updates.append(try AuditLog.statement(
                        .init(action, objectType: "letter", objectID: id.uuidString, actorUserID: nil, details: note.map { ["note": $0] } ?? [:]),
                        request: .local))
                }
            }
            guard state.status != before.status else { continue }
            updates.append(PostgresStatement("UPDATE letters SET status = $2, workflow_state = $3 WHERE id = $1", [id, state.status.rawValue, try PostgresJSONB(state)]))
        }
        try await tx.pipelinedAndCommit(updates)
    }

    /// Hands back what this worker holds (on shutdown).
    func releaseLeases() async throws {
        try await pool.query(
            "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1 WHERE lease_owner = $1 AND state = 'leased'",
            [configuration.owner])
    }

    /// Dead deliveries, for an admin.
    public static func deadDeliveries(pool: PostgresPool, actor: Actor) async throws -> [(id: UUID, letterID: UUID, unitID: UUID, attempts: Int, lastError: String?)] {
        guard actor.isAdmin else { throw ServiceError(.forbidden, "This needs the admin role.") }
        return try await pool.query(
            "SELECT id, letter_id, recipient_unit_id, attempts, last_error FROM deliveries WHERE state = 'dead' ORDER BY created_at LIMIT 500"
        ).map { (try $0.decode("id"), try $0.decode("letter_id"), try $0.decode("recipient_unit_id"), try $0.decode("attempts"), try $0.decode("last_error")) }
    }

    /// Puts a dead delivery back in the queue with a fresh set of attempts (admin).
    public static func requeue(_ id: UUID, pool: PostgresPool, actor: Actor, request: RequestInfo) async throws {
        guard actor.isAdmin else { throw ServiceError(.forbidden, "This needs the admin role.") }
        try await pool.withTransaction { tx in
            let changed = try await tx.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL WHERE id = $1 AND state = 'dead'", [id])
            guard changed == 1 else { throw ServiceError.notFound("The dead delivery") }
            try await AuditLog.append(.init("delivery.requeued", objectType: "delivery", objectID: id.uuidString, actorUserID: actor.userID), request: request, on: tx)
            try await tx.query("SELECT pg_notify('deliveries', $1)", [id.uuidString])
        }
    }
}
