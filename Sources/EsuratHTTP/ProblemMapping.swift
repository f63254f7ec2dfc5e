import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import EsuratServices
import EsuratPostgres
import EsuratSigning

/// The one place that turns any error into the problem a client sees. Anything not
/// recognised is a 500 whose detail reveals nothing; it is logged with the request id.
enum ProblemMapping {
    static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let refusal as ServiceError:
            return serviceProblem(refusal)
        case let serverError as ServerError:
            // The OpenAPI layer wraps what went wrong while decoding the request or running
            // the handler; judge the cause.
            let inner = problem(for: serverError.underlyingError)
            if inner.status != 500 { return inner }
            if serverError.httpStatus.code != 500 {
                return Problem(status: serverError.httpStatus, detail: clientSafe(serverError.causeDescription))
            }
            return inner
        case let decoding as DecodingError:
            return decodingProblem(decoding)
        case let invalid as InvalidDateTime:
            return .validation([.init(field: "body", message: "has a date-time \"\(invalid.text.prefix(40))\" that is not RFC 3339 (such as 2026-12-01T08:00:00Z)")])
        case let postgres as PostgresError where postgres.sqlState?.hasPrefix("22") == true:
            // A data exception: a value the database cannot hold (a NUL character, a number
            // out of range). Validation should have caught it; the client still gets a 400.
            return Problem(status: .badRequest, detail: "A value in the request cannot be stored: \(postgres.message).")
        case let postgres as PostgresError where postgres.meansUnavailable:
            // The database is down, restarting, out of connections, or a statement or lock
            // wait hit its timeout: the request may well succeed shortly.
            var problem = Problem(status: .serviceUnavailable, detail: "The database is unavailable or busy; try again shortly.")
            problem.headers["Retry-After"] = "5"
            return problem
        case let tooLarge as BodyTooLarge:
            return Problem(status: .contentTooLarge, detail: "The request body is larger than the \(tooLarge.limit) bytes this endpoint accepts.")
        case let httpError as HTTPError:
            return Problem(status: httpError.status, detail: httpError.body)
        case let responseError as any HTTPResponseError:
            return Problem(status: responseError.status)
        default:
            return Problem(status: .internalServerError, detail: "The server failed to handle the request; the request id identifies it in the server's log.")
        }
    }

    static func serviceProblem(_ error: ServiceError) -> Problem {
        let fields = error.fields.isEmpty ? nil : error.fields.map { Problem.FieldError(field: $0.field, message: $0.message) }
        var problem: Problem
        switch error.kind {
        case .validation:
            problem = .validation(fields ?? [], detail: error.detail)
        case .unauthorized:
            problem = Problem(status: .unauthorized, detail: error.detail)
            problem.headers["WWW-Authenticate"] = "Bearer realm=\"esurat\""
        case .forbidden:
            problem = Problem(status: .forbidden, detail: error.detail, errors: fields)
        case .notFound:
            problem = Problem(status: .notFound, detail: error.detail)
        case .conflict:
            problem = Problem(status: .conflict, detail: error.detail, errors: fields)
        case .payloadTooLarge:
            problem = Problem(status: .contentTooLarge, detail: error.detail, errors: fields)
        case .unsupportedMediaType:
            problem = Problem(status: .unsupportedMediaType, detail: error.detail, errors: fields)
        case .unprocessable:
            problem = Problem(status: .unprocessableContent, detail: error.detail, errors: fields)
        case .rateLimited:
            problem = Problem(status: .tooManyRequests, detail: error.detail)
            problem.headers["Retry-After"] = String(error.retryAfterSeconds ?? 60)
        }
        return problem
    }

    /// What the log may say about a failure. Never the error's full reflection: the OpenAPI
    /// runtime's errors carry the request's headers (the bearer token) and the decoded input
    /// (passwords). Only the operation, the cause and the underlying error's type, plus the
    /// description of errors esurat itself defines, which hold no secrets.
    static func logMetadata(for error: any Error) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        var underlying: any Error = error
        if let serverError = error as? ServerError {
            metadata["operation"] = "\(serverError.operationID)"
            metadata["cause"] = "\(serverError.causeDescription)"
            underlying = serverError.underlyingError
        }
        metadata["error_type"] = "\(type(of: underlying))"
        switch underlying {
        case let postgres as PostgresError:
            metadata["error"] = "\(postgres.code) \(postgres.sqlState ?? "") \(postgres.message)"
        case let decoding as PostgresDecodingError:
            metadata["error"] = "\(decoding)"
        case let openssl as OpenSSLError:
            metadata["error"] = "\(openssl)"
        default:
            break
        }
        return metadata
    }

    /// Error descriptions from the OpenAPI runtime name the header or parameter at fault and
    /// never carry request values we did not expect, but keep them short.
    private static func clientSafe(_ text: String) -> String {
        String(text.prefix(300))
    }

    static func decodingProblem(_ error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = ""
            for key in codingPath {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return out.isEmpty ? "body" : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .validation([.init(field: path(context.codingPath + [key]), message: "is required")])
        case .valueNotFound(_, let context):
            return .validation([.init(field: path(context.codingPath), message: "must not be null")])
        case .typeMismatch(let type, let context):
            return .validation([.init(field: path(context.codingPath), message: "must be \(describe(type))")])
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Problem(
                    status: .badRequest, type: "https://esurat.go.id/problems/malformed-json", title: "Malformed JSON",
                    detail: "The request body is not valid JSON.", errors: [.init(field: "body", message: "is not valid JSON")])
            }
            return .validation([.init(field: path(context.codingPath), message: "has an invalid value")])
        @unknown default:
            return .validation([.init(field: "body", message: "cannot be read")])
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "of type \(type)"
        }
    }
}

/// Thrown while reading a body that grew past the endpoint's limit.
struct BodyTooLarge: Error {
    var limit: Int
}
