internal import COpenSSL

/// Password hashing with scrypt (OpenSSL's `EVP_PBE_scrypt`), a random salt per password and
/// the parameters stored with the hash, so they can be raised later: a stored hash keeps
/// verifying with its own parameters and ``needsRehash(_:)`` says when to replace it.
///
/// Stored form (PHC-like): `$scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>`.
///
/// Hashing takes tens of milliseconds of CPU by design: call it off Swift's cooperative
/// threads.
public struct PasswordHasher: Sendable {
    /// log2 of scrypt's cost N.
    public var logN: Int
    public var r: Int
    public var p: Int
    /// The shortest password accepted.
    public static let minimumLength = 10
    static let saltLength = 16
    static let hashLength = 32

    /// N = 2^15, r = 8, p = 1: 32 MiB of memory per hash (the RFC 7914 interactive-login
    /// setting, and the floor OWASP lists for scrypt).
    public init(logN: Int = 15, r: Int = 8, p: Int = 1) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    public enum Failure: Error, Sendable, Equatable {
        case tooShort(minimum: Int)
        case malformedHash
    }

    /// Hashes `password` with a new random salt.
    public func hash(_ password: String) throws -> String {
        guard password.count >= Self.minimumLength else { throw Failure.tooShort(minimum: Self.minimumLength) }
        let salt = try SecureRandom.bytes(Self.saltLength)
        let derived = try Self.scrypt(password, salt: salt, logN: logN, r: r, p: p, length: Self.hashLength)
        return "$scrypt$ln=\(logN),r=\(r),p=\(p)$\(Base64.encode(salt))$\(Base64.encode(derived))"
    }

    /// Whether `password` matches `stored`, compared in constant time.
    public func verify(_ password: String, against stored: String) throws -> Bool {
        let parsed = try Self.parse(stored)
        let derived = try Self.scrypt(password, salt: parsed.salt, logN: parsed.logN, r: parsed.r, p: parsed.p, length: parsed.hash.count)
        return derived.withUnsafeBytes { a in
            parsed.hash.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// Whether `stored` was made with weaker parameters than this hasher's.
    public func needsRehash(_ stored: String) -> Bool {
        guard let parsed = try? Self.parse(stored) else { return true }
        return parsed.logN < logN || parsed.r < r || parsed.p < p
    }

    static func parse(_ stored: String) throws -> (logN: Int, r: Int, p: Int, salt: [UInt8], hash: [UInt8]) {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { throw Failure.malformedHash }
        var values: [Substring: Int] = [:]
        for item in parts[2].split(separator: ",") {
            let kv = item.split(separator: "=")
            guard kv.count == 2, let v = Int(kv[1]) else { throw Failure.malformedHash }
            values[kv[0]] = v
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"], (10...22).contains(logN), (1...32).contains(r), (1...16).contains(p),
              let salt = Base64.decode(String(parts[3])), let hash = Base64.decode(String(parts[4])), !hash.isEmpty
        else { throw Failure.malformedHash }
        return (logN, r, p, salt, hash)
    }

    static func scrypt(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let n = UInt64(1) << UInt64(logN)
        // scrypt needs 128·N·r bytes; allow that plus headroom (OpenSSL's default cap is 32 MiB).
        let maxMemory = 128 * n * UInt64(r) * UInt64(p) + (1 << 20)
        let bytes = Array(password.utf8)
        let result = bytes.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { passChars in
                EVP_PBE_scrypt(passChars.baseAddress, pass.count, salt, salt.count, n, UInt64(r), UInt64(p), maxMemory, &out, length)
            }
        }
        try check(result, "EVP_PBE_scrypt")
        return out
    }
}

/// Standard base64 with padding, and the URL-safe alphabet without padding for tokens.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8], urlSafe: Bool = false) -> String {
        let table = urlSafe ? urlAlphabet : alphabet
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
            if i + 1 < bytes.count { out.append(table[Int((b1 & 0x0f) << 2 | b2 >> 6)]) } else if !urlSafe { out.append(UInt8(ascii: "=")) }
            if i + 2 < bytes.count { out.append(table[Int(b2 & 0x3f)]) } else if !urlSafe { out.append(UInt8(ascii: "=")) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text.utf8 where c != UInt8(ascii: "=") {
            if let v = alphabet.firstIndex(of: c) ?? urlAlphabet.firstIndex(of: c) { values.append(UInt8(v)) } else { return nil }
        }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
