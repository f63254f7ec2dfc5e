internal import COpenSSL
import Synchronization

/// Officials' signing keys, kept unlocked for a short while after their passphrase opened them.
///
/// A signer's key is encrypted with scrypt (N = 2^14, 16 MiB), which costs ~20 ms of CPU per
/// unlock — on a 2-core server that alone caps signing at ~50 letters/s, far below what a
/// head signing a morning's batch of letters needs. The passphrase is still required for
/// every signature (the signer's sole control over the key, as PP 71/2019 asks): it is
/// checked against an HMAC-SHA-256 kept beside the unlocked key, under a key random to this
/// process, and compared in constant time. Only the scrypt work is skipped. A wrong
/// passphrase never matches and always pays the full unlock, so guessing stays as slow as it
/// was. Entries live for `lifetime` from their unlock (never extended by use), at most
/// `capacity` of them, and only in this process' memory, where the unlocked key lived during
/// signing anyway.
public final class UnlockedKeyCache: Sendable {
    private struct Entry {
        let key: PrivateKey
        let salt: [UInt8]
        let mac: [UInt8]
        let expires: ContinuousClock.Instant
    }

    private let lifetime: Duration
    private let capacity: Int
    private let macKey: [UInt8]
    private let entries = Mutex<[String: Entry]>([:])

    /// `lifetime` zero turns the cache off: every signature unlocks its key.
    public init(lifetime: Duration, capacity: Int = 4096) throws {
        self.lifetime = lifetime
        self.capacity = capacity
        self.macKey = try SecureRandom.bytes(32)
    }

    /// The key `keyID` names (a certificate serial), unlocked from `pem` with `passphrase` —
    /// from the cache when the same passphrase opened it within the lifetime.
    public func unlock(keyID: String, pem: String, passphrase: String) throws -> PrivateKey {
        guard lifetime > .zero else { return try PrivateKey.unlock(pem: pem, passphrase: passphrase) }
        if let known = cached(keyID: keyID, passphrase: passphrase) { return known }
        let now = ContinuousClock.now
        let key = try PrivateKey.unlock(pem: pem, passphrase: passphrase)
        let salt = try SecureRandom.bytes(16)
        let entry = Entry(key: key, salt: salt, mac: try hmac(salt, passphrase), expires: now + lifetime)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires }) {
                    entries[oldest.key] = nil
                }
            }
            entries[keyID] = entry
        }
        return key
    }

    /// The key `keyID` names when `passphrase` opened it within the lifetime; nil otherwise
    /// (never unlocked here, expired, or another passphrase), for the caller to try the full
    /// unlock, counted as a guess. Costs an HMAC.
    public func cached(keyID: String, passphrase: String) -> PrivateKey? {
        guard lifetime > .zero, let entry = entries.withLock({ $0[keyID] }), entry.expires > ContinuousClock.now,
              let mac = try? hmac(entry.salt, passphrase), Self.equal(entry.mac, mac)
        else { return nil }
        return entry.key
    }

    /// Forgets a key at once (revoked, replaced).
    public func forget(keyID: String) {
        _ = entries.withLock { $0.removeValue(forKey: keyID) }
    }

    private func hmac(_ salt: [UInt8], _ passphrase: String) throws -> [UInt8] {
        try Digest.hmacSHA256(key: macKey, salt + Array(passphrase.utf8))
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
