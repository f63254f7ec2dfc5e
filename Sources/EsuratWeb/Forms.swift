import Foundation

/// The fields of a posted form: `application/x-www-form-urlencoded`, or the text fields and
/// files of `multipart/form-data`.
struct FormData: Sendable {
    struct File: Sendable {
        var filename: String
        var mediaType: String
        var bytes: [UInt8]
    }

    private(set) var values: [String: [String]] = [:]
    private(set) var files: [String: File] = [:]

    subscript(_ name: String) -> String? { values[name]?.first }

    /// Trimmed text, nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let value = values[name]?.first?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func all(_ name: String) -> [String] { values[name] ?? [] }

    func file(_ name: String) -> File? { files[name] }

    mutating func add(_ name: String, _ value: String) { values[name, default: []].append(value) }

    /// Parses a URL-encoded body: `+` is a space, `%XX` a byte of UTF-8; malformed escapes
    /// are kept as written.
    static func urlEncoded(_ bytes: [UInt8]) -> FormData {
        var form = FormData()
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            form.add(name, value)
        }
        return form
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    enum MultipartError: Error { case malformed }

    /// Parses a `multipart/form-data` body (RFC 7578) held in memory; the caller bounds its size.
    static func multipart(_ body: [UInt8], contentType: String) throws -> FormData {
        guard let boundaryRange = contentType.range(of: "boundary=") else { throw MultipartError.malformed }
        var boundary = String(contentType[boundaryRange.upperBound...])
        if let semicolon = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semicolon]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty, boundary.count <= 200 else { throw MultipartError.malformed }
        let delimiter = Array("--\(boundary)".utf8)
        var form = FormData()
        var positions: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
        }
        guard positions.count >= 2 else { throw MultipartError.malformed }
        for (start, end) in zip(positions, positions.dropFirst()) {
            // A part runs from after the delimiter's CRLF to the CRLF before the next one.
            var partStart = start + delimiter.count
            guard partStart + 2 <= end, body[partStart] == 13, body[partStart + 1] == 10 else { throw MultipartError.malformed }
            partStart += 2
            let partEnd = end - 2
            guard partEnd >= partStart, let headerEnd = find([13, 10, 13, 10], in: body, from: partStart), headerEnd <= partEnd else {
                throw MultipartError.malformed
            }
            let headers = String(decoding: body[partStart..<headerEnd], as: UTF8.self)
            let content = Array(body[(headerEnd + 4)..<partEnd])
            var name: String?
            var filename: String?
            var mediaType = "application/octet-stream"
            for line in headers.components(separatedBy: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = parameter("name", in: line)
                    filename = parameter("filename", in: line)
                } else if lower.hasPrefix("content-type:") {
                    mediaType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { throw MultipartError.malformed }
            if let filename {
                if !filename.isEmpty || !content.isEmpty {
                    form.files[name] = File(filename: filename, mediaType: mediaType, bytes: content)
                }
            } else {
                form.add(name, String(decoding: content, as: UTF8.self))
            }
        }
        return form
    }

    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("\(key)=") else { continue }
            var value = String(trimmed.dropFirst(key.count + 1))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
