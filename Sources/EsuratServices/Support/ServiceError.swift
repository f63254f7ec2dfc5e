/// A use case refused: why, in terms a client can act on. The HTTP edge maps the kind to a
/// status (validation 400, unauthorized 401, forbidden 403, notFound 404, conflict 409,
/// payloadTooLarge 413, unsupportedMediaType 415, unprocessable 422, rateLimited 429).
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case validation, unauthorized, forbidden, notFound, conflict, payloadTooLarge, unsupportedMediaType, unprocessable, rateLimited
    }

    /// One field a client got wrong.
    public struct FieldError: Sendable, Hashable {
        public var field: String
        public var message: String
        public init(_ field: String, _ message: String) {
            self.field = field
            self.message = message
        }
    }

    public var kind: Kind
    public var detail: String
    public var fields: [FieldError]
    /// For ``Kind/rateLimited``: seconds until a retry may succeed.
    public var retryAfterSeconds: Int?

    public init(_ kind: Kind, _ detail: String, fields: [FieldError] = [], retryAfterSeconds: Int? = nil) {
        self.kind = kind
        self.detail = detail
        self.fields = fields
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(kind): \(detail)" }

    public static func validation(_ fields: [FieldError]) -> ServiceError {
        ServiceError(.validation, "The request has invalid fields.", fields: fields)
    }

    public static func invalid(_ field: String, _ message: String) -> ServiceError {
        .validation([FieldError(field, message)])
    }

    public static func notFound(_ what: String) -> ServiceError {
        ServiceError(.notFound, "\(what) does not exist.")
    }

    public static func conflict(_ field: String, _ message: String) -> ServiceError {
        ServiceError(.conflict, message, fields: [FieldError(field, message)])
    }
}

/// Collects field errors so a client learns about all of them at once.
struct Validator {
    private(set) var errors: [ServiceError.FieldError] = []

    mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { errors.append(.init(field, message)) }
    }

    /// A human-readable text: `length` characters after trimming, no control characters
    /// (a NUL cannot even be stored; the others are never meant in a name or title).
    mutating func text(_ value: String, _ field: String, length: ClosedRange<Int>) {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            fail(field, "must not contain control characters")
        } else if !length.contains(value.count) {
            fail(field, "must be \(length.lowerBound)–\(length.upperBound) characters")
        }
    }

    mutating func fail(_ field: String, _ message: String) {
        errors.append(.init(field, message))
    }

    func throwIfInvalid() throws {
        if !errors.isEmpty { throw ServiceError.validation(errors) }
    }
}

extension String {
    /// nil for the empty string: optional text fields treat "" as not given.
    var nonEmpty: String? { isEmpty ? nil : self }
}
