public import EsuratDomain
public import EsuratPostgres
public import Foundation
public import Logging

/// Archive exports over the API: an auditor or admin queues one, a background job on any
/// replica writes the bag into the database in 1 MiB chunks (claimed with SKIP LOCKED under
/// a lease, so a crashed replica's job is taken over and restarted), and the download
/// streams the chunks back.
public final class ArchiveService: Sendable {
    let pool: PostgresPool
    let exporter: ArchiveExporter
    let logger: Logger
    let owner = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
    static let leaseSeconds = 60
    static let chunkSize = 1 << 20

    public init(pool: PostgresPool, pki: PKIService, blocking: BlockingWork, logger: Logger = Logger(label: "esurat.archive")) {
        self.pool = pool
        self.logger = logger
        self.exporter = ArchiveExporter(pool: pool, pki: pki, chain: AuditChain(pool: pool, pki: pki, blocking: blocking))
    }

    public struct Job: Sendable {
        public var id: UUID
        public var state: String
        public var from: String
        public var to: String
        public var unitID: UUID?
        public var classification: String?
        public var letters: Int
        public var bytes: Int
        public var sha256: String?
        public var error: String?
        public var createdAt: Date
        public var finishedAt: Date?
    }

    static let jobColumns: PostgresQuery = """
        SELECT id, state, from_date::text AS from_date, to_date::text AS to_date, unit_id, classification, letters, bytes, sha256, error,
               created_at, finished_at
        FROM archive_exports WHERE id = $1
        """

    static func job(_ row: PostgresRow) throws -> Job {
        Job(
            id: try row.decode("id"), state: try row.decode("state"), from: try row.decode("from_date"), to: try row.decode("to_date"),
            unitID: try row.decode("unit_id"), classification: try row.decode("classification"), letters: try row.decode("letters"),
            bytes: try row.decode("bytes"), sha256: try row.decode("sha256"), error: try row.decode("error"),
            createdAt: try row.decode("created_at"), finishedAt: try row.decode("finished_at"))
    }

    /// Queues an export and starts it in this process (the sealer service of any replica
    /// would pick it up too).
    public func request(from: String, to: String, unitID: UUID?, classification: String?, actor: Actor, request: RequestInfo) async throws -> Job {
        try AuditChain.authorize(actor)
        let selection = try ArchiveSelection.validated(from: from, to: to, unitID: unitID, classification: classification)
        if let unitID, try await pool.query("SELECT 1 FROM units WHERE id = $1", [unitID]).isEmpty {
            throw ServiceError.invalid("unitId", "is not a unit of this installation")
        }
        if let classification, try await pool.query("SELECT 1 FROM kka_codes WHERE code = $1", [classification]).isEmpty {
            throw ServiceError.invalid("classification", "is not in the classification table")
        }
        let id: UUID = try await pool.withTransaction { tx in
            let id: UUID = try await tx.query(
                """
                INSERT INTO archive_exports (requested_by, unit_id, from_date, to_date, classification)
                VALUES ($1, $2, $3::date, $4::date, $5) RETURNING id
                """, [actor.userID, selection.unitID, selection.from, selection.to, selection.classification]).single().decode("id")
            var details = ["from": selection.from, "to": selection.to]
            if let unitID { details["unitId"] = unitID.lowercasedString }
            if let classification { details["classification"] = classification }
            try await AuditLog.append(
                .init("archive.export_requested", objectType: "archive_export", objectID: id.lowercasedString, actorUserID: actor.userID, details: details),
                request: request, on: tx)
            return id
        }
        Task { await self.runPending() }
        return try await job(id, actor: actor)
    }

    public func job(_ id: UUID, actor: Actor) async throws -> Job {
        try AuditChain.authorize(actor)
        guard let row = try await pool.query(Self.jobColumns, [id]).first else { throw ServiceError.notFound("The export") }
        return try Self.job(row)
    }

    /// The finished export's size and chunk count, for a download; the download is audited.
    public func download(_ id: UUID, actor: Actor, request: RequestInfo) async throws -> (job: Job, chunks: Int) {
        let job = try await job(id, actor: actor)
        guard job.state == "done" else { throw ServiceError(.conflict, "The export is \(job.state); it can be downloaded when it is done.") }
        let chunks: Int = try await pool.query("SELECT count(*) AS n FROM archive_export_chunks WHERE export_id = $1", [id]).single().decode("n")
        try await pool.withTransaction { tx in
            try await AuditLog.append(
                .init("archive.export_downloaded", objectType: "archive_export", objectID: id.lowercasedString, actorUserID: actor.userID),
                request: request, on: tx)
        }
        return (job, chunks)
    }

    /// One stored chunk of a finished export (auditors and admins, as the download).
    public func chunk(_ id: UUID, _ n: Int, actor: Actor) async throws -> [UInt8] {
        try AuditChain.authorize(actor)
        return try await pool.query("SELECT content FROM archive_export_chunks WHERE export_id = $1 AND n = $2", [id, n]).single()
            .decode("content", as: PostgresBytes.self).bytes
    }

