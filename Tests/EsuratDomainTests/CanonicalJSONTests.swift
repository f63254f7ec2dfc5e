import EsuratDomain
import Foundation
import Testing

/// RFC 8785's own examples.
@Suite struct CanonicalJSONTests {
    func canonical(_ text: String) throws -> String {
        String(decoding: try CanonicalJSON.canonicalize(text), as: UTF8.self)
    }

    @Test func theRFCsMainExample() throws {
        // RFC 8785 §3.2.2
        let input = #"""
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }
        """#
        #expect(try canonical(input) == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    @Test func membersSortByUTF16CodeUnits() throws {
        // RFC 8785 §3.2.3
        let input = #"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#
        let values = try canonical(input)
        let order = ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]
        var last = values.startIndex
        for name in order {
            let found = try #require(values.range(of: name, range: last..<values.endIndex), "\(name) out of order in \(values)")
            last = found.upperBound
        }
    }

    @Test(arguments: [
        // RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
        (0x0000_0000_0000_0000 as UInt64, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        // Integers take a shorter path; its edges.
        (0x433F_FFFF_FFFF_FFFF, "9007199254740991"),
        (0xC33F_FFFF_FFFF_FFFF, "-9007199254740991"),
        (0x3FF0_0000_0000_0000, "1"),
        (0xBFF0_0000_0000_0000, "-1"),
        (0x3FE0_0000_0000_0000, "0.5"),
    ])
    func numbersPrintAsECMAScriptDoes(bits: UInt64, expected: String) throws {
        #expect(try CanonicalJSON.format(Double(bitPattern: bits)) == expected)
    }

    @Test func nonFiniteNumbersAndBadTextAreRefused() {
        #expect(throws: CanonicalJSON.Invalid.nonFiniteNumber) { try CanonicalJSON.format(.nan) }
        #expect(throws: CanonicalJSON.Invalid.nonFiniteNumber) { try CanonicalJSON.encode(.number(.infinity)) }
        for bad in [#"{"a":1,"a":2}"#, #"{"a":1}x"#, #"["\ud800"]"#, "[01]", "[1e400]", #"{"a" 1}"#, "\"\u{01}\""] {
            #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(bad) }
        }
    }

    @Test func indonesianTextStaysAsIs() throws {
        #expect(try canonical(#"{"perihal": "Undangan Rapat — Dinas Kominfo", "kepada": ["Camat Socah"]}"#)
            == #"{"kepada":["Camat Socah"],"perihal":"Undangan Rapat — Dinas Kominfo"}"#)
        #expect(String(decoding: try CanonicalJSON.encode(.string("\u{01}é\"\\\n😀\u{7F}")), as: UTF8.self) == #""\u0001é\"\\\n😀\#u{7F}""#)
    }
}

@Suite struct LowercasedUUIDTests {
    @Test func matchesFoundationsTextInLowerCase() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
        #expect(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).lowercasedString == "00000000-0000-0000-0000-000000000000")
    }
}

@Suite struct DurationSecondsTests {
    @Test func keepsTheFractions() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.seconds(5).inSeconds == 5)
        #expect(Duration.microseconds(250).inSeconds == 0.00025)
    }
}
