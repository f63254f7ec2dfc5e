public import Logging
public import ServiceLifecycle

/// Finds review and signing steps past their deadline, once a minute, and escalates them.
public struct EscalationTimer: Service {
    let letters: LetterService
    let interval: Duration
    let logger: Logger

    public init(letters: LetterService, interval: Duration = .seconds(60), logger: Logger) {
        self.letters = letters
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let count = try await letters.escalateOverdue()
                if count > 0 { logger.info("escalated overdue letter steps", metadata: ["count": "\(count)"]) }
            } catch {
                logger.warning("escalation pass failed", metadata: ["error_type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
