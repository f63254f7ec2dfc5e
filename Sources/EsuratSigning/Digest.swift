internal import COpenSSL

/// Message digests through OpenSSL's EVP interface.
public enum Digest {
    /// The SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) throws -> [UInt8] {
        try digest(named: "SHA256", length: 32, bytes)
    }

    /// The SHA-512 digest of `bytes`.
    public static func sha512(_ bytes: some Sequence<UInt8>) throws -> [UInt8] {
        try digest(named: "SHA512", length: 64, bytes)
    }

    /// HMAC-SHA-256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { key in
            message.withUnsafeBytes { data in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), data.bindMemory(to: UInt8.self).baseAddress, data.count, &out, &length)
            }
        }
        guard result != nil, length == 32 else { throw OpenSSLError.drain("HMAC") }
        return out
    }

    /// Lower-case hexadecimal, as `sha256sum` prints digests.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func digest(named name: String, length: Int, _ bytes: some Sequence<UInt8>) throws -> [UInt8] {
        // EVP_sha256()/EVP_sha512() are static descriptors; OpenSSL 3 fetches the
        // implementation behind them once and caches it, where EVP_MD_fetch takes a lock
        // and a lookup on every call.
        let md = name == "SHA512" ? EVP_sha512() : EVP_sha256()
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        try check(EVP_DigestInit_ex2(ctx, md, nil), "EVP_DigestInit_ex2")
        let contiguous = bytes as? [UInt8] ?? Array(bytes)
        try contiguous.withUnsafeBytes { raw in
            _ = try check(EVP_DigestUpdate(ctx, raw.baseAddress, raw.count), "EVP_DigestUpdate")
        }
        var out = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        try check(EVP_DigestFinal_ex(ctx, &out, &written), "EVP_DigestFinal_ex")
        return Array(out.prefix(Int(written)))
    }
}

/// SHA-256 over data that arrives in pieces (an upload streamed chunk by chunk).
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() throws {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        self.context = context
        try check(EVP_DigestInit_ex2(context, EVP_sha256(), nil), "EVP_DigestInit_ex2")
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: some Collection<UInt8>) throws {
        let contiguous = bytes as? [UInt8] ?? Array(bytes)
        try contiguous.withUnsafeBytes { raw in
            _ = try check(EVP_DigestUpdate(context, raw.baseAddress, raw.count), "EVP_DigestUpdate")
        }
    }

    /// The digest, lower-case hex.
    public func finalizeHex() throws -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        try check(EVP_DigestFinal_ex(context, &out, &length), "EVP_DigestFinal_ex")
        return Digest.hex(Array(out.prefix(Int(length))))
    }
}
