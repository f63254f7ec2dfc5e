public import Logging
public import ServiceLifecycle

/// Finds review and signing steps past their deadline, and disposition branches past their
/// due date, once a minute, and escalates them.
public struct EscalationTimer: Service {
    let letters: LetterService
    let dispositions: DispositionService
    let interval: Duration
    let logger: Logger

    public init(letters: LetterService, dispositions: DispositionService, interval: Duration = .seconds(60), logger: Logger) {
        self.letters = letters
        self.dispositions = dispositions
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: logger, failure: "escalation pass failed") {
            let count = try await letters.escalateOverdue()
            if count > 0 { logger.info("escalated overdue letter steps", metadata: ["count": "\(count)"]) }
            let branches = try await dispositions.escalateOverdue()
            if branches > 0 { logger.info("escalated overdue disposition branches", metadata: ["count": "\(branches)"]) }
        }
    }
}
