public import Foundation
public import HTTPTypes

/// An RFC 9457 problem: what every error response of esurat carries, as
/// `application/problem+json`.
public struct Problem: Error, Codable, Sendable, Equatable {
    /// One field a client got wrong.
    public struct FieldError: Codable, Sendable, Equatable {
        /// The field's path in the request, such as `recipients[0].unitId`.
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var instance: String?
    public var requestId: String?
    public var errors: [FieldError]?
    /// Headers the response must carry (Allow, Retry-After); not part of the JSON.
    public var headers: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, requestId, errors
    }

    public init(status: HTTPResponse.Status, type: String? = nil, title: String? = nil, detail: String? = nil, errors: [FieldError]? = nil) {
        self.status = status.code
        self.type = type ?? Problem.typeURI(for: status)
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.errors = errors
    }

    /// A 400 naming the fields that are wrong.
    public static func validation(_ errors: [FieldError], detail: String = "The request has invalid fields.") -> Problem {
        Problem(status: .badRequest, type: "https://esurat.go.id/problems/validation", title: "Invalid request", detail: detail, errors: errors)
    }

    /// A 404 that does not say whether the thing exists but is hidden from the caller.
    public static func notFound(_ detail: String = "The requested resource does not exist.") -> Problem {
        Problem(status: .notFound, detail: detail)
    }

    static func typeURI(for status: HTTPResponse.Status) -> String {
        let slug = status.reasonPhrase.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "-")
        return "https://esurat.go.id/problems/\(slug.isEmpty ? String(status.code) : slug)"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The JSON body.
    public func body() -> Data {
        (try? Problem.encoder.encode(self)) ?? Data(#"{"status":500,"title":"Internal Server Error","type":"about:blank"}"#.utf8)
    }
}
