import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses what a handler should never see, before any of the body is read: a body over the
/// limit (413, from `Content-Length` at once, or as soon as a streamed body passes it) and a
/// body that is not JSON where JSON is expected (415).
struct RequestGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Limits per route; the first whose method and path prefix match wins.
    struct RawBodyRoute: Sendable {
        var method: HTTPRequest.Method
        var pathTemplate: String
        var maxBytes: Int
    }

    let routes: RouteTable
    let maxJSONBytes: Int
    let rawBodyRoutes: [RawBodyRoute]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .put || request.method == .patch,
              routes.methods(for: request.uri.path).contains(request.method)
        else {
            // No body expected, or no such route: the router answers (404/405).
            return try await next(request, context)
        }
        let raw = rawBodyRoutes.first { $0.method == request.method && RouteTable.matches(template: $0.pathTemplate, path: request.uri.path) }
        let limit = raw?.maxBytes ?? maxJSONBytes
        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        if let declaredLength, declaredLength > limit {
            throw BodyTooLarge(limit: limit)
        }
        let hasBody = (declaredLength ?? 0) > 0 || request.headers[.transferEncoding] != nil
        if raw == nil && hasBody && !Self.isJSON(request.headers[.contentType]) {
            throw Problem(
                status: .unsupportedMediaType,
                detail: "The body must be JSON (Content-Type: application/json).",
                errors: [.init(field: "Content-Type", message: "must be application/json")])
        }
        var request = request
        if declaredLength == nil {
            request.body = RequestBody(asyncSequence: LimitedBody(base: request.body, limit: limit))
        }
        return try await next(request, context)
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}

/// A streamed body that throws ``BodyTooLarge`` once it passes `limit` bytes.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += chunk.readableBytes
            if seen > limit { throw BodyTooLarge(limit: limit) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
