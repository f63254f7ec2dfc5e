import EsuratSigning
import Testing

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(logN: 12)

    @Test func verifiesTheRightPasswordOnly() throws {
        let stored = try hasher.hash("kata-sandi-rahasia")
        #expect(stored.hasPrefix("$scrypt$ln=12,r=8,p=1$"))
        #expect(try hasher.verify("kata-sandi-rahasia", against: stored))
        #expect(try !hasher.verify("kata-sandi-rahasib", against: stored))
        #expect(try !hasher.verify("", against: stored))
        // A new salt each time.
        #expect(try hasher.hash("kata-sandi-rahasia") != stored)
    }

    @Test func keepsItsParametersSoTheyCanBeRaised() throws {
        let old = try PasswordHasher(logN: 11).hash("kata-sandi-lama-1")
        #expect(try hasher.verify("kata-sandi-lama-1", against: old))
        #expect(hasher.needsRehash(old))
        #expect(!hasher.needsRehash(try hasher.hash("kata-sandi-baru-1")))
    }

    @Test func refusesShortPasswordsAndMalformedHashes() {
        #expect(throws: PasswordHasher.Failure.tooShort(minimum: 10)) { try hasher.hash("pendek") }
        #expect(throws: PasswordHasher.Failure.malformedHash) { try hasher.verify("x", against: "$2b$10$bcrypt") }
        #expect(throws: PasswordHasher.Failure.malformedHash) { try hasher.verify("x", against: "$scrypt$ln=40,r=8,p=1$AAAA$AAAA") }
    }

    @Test func indonesianAndEmojiPasswordsWork() throws {
        let stored = try hasher.hash("Sandi Ma'ruf Šukri 🔐")
        #expect(try hasher.verify("Sandi Ma'ruf Šukri 🔐", against: stored))
    }

    @Test func base64RoundTrips() throws {
        for length in 0..<40 {
            let bytes = try SecureRandom.bytes(length)
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.encode(bytes, urlSafe: true)) == bytes)
        }
        #expect(Base64.encode(Array("Many hands make light work.".utf8)) == "TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu")
    }
}
