internal import COpenSSL

/// Cryptographically strong random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    /// `count` random bytes; throws when the generator is not seeded.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try check(RAND_bytes(&out, Int32(count)), "RAND_bytes")
        return out
    }
}
