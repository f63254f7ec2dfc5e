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

    @Test func randomBytesDiffer() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }
}
