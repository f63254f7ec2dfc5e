import EsuratSigning
import Testing

@Suite struct DigestTests {
    @Test func sha256MatchesTheFIPSVectors() throws {
        #expect(Digest.hex(try Digest.sha256(Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(try Digest.sha256([]))
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func sha512MatchesTheFIPSVector() throws {
        #expect(Digest.hex(try Digest.sha512(Array("abc".utf8))).hasPrefix("ddaf35a193617aba"))
    }

    @Test func hmacSHA256MatchesRFC4231() throws {
        #expect(Digest.hex(try Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func randomBytesDiffer() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }
}