    /// Runs queued exports (and ones whose runner's lease ran out) until none is left.
    public func runPending() async {
        while let claimed = try? await claim() {
            await run(claimed.id, claimed.selection, token: claimed.token)
        }
    }

    /// Takes the oldest queued export (or one whose runner's lease ran out) under a lease
    /// token of its own: this process may run several exports, and a runner that lost its
    /// lease must be told apart from the one that took the job over, in this process too.
    func claim() async throws -> (id: UUID, selection: ArchiveSelection, token: String)? {
        let token = "\(owner)/\(UUID().uuidString.prefix(8))"
        guard let row = try await pool.query(
            """
            UPDATE archive_exports SET state = 'running', lease_owner = $1, lease_expires_at = now() + $2 * interval '1 second',
                   letters = 0, bytes = 0, error = NULL
            WHERE id = (SELECT id FROM archive_exports
                        WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < now())
                        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, from_date::text AS from_date, to_date::text AS to_date, unit_id, classification
            """, [token, Self.leaseSeconds]).first
        else { return nil }
        let id: UUID = try row.decode("id")
        try await pool.query("DELETE FROM archive_export_chunks WHERE export_id = $1", [id])
        return (id, ArchiveSelection(
            from: try row.decode("from_date"), to: try row.decode("to_date"), unitID: try row.decode("unit_id"),
            classification: try row.decode("classification")), token)
    }

    func run(_ id: UUID, _ selection: ArchiveSelection, token owner: String) async {
        let sink = ChunkSink(pool: pool, export: id, owner: owner)
        // The lease is renewed on a beat as well as with each stored chunk: sealing, the
        // checkpoint and counting come before the first chunk and may outlast a lease.
        let renewal = Task { [pool] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(Self.leaseSeconds / 3))
                if Task.isCancelled { break }
                _ = try? await pool.query(
                    "UPDATE archive_exports SET lease_expires_at = now() + $3 * interval '1 second' WHERE id = $1 AND lease_owner = $2",
                    [id, owner, Self.leaseSeconds])
            }
        }
        defer { renewal.cancel() }
        do {
            let result = try await exporter.export(selection, identifier: "urn:uuid:\(id.lowercasedString)", sink: sink) { progress in
                sink.progressLetters = progress.letters
            }
            try await pool.query(
                """
                UPDATE archive_exports SET state = 'done', letters = $3, bytes = $4, sha256 = $5, finished_at = now(), lease_owner = NULL,
                       lease_expires_at = NULL
                WHERE id = $1 AND lease_owner = $2
                """, [id, owner, result.letters, result.bytes, result.sha256])
        } catch {
            let reason = (error as? ServiceError)?.detail ?? "the export failed (\(type(of: error)))"
            // The log may say more than the client: SQL errors name tables and columns.
            logger.error("archive export failed", metadata: [
                "export": "\(id)", "error_type": "\(type(of: error))",
                "error": "\((error as? PostgresError).map { "\($0.code) \($0.sqlState ?? "") \($0.message)" } ?? reason)",
            ])
            _ = try? await pool.query(
                "UPDATE archive_exports SET state = 'failed', error = $3, finished_at = now(), lease_owner = NULL WHERE id = $1 AND lease_owner = $2",
                [id, owner, reason])
        }
    }
}

/// Stores an export in 1 MiB chunks and renews the job's lease with each; a runner that
/// lost its lease (another replica took the job over) stops.
final class ChunkSink: ArchiveSink, @unchecked Sendable {
    let pool: PostgresPool
    let export: UUID
    let owner: String
    private var buffer: [UInt8] = []
    private var next = 0
    private var total = 0
    var progressLetters = 0

    init(pool: PostgresPool, export: UUID, owner: String) {
        self.pool = pool
        self.export = export
        self.owner = owner
    }

    func write(_ bytes: [UInt8]) async throws {
        buffer.append(contentsOf: bytes)
        while buffer.count >= ArchiveService.chunkSize {
            let piece = Array(buffer.prefix(ArchiveService.chunkSize))
            buffer.removeFirst(ArchiveService.chunkSize)
            try await store(piece)
        }
    }

    func finish() async throws {
        if !buffer.isEmpty { try await store(buffer) }
        buffer = []
    }

    private func store(_ piece: [UInt8]) async throws {
        total += piece.count
        try await pool.withTransaction { tx in
            let renewed = try await tx.execute(
                """
                UPDATE archive_exports SET lease_expires_at = now() + $3 * interval '1 second', bytes = $4, letters = $5
                WHERE id = $1 AND lease_owner = $2
                """, [export, owner, ArchiveService.leaseSeconds, total, progressLetters])
            guard renewed == 1 else { throw ServiceError(.conflict, "the export was taken over by another runner") }
            try await tx.query("INSERT INTO archive_export_chunks (export_id, n, content) VALUES ($1, $2, $3)", [export, next, PostgresBytes(piece)])
        }
        next += 1
    }
}
