import Foundation
import Synchronization

/// A token bucket per client address, for what anyone may call without logging in (the
/// public verification of letters): `burst` requests at once, then `perMinute`. In memory,
/// per server process: behind a load balancer each replica counts for itself, so the
/// effective limit is the replica count times this.
public final class ClientRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let perMinute: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(perMinute: Int, burst: Int) {
        self.perMinute = Double(perMinute)
        self.burst = Double(burst)
    }

    /// Takes a token for `client`, or throws 429 with the seconds until the next one.
    public func take(_ client: String, cost: Double = 1) throws {
        let now = ContinuousClock.now
        let wait: Int? = buckets.withLock { buckets in
            if buckets.count > 50_000 {
                // Forget buckets that have refilled: their clients start full anyway.
                buckets = buckets.filter { now - $0.value.updated < .seconds(60 * burst / perMinute) }
            }
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = Double((now - bucket.updated).components.seconds) + Double((now - bucket.updated).components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + elapsed * perMinute / 60)
            bucket.updated = now
            defer { buckets[client] = bucket }
            guard bucket.tokens >= cost else { return Int(((cost - bucket.tokens) * 60 / perMinute).rounded(.up)) }
            bucket.tokens -= cost
            return nil
        }
        if let wait {
            throw ServiceError(.rateLimited, "Too many verification requests; try again in \(wait) seconds.", retryAfterSeconds: wait)
        }
    }
}
