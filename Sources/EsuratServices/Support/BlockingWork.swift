#if canImport(Glibc)
import Glibc
#endif
import NIOPosix

/// Threads for CPU-heavy work (password hashing) that must not occupy Swift's cooperative
/// threads: a 50 ms scrypt there would stall every request on a two-core machine.
public final class BlockingWork: Sendable {
    private let pool: NIOThreadPool

    public init(threads: Int = 2) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// One thread at a lower CPU priority (nice 10), for work anyone may ask for: password
    /// checks at login. A flood of anonymous logins then queues there, bounded by the login
    /// gate, and yields the cores to requests and signing, which keep their own threads.
    public static func lowPriority() -> BlockingWork {
        let work = BlockingWork(threads: 1)
        #if canImport(Glibc)
        // On Linux the nice value is per thread: who = 0 is the calling thread alone.
        work.pool.submit { _ in _ = setpriority(__priority_which_t(0), 0, 10) }
        #endif
        return work
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
