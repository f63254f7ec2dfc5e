import Foundation
import OpenAPIRuntime

/// RFC 3339 date-times, with or without fractional seconds; anything else is an
/// ``InvalidDateTime`` the edge answers with 400 (the runtime's own transcoder throws a
/// Foundation error that would look like a server fault).
struct DateTimeTranscoder: DateTranscoder {
    private let plain = ISO8601DateTranscoder.iso8601
    private let fractional = ISO8601DateTranscoder.iso8601WithFractionalSeconds

    func encode(_ date: Date) throws -> String {
        try plain.encode(date)
    }

    func decode(_ text: String) throws -> Date {
        if let date = try? plain.decode(text) { return date }
        if let date = try? fractional.decode(text) { return date }
        throw InvalidDateTime(text: text)
    }
}

/// A date-time in a request that is not RFC 3339.
struct InvalidDateTime: Error {
    var text: String
}
