import NIOPosix

/// Threads for CPU-heavy work (password hashing) that must not occupy Swift's cooperative
/// threads: a 50 ms scrypt there would stall every request on a two-core machine.
public final class BlockingWork: Sendable {
    private let pool: NIOThreadPool

    public init(threads: Int = 2) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
