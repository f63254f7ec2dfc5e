@testable import EsuratSigning
import Foundation
import Testing

/// The DER pieces EC signatures are assembled from (the whole signature is checked against
/// OpenSSL in SignatureTests).
@Suite struct DERTests {
    @Test func lengthsUseTheShortFormBelow128AndTheFewestBytesAbove() {
        #expect(DER.tlv(0x04, [UInt8](repeating: 1, count: 127)).prefix(2) == [0x04, 0x7F])
        #expect(DER.tlv(0x04, [UInt8](repeating: 1, count: 128)).prefix(3) == [0x04, 0x81, 0x80])
        #expect(DER.tlv(0x04, [UInt8](repeating: 1, count: 256)).prefix(4) == [0x04, 0x82, 0x01, 0x00])
        #expect(DER.tlv(0x04, [UInt8](repeating: 1, count: 65_536)).prefix(5) == [0x04, 0x83, 0x01, 0x00, 0x00])
        #expect(DER.tlv(0x05, []) == [0x05, 0x00])
    }

    @Test func setsAreOrderedByTheirEncodings() {
        // X.690 11.6: as octet strings, the shorter padded with zeros at its end.
        let set = DER.set([[0x04, 0x02, 0xFF, 0x00], [0x04, 0x01, 0x00], [0x02, 0x01, 0x07]])
        #expect(set == [0x31, 0x0A, 0x02, 0x01, 0x07, 0x04, 0x01, 0x00, 0x04, 0x02, 0xFF, 0x00])
    }

    @Test func signingTimeIsUTCTimeUntil2049AndGeneralizedTimeFrom2050() {
        let lastUTC = Date(timeIntervalSince1970: 2_524_607_999)  // 2049-12-31T23:59:59Z
        #expect(DER.time(lastUTC) == [0x17, 0x0D] + Array("491231235959Z".utf8))
        #expect(DER.time(lastUTC.addingTimeInterval(1.9)) == [0x18, 0x0F] + Array("20500101000000Z".utf8))
        // Fractions of a second are cut, not rounded up into the next second.
        #expect(DER.time(Date(timeIntervalSince1970: 1_796_169_599.999)) == [0x17, 0x0D] + Array("261201235959Z".utf8))
    }
}
