import EsuratSigning
import Testing

@Suite("Unlocked key cache")
struct UnlockedKeyCacheTests {
    let pem: String
    let publicKey: String

    init() throws {
        let key = try PrivateKey.generate()
        pem = try key.encryptedPEM(passphrase: "frasa-sandi-benar")
        publicKey = try key.publicKeyPEM
    }

    @Test("the right passphrase reuses the unlocked key; a wrong one is refused even while it is cached")
    func passphraseStillChecked() throws {
        let cache = try UnlockedKeyCache(lifetime: .seconds(60))
        let first = try cache.unlock(keyID: "01", pem: pem, passphrase: "frasa-sandi-benar")
        let second = try cache.unlock(keyID: "01", pem: pem, passphrase: "frasa-sandi-benar")
        #expect(first === second)
        #expect(try second.publicKeyPEM == publicKey)
        #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try cache.unlock(keyID: "01", pem: pem, passphrase: "frasa-sandi-salah") }
        #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try cache.unlock(keyID: "01", pem: pem, passphrase: "") }
        // A prefix of the right passphrase is wrong too.
        #expect(throws: PrivateKey.UnlockError.wrongPassphrase) { try cache.unlock(keyID: "01", pem: pem, passphrase: "frasa-sandi-bena") }
        // The cached entry survives failed attempts.
        #expect(try cache.unlock(keyID: "01", pem: pem, passphrase: "frasa-sandi-benar") === first)
    }

    @Test("entries expire, can be forgotten, and lifetime zero turns the cache off")
    func expiryAndForget() async throws {
        let short = try UnlockedKeyCache(lifetime: .milliseconds(50))
        let first = try short.unlock(keyID: "02", pem: pem, passphrase: "frasa-sandi-benar")
        try await Task.sleep(for: .milliseconds(120))
        #expect(try short.unlock(keyID: "02", pem: pem, passphrase: "frasa-sandi-benar") !== first)

        let cache = try UnlockedKeyCache(lifetime: .seconds(60))
        let kept = try cache.unlock(keyID: "03", pem: pem, passphrase: "frasa-sandi-benar")
        cache.forget(keyID: "03")
        #expect(try cache.unlock(keyID: "03", pem: pem, passphrase: "frasa-sandi-benar") !== kept)

        let off = try UnlockedKeyCache(lifetime: .zero)
        let a = try off.unlock(keyID: "04", pem: pem, passphrase: "frasa-sandi-benar")
        #expect(try off.unlock(keyID: "04", pem: pem, passphrase: "frasa-sandi-benar") !== a)
    }

    @Test("a full cache drops the entry closest to expiry")
    func capacity() throws {
        let cache = try UnlockedKeyCache(lifetime: .seconds(60), capacity: 2)
        let a = try cache.unlock(keyID: "a", pem: pem, passphrase: "frasa-sandi-benar")
        let b = try cache.unlock(keyID: "b", pem: pem, passphrase: "frasa-sandi-benar")
        _ = try cache.unlock(keyID: "c", pem: pem, passphrase: "frasa-sandi-benar")
        #expect(try cache.unlock(keyID: "b", pem: pem, passphrase: "frasa-sandi-benar") === b)
        #expect(try cache.unlock(keyID: "a", pem: pem, passphrase: "frasa-sandi-benar") !== a)
    }
}
