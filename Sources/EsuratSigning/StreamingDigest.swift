internal import COpenSSL

/// SHA-256 and SHA-512 of one stream at once, fed piece by piece: a BagIt bag needs both
/// manifests of every file, and an archive is written (and read back) in one pass, so each
/// byte is hashed as it goes by and never kept.
public final class StreamingDigest {
    private let sha256: OpaquePointer
    private let sha512: OpaquePointer
    /// Bytes fed so far.
    public private(set) var count: Int = 0

    public init() throws {
        guard let a = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        guard let b = EVP_MD_CTX_new() else {
            EVP_MD_CTX_free(a)
            throw OpenSSLError.drain("EVP_MD_CTX_new")
        }
        sha256 = a
        sha512 = b
        try check(EVP_DigestInit_ex2(sha256, EVP_sha256(), nil), "EVP_DigestInit_ex2")
        try check(EVP_DigestInit_ex2(sha512, EVP_sha512(), nil), "EVP_DigestInit_ex2")
    }

    deinit {
        EVP_MD_CTX_free(sha256)
        EVP_MD_CTX_free(sha512)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try check(EVP_DigestUpdate(sha256, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
        try check(EVP_DigestUpdate(sha512, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
        count += bytes.count
    }

    public func update(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try update($0) }
    }

    /// Both digests, lower-case hex; the digest cannot be fed afterwards.
    public func finalize() throws -> (sha256: String, sha512: String) {
        var a = [UInt8](repeating: 0, count: 32)
        var b = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        try check(EVP_DigestFinal_ex(sha256, &a, &length), "EVP_DigestFinal_ex")
        try check(EVP_DigestFinal_ex(sha512, &b, &length), "EVP_DigestFinal_ex")
        return (Digest.hex(a), Digest.hex(b))
    }
}
