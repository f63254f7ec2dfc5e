/// RFC 8785 JSON Canonicalization Scheme: the exact bytes esurat signs.
///
/// Objects' members sorted by their names' UTF-16 code units, no insignificant white space,
/// strings escaped as ECMAScript's JSON.stringify does, numbers as ECMAScript's
/// Number.prototype.toString prints doubles.
public enum CanonicalJSON {
    /// Why a value cannot be canonicalised.
    public enum Invalid: Error, Sendable, Equatable {
        /// NaN and the infinities have no JSON form.
        case nonFiniteNumber
    }

    /// The canonical UTF-8 bytes of `value`.
    public static func encode(_ value: JSONValue) throws(Invalid) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, into: &out)
        return out
    }

    /// The canonical form of a JSON text.
    public static func canonicalize(_ text: String) throws -> [UInt8] {
        try encode(try JSONValue.parse(text))
    }

    static func write(_ value: JSONValue, into out: inout [UInt8]) throws(Invalid) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: try format(number).utf8)
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                try write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Byte by byte: only ASCII bytes are ever escaped, and every byte of a multi-byte
        // UTF-8 sequence is 0x80 or above, so the rest passes through unchanged.
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript Number.prototype.toString (ECMA-262 §6.1.6.1.20) from Swift's shortest
    /// round-trip digits.
    public static func format(_ number: Double) throws(Invalid) -> String {
        guard number.isFinite else { throw .nonFiniteNumber }
        if number == 0 { return "0" }  // also -0
        // Integers below 2^53 are exact and print as their digits, as ECMAScript prints them.
        if number.rounded(.towardZero) == number && abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        let negative = number < 0
        let (digits, n) = shortestDigits(abs(number))
        let k = digits.count
        var body: String
        if k <= n && n <= 21 {
            body = digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            body = String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        } else if -6 < n && n <= 0 {
            body = "0." + String(repeating: "0", count: -n) + digits
        } else {
            let exponent = n - 1
            let sign = exponent < 0 ? "-" : "+"
            body = (k == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst())) + "e" + sign + String(abs(exponent))
        }
        return negative ? "-" + body : body
    }

    /// The shortest digits `s` (no leading or trailing zeros) and exponent `n` with
    /// value = 0.s × 10^n, read from Swift's shortest round-trip description.
    static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description  // "333333333.3333333", "1e-07", "5e-324", "9.999999999999997e+22"
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = String(mantissa[0])
        let fraction = mantissa.count == 2 ? String(mantissa[1]) : ""
        var digits = integer + fraction
        var n = integer.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            n -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (digits, n)
    }
}
