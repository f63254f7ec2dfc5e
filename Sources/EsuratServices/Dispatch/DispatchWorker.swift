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
        public var batchSize = 50
        public var lease: Duration = .seconds(30)
        public var maxAttempts = 8
        /// The first retry waits about this long; each next one twice as long, up to `maxBackoff`.
        public var backoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(900)
        /// How often to look for work when no notification comes.
        public var pollInterval: Duration = .seconds(1)
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
    /// When the queue gauges were last read: the aggregate scans the queue, so it runs at
    /// most once a second, not before every batch.
    private let queueRecordedAt = Mutex<ContinuousClock.Instant?>(nil)

    public init(pool: PostgresPool, evidence: (pki: PKIService, blocking: BlockingWork)?, configuration: Configuration = .init(), logger: Logger) {
        self.pool = pool
        self.evidence = evidence
        self.configuration = configuration
        self.logger = logger
    }

    struct Claim: Sendable {
        var id: UUID
        var letterID: UUID
        var unitID: UUID
        var role: String
        var attempt: Int
    }

    struct LeaseLost: Error {}
    struct Undeliverable: Error, CustomStringConvertible {
        var description: String
    }

    /// Works until graceful shutdown: then it stops claiming, finishes the batch in hand and
    /// returns its unfinished leases.
    public func run() async throws {
        let notifications = try? await pool.listen(on: "deliveries")
        let wake = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let listener = Task {
            guard let notifications else { return }
            for try await _ in notifications { wake.continuation.yield() }
        }
        defer { listener.cancel() }
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let processed = (try? await drainOnce()) ?? 0
                if processed > 0 { continue }
                // A NOTIFY is a hint; the poll catches what it misses.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { var it = wake.stream.makeAsyncIterator(); _ = await it.next() }
                    group.addTask { [configuration] in try? await Task.sleep(for: configuration.pollInterval) }
                    await group.next()
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: {
            wake.continuation.yield()
        }
        try? await releaseLeases()
    }

    /// Claims one batch and delivers it; returns how many deliveries it handled.
    @discardableResult
    public func drainOnce() async throws -> Int {
        let now = ContinuousClock.now
        let due = queueRecordedAt.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        if due { try? await recordQueue() }
        let claims = try await claim()
        for claim in claims {
            await deliver(claim)
        }
        return claims.count
    }

    func recordQueue() async throws {
        let row = try await pool.query(
            """
            SELECT count(*) FILTER (WHERE state IN ('pending', 'leased')) AS depth,
                   coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE state = 'pending' AND next_attempt_at <= now())), 0)::float8 AS ready_age,
                   coalesce(extract(epoch FROM now() - min(lease_expires_at - make_interval(secs => $1)) FILTER (WHERE state = 'leased')), 0)::float8 AS lease_age
            FROM deliveries WHERE state IN ('pending', 'leased')
            """, [Double(configuration.lease.components.seconds)]).single()
        queueDepth.record(try row.decode("depth", as: Int.self))
        oldestReadyAge.record(try row.decode("ready_age", as: Double.self))
        oldestLeaseAge.record(try row.decode("lease_age", as: Double.self))
    }

    func claim() async throws -> [Claim] {
        let leaseSeconds = Double(configuration.lease.components.seconds)
        return try await pool.query(
            """
            UPDATE deliveries SET state = 'leased', lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                   attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM deliveries
                WHERE (state = 'pending' AND next_attempt_at <= now()) OR (state = 'leased' AND lease_expires_at < now())
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING id, letter_id, recipient_unit_id, role, attempts
            """, [configuration.owner, leaseSeconds, configuration.batchSize]
        ).map {
            Claim(id: try $0.decode("id"), letterID: try $0.decode("letter_id"), unitID: try $0.decode("recipient_unit_id"),
                  role: try $0.decode("role"), attempt: try $0.decode("attempts"))
        }
    }

    func deliver(_ claim: Claim) async {
        do {
            try await pool.withRetryingTransaction(.readCommitted) { tx in
                guard let unit = try await tx.query("SELECT active FROM units WHERE id = $1", [claim.unitID]).first,
                      try unit.decode("active", as: Bool.self)
                else { throw Undeliverable(description: "the recipient unit is inactive") }
                try await tx.query(
                    """
                    INSERT INTO inbox_entries (letter_id, unit_id, delivery_id, role) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (letter_id, unit_id) DO NOTHING
                    """, [claim.letterID, claim.unitID, claim.id, claim.role])
                let completed = try await tx.execute(
                    """
                    UPDATE deliveries SET state = 'delivered', delivered_at = now(), lease_owner = NULL, lease_expires_at = NULL, last_error = NULL
                    WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'leased'
                    """, [claim.id, configuration.owner, claim.attempt])
                guard completed == 1 else { throw LeaseLost() }
                try await self.advanceLetter(claim.letterID, on: tx)
                if let evidence = self.evidence {
                    try await Evidence.record(.contentConsignment, letter: claim.letterID, unit: claim.unitID, pki: evidence.pki, blocking: evidence.blocking, on: tx)
                }
                try await AuditLog.append(
                    .init("delivery.consigned", objectType: "letter", objectID: claim.letterID.uuidString, actorUserID: nil,
                          details: ["unitId": claim.unitID.uuidString.lowercased(), "attempt": String(claim.attempt)]),
                    request: .local, on: tx)
            }
            delivered.increment()
        } catch is LeaseLost {
            logger.info("delivery lease lost; another worker has it", metadata: ["delivery": "\(claim.id)"])
        } catch {
            await fail(claim, reason: (error as? Undeliverable)?.description ?? "\(type(of: error))")
        }
    }

    /// Schedules a retry with backoff and jitter, or dead-letters after the last attempt.
    func fail(_ claim: Claim, reason: String) async {
        failures.increment()
        if claim.attempt >= configuration.maxAttempts { deadLettered.increment() }
        let base = Double(configuration.backoff.components.seconds) + Double(configuration.backoff.components.attoseconds) / 1e18
        let ceiling = Double(configuration.maxBackoff.components.seconds)
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

    /// Moves the letter to dispatching, and to delivered once every recipient has it.
    func advanceLetter(_ letter: UUID, on tx: PostgresConnection) async throws {
        // FOR NO KEY UPDATE, not FOR UPDATE: the inbox insert of each delivery already holds a
        // KEY SHARE lock on the letter (its foreign key), and two deliveries of one letter
        // upgrading to FOR UPDATE would deadlock.
        guard let row = try await tx.query("SELECT workflow_state FROM letters WHERE id = $1 FOR NO KEY UPDATE", [letter]).first else { return }
        var state = try row.decode("workflow_state", as: PostgresJSONB.self).decode(LetterWorkflowState.self)
        if case .success(let (next, _)) = LetterWorkflow.apply(.dispatchStarted, to: state, by: nil, at: Date()) { state = next }
        let remaining: Int = try await tx.query(
            "SELECT count(*) AS n FROM deliveries WHERE letter_id = $1 AND state <> 'delivered'", [letter]).single().decode("n")
        if remaining == 0, case .success(let (next, _)) = LetterWorkflow.apply(.allDelivered, to: state, by: nil, at: Date()) { state = next }
        try await tx.query("UPDATE letters SET status = $2, workflow_state = $3 WHERE id = $1", [letter, state.status.rawValue, try PostgresJSONB(state)])
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
