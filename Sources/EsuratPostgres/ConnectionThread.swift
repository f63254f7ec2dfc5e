import Dispatch
import Foundation
import Synchronization

/// A thread that runs blocking jobs one after another, in submission order.
///
/// For the libpq calls that block — connecting, the LISTEN loop, the embedded-cluster
/// launcher, waiting for child processes — so they never run on Swift's cooperative executor.
final class ConnectionThread: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `body` on this thread and returns its result. The job runs even when the awaiting
    /// task is cancelled: a connection must always be left in a known state.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Queues `body` without waiting for it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(body) }
        available.signal()
    }

    /// Lets the thread finish the queued jobs and exit.
    func stop() {
        stopped.store(true, ordering: .releasing)
        available.signal()
    }

    private func loop() {
        while true {
            available.wait()
            let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            if let job {
                job()
            } else if stopped.load(ordering: .acquiring) {
                return
            }
        }
    }
}
