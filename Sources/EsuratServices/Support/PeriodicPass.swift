import Logging
import ServiceLifecycle

/// The loop of esurat's background services (escalation, sealing, housekeeping): a pass,
/// then a pause, until graceful shutdown. A failed pass is logged by its type (never its
/// text, which may quote data) and the next comes at its time; the pause ends at once on
/// SIGTERM, so shutdown never waits it out.
func repeatUntilShutdown(every interval: Duration, logger: Logger, failure: Logger.Message, _ pass: () async throws -> Void) async {
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        do {
            try await pass()
        } catch {
            logger.warning(failure, metadata: ["error_type": "\(type(of: error))"])
        }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
