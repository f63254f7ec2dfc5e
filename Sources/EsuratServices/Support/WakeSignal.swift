import Synchronization

/// A wake-up call one task waits for, with a time limit, and any task may give: the
/// dispatch worker waits on it between polls and a NOTIFY gives it.
///
/// Why not an AsyncStream raced against a sleep in a task group: cancelling the task that
/// waits in an AsyncStream iterator's `next()` finishes the stream, so after the first poll
/// that beat a notification every later wait returned at once, and an idle worker claimed
/// in a tight loop (a core of CPU, and a third of another in PostgreSQL).
final class WakeSignal: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        /// Given while nobody waited: the next wait returns at once.
        var pending = false
        var waiter: Waiter?
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Wakes the waiting task, or the next one to wait.
    func wake() {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.continuation.resume()
    }

    /// Returns when woken (also by a wake-up given since the last wait), after `timeout`, or
    /// when the task is cancelled. One waiter at a time.
    func wait(timeout: Duration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let id = state.withLock { state -> UInt64? in
                    if state.pending {
                        state.pending = false
                        return nil
                    }
                    state.lastID += 1
                    state.waiter = Waiter(id: state.lastID, continuation: continuation)
                    return state.lastID
                }
                guard let id else { return continuation.resume() }
                Task {
                    try? await Task.sleep(for: timeout)
                    self.expire(id)
                }
            }
        } onCancel: {
            wake()
        }
    }

    /// Ends wait `id` if it is still waiting.
    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard state.waiter?.id == id else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume()
    }
}
