/// Tests that keep both cores busy for a minute or more (the worker-crash soak, the browser
/// suite with chromium) take turns: run side by side on a 2-core machine, each starves the
/// other past its deadlines. Swift Testing runs suites in parallel, so they queue here.
public actor HeavyTests {
    public static let shared = HeavyTests()

    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` when no other heavy test is running.
    public static func oneAtATime<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let result = try await body()
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
