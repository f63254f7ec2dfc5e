import EsuratDomain
public import Logging
public import ServiceLifecycle

/// The background work of the audit log in `serve`: chains new events every second (any
/// number of replicas may run it; one seals at a time), signs a checkpoint of the head when
/// the chain grew and the last checkpoint is older than `checkpointInterval`, and runs
/// queued archive exports (also those a crashed replica left behind).
public struct AuditSealer: Service {
    let chain: AuditChain
    let archive: ArchiveService?
    let interval: Duration
    let checkpointInterval: Duration
    let logger: Logger

    public init(chain: AuditChain, archive: ArchiveService?, interval: Duration = .seconds(1), checkpointInterval: Duration = .seconds(900), logger: Logger) {
        self.chain = chain
        self.archive = archive
        self.interval = interval
        self.checkpointInterval = checkpointInterval
        self.logger = logger
    }

    public func run() async throws {
        var exportPass = 0
        await repeatUntilShutdown(every: interval, logger: logger, failure: "audit sealing pass failed") {
            var sealed = 0
            while true {
                let n = try await chain.seal(batchSize: 1000)
                sealed += n
                if n < 1000 { break }
            }
            if sealed > 0 { logger.debug("sealed audit events", metadata: ["count": "\(sealed)"]) }
            if let checkpoint = try await chain.checkpointIfDue(interval: checkpointInterval.inSeconds) {
                logger.info("signed an audit checkpoint", metadata: ["sequence": "\(checkpoint.sequence)"])
            }
            // Exports are looked for every tenth pass: they are rare, and the request
            // that queues one starts it at once.
            exportPass += 1
            if let archive, exportPass % 10 == 0 { await archive.runPending() }
        }
    }
}
