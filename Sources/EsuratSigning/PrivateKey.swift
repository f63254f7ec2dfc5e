internal import COpenSSL

/// A private key (EC P-256 by default; RSA 2048/3072 for national CAs), freed with its owner.
///
/// At rest a key is encrypted PKCS#8 (PBES2: scrypt and AES-256-CBC) and only decrypted,
/// with its passphrase, for the operation that needs it.
public final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer

    public enum Algorithm: Sendable, Hashable {
        case ecP256
        case rsa(bits: Int)
    }

    /// Why a key could not be unlocked; the message is for the person who typed the passphrase.
    public enum UnlockError: Error, Sendable, Equatable, CustomStringConvertible {
        case wrongPassphrase
        case notAKey

        public var description: String {
            switch self {
            case .wrongPassphrase: "the passphrase does not unlock this key"
            case .notAKey: "the data is not an encrypted PKCS#8 private key"
            }
        }
    }

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Makes a new key.
    public static func generate(_ algorithm: Algorithm = .ecP256) throws -> PrivateKey {
        ERR_clear_error()
        let name = switch algorithm {
        case .ecP256: "EC"
        case .rsa: "RSA"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, name, nil) else { throw OpenSSLError.drain("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init")
        switch algorithm {
        case .ecP256:
            try check(EVP_PKEY_CTX_set_group_name(ctx, "P-256"), "EVP_PKEY_CTX_set_group_name")
        case .rsa(let bits):
            guard [2048, 3072, 4096].contains(bits) else { throw OpenSSLError(operation: "RSA key size \(bits)", queue: ["use 2048, 3072 or 4096 bits"]) }
            try check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)), "EVP_PKEY_CTX_set_rsa_keygen_bits")
        }
        var key: OpaquePointer?
        try check(EVP_PKEY_keygen(ctx, &key), "EVP_PKEY_keygen")
        guard let key else { throw OpenSSLError.drain("EVP_PKEY_keygen") }
        return PrivateKey(taking: key)
    }

    /// The key as encrypted PKCS#8 PEM: PBES2 with scrypt (N = 2^14, r = 8, p = 1) and AES-256-CBC.
    public func encryptedPEM(passphrase: String) throws -> String {
        ERR_clear_error()
        guard let info = EVP_PKEY2PKCS8(pointer) else { throw OpenSSLError.drain("EVP_PKEY2PKCS8") }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        guard let algorithm = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nil, 0, nil, 1 << 14, 8, 1) else {
            throw OpenSSLError.drain("PKCS5_pbe2_set_scrypt")
        }
        let encrypted = passphrase.withCString { pass in
            PKCS8_set0_pbe(pass, Int32(strlen(pass)), info, algorithm)
        }
        guard let encrypted else {
            X509_ALGOR_free(algorithm)
            throw OpenSSLError.drain("PKCS8_set0_pbe")
        }
        defer { X509_SIG_free(encrypted) }
        let bio = try MemoryBIO()
        try check(PEM_write_bio_PKCS8(bio.pointer, encrypted), "PEM_write_bio_PKCS8")
        return bio.string
    }

    /// Decrypts an encrypted PKCS#8 PEM key. The structure is read first, then decrypted: a
    /// wrong passphrase sometimes yields valid-looking padding and fails only when the
    /// decrypted bytes are parsed, and must still read as a wrong passphrase.
    public static func unlock(pem: String, passphrase: String) throws -> PrivateKey {
        ERR_clear_error()
        defer { ERR_clear_error() }
        guard pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"), let bio = try? MemoryBIO(Array(pem.utf8)),
              let encrypted = PEM_read_bio_PKCS8(bio.pointer, nil, nil, nil)
        else { throw UnlockError.notAKey }
        defer { X509_SIG_free(encrypted) }
        let info = passphrase.withCString { pass in PKCS8_decrypt(encrypted, pass, Int32(strlen(pass))) }
        guard let info else { throw UnlockError.wrongPassphrase }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        guard let key = EVP_PKCS82PKEY(info) else { throw UnlockError.wrongPassphrase }
        return PrivateKey(taking: key)
    }

    /// The public key as PEM (SubjectPublicKeyInfo).
    public var publicKeyPEM: String {
        get throws {
            let bio = try MemoryBIO()
            try check(PEM_write_bio_PUBKEY(bio.pointer, pointer), "PEM_write_bio_PUBKEY")
            return bio.string
        }
    }

    /// "EC P-256" or "RSA 3072".
    public var algorithmDescription: String {
        let bits = EVP_PKEY_get_bits(pointer)
        return EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA ? "RSA \(bits)" : "EC P-\(bits)"
    }
}
