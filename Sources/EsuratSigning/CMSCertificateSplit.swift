/// Splits the embedded certificates off a DER CMS ContentInfo, so a verifier can reuse the
/// certificates it parsed before instead of having OpenSSL decode them again for every
/// signature (OpenSSL 3.0 decodes each certificate's key through its provider decoders,
/// which costs more than the signature check itself).
///
/// Only definite-length DER of the expected shape is handled; anything else returns nil and
/// the caller verifies the untouched bytes the ordinary way.
enum CMSCertificateSplit {
    struct Header {
        var tag: UInt8
        var headerLength: Int
        var length: Int
        var end: Int { headerLength + length }
    }

    /// The TLV header at `offset`, when it fits inside `bytes`.
    static func header(_ bytes: [UInt8], _ offset: Int) -> Header? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        let tag = bytes[offset]
        let first = bytes[offset + 1]
        var length = 0
        var headerLength = 2
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7f)
            guard count >= 1, count <= 4, offset + 2 + count <= bytes.count else { return nil }  // no indefinite lengths
            for k in 0..<count { length = length << 8 | Int(bytes[offset + 2 + k]) }
            headerLength += count
        }
        guard offset + headerLength + length <= bytes.count else { return nil }
        return Header(tag: tag, headerLength: headerLength, length: length)
    }

    static func encodeLength(_ length: Int) -> [UInt8] {
        if length < 0x80 { return [UInt8(length)] }
        var bytes: [UInt8] = []
        var value = length
        while value > 0 {
            bytes.insert(UInt8(value & 0xff), at: 0)
            value >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    /// The ContentInfo without its `certificates` field, and those certificates' DER.
    static func split(_ der: [UInt8]) -> (stripped: [UInt8], certificates: [[UInt8]])? {
        guard let outer = header(der, 0), outer.tag == 0x30, outer.end == der.count else { return nil }
        var i = outer.headerLength
        guard let oid = header(der, i), oid.tag == 0x06 else { return nil }
        i += oid.end
        let explicitStart = i
        guard let explicit = header(der, i), explicit.tag == 0xA0, explicitStart + explicit.end == der.count else { return nil }
        i += explicit.headerLength
        let signedStart = i
        guard let signed = header(der, i), signed.tag == 0x30, signedStart + signed.end == der.count else { return nil }
        let signedEnd = signedStart + signed.end
        i += signed.headerLength
        for expected: UInt8 in [0x02, 0x31, 0x30] {  // version, digestAlgorithms, encapContentInfo
            guard let field = header(der, i), field.tag == expected, i + field.end <= signedEnd else { return nil }
            i += field.end
        }
        let certificatesStart = i
        guard let set = header(der, i), set.tag == 0xA0, i + set.end <= signedEnd else { return nil }
        let certificatesEnd = i + set.end
        var certificates: [[UInt8]] = []
        var j = i + set.headerLength
        while j < certificatesEnd {
            guard let certificate = header(der, j), certificate.tag == 0x30, j + certificate.end <= certificatesEnd else { return nil }
            certificates.append(Array(der[j..<j + certificate.end]))
            j += certificate.end
        }
        guard !certificates.isEmpty else { return nil }
        let signedContent = Array(der[(signedStart + signed.headerLength)..<certificatesStart]) + Array(der[certificatesEnd..<signedEnd])
        let newSigned = [0x30] + encodeLength(signedContent.count) + signedContent
        let newExplicit = [0xA0] + encodeLength(newSigned.count) + newSigned
        let outerContent = Array(der[outer.headerLength..<explicitStart]) + newExplicit
        return ([0x30] + encodeLength(outerContent.count) + outerContent, certificates)
    }
}
