@testable import EsuratServices
import Foundation
import Testing

@Suite struct WakeSignalTests {
    let clock = ContinuousClock()

    @Test func waitsTheWholeTimeoutEveryTimeWhenNobodyWakesIt() async {
        // The AsyncStream it replaced returned at once after its first timeout.
        let signal = WakeSignal()
        let started = clock.now
        for _ in 0..<5 { await signal.wait(timeout: .milliseconds(60)) }
        #expect(clock.now - started >= .milliseconds(300))
    }

    @Test func aWakeUpGivenBeforeTheWaitIsKeptForIt() async {
        let signal = WakeSignal()
        signal.wake()
        signal.wake()  // several before a wait count as one
        let started = clock.now
        await signal.wait(timeout: .seconds(10))
        #expect(clock.now - started < .seconds(8))
        await signal.wait(timeout: .milliseconds(100))
        #expect(clock.now - started >= .milliseconds(100))
    }

    @Test func aWakeUpOrACancellationEndsAWait() async {
        let signal = WakeSignal()
        let started = clock.now
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            signal.wake()
        }
        await signal.wait(timeout: .seconds(20))
        #expect(clock.now - started < .seconds(15))
        let waiting = Task { await signal.wait(timeout: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await waiting.value
        #expect(clock.now - started < .seconds(45))
    }
}
