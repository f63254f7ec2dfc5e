public import Foundation

extension UUID {
    /// The RFC 9562 text form in lower case, as esurat writes ids into signed documents,
    /// evidence and API bodies. Formatted here: `uuidString` goes through C's `snprintf` and
    /// then `lowercased()` copies it again, which showed in profiles of the dispatch worker
    /// (four ids in every evidence record).
    public var lowercasedString: String {
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            hex.withUTF8Buffer { digits in
                withUnsafeBytes(of: uuid) { bytes in
                    var out = 0
                    for (index, byte) in bytes.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            buffer[out] = UInt8(ascii: "-")
                            out += 1
                        }
                        buffer[out] = digits[Int(byte >> 4)]
                        buffer[out + 1] = digits[Int(byte & 0x0F)]
                        out += 2
                    }
                }
            }
            return 36
        }
    }
}
