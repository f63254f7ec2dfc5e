import Foundation
import HTTPTypes
import Hummingbird
import Logging
import EsuratServices
import NIOCore

/// The outermost middleware: it turns every error into a problem+json response (404 and 405
/// for unknown routes included), stamps the request id on the response and writes one access
/// log line per request.
struct EdgeMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let accessLogger: Logger
    let trustForwardedFor: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = context.id
        var response: Response
        let scope = RequestScope(info: RequestInfo(clientAddress: clientAddress(request, context), requestID: requestID))
        do {
            // The router skips empty path segments, so "//api/v1/letters" or "/metrics/" would
            // reach a handler while the auth middleware and a proxy's exact-path rule saw
            // another path. Only the one spelling of a path is served.
            guard CanonicalPath.isCanonical(request.uri.path) else {
                throw ServiceError.notFound("This path")
            }
            response = try await RequestScope.$current.withValue(scope) {
                try await next(request, context)
            }
        } catch {
            var problem = ProblemMapping.problem(for: error)
            if problem.status == 404, error is HTTPError {
                // The router found no handler: a known path with another method is a 405.
                let allowed = routes.methods(for: request.uri.path)
                if !allowed.isEmpty {
                    problem = Problem(status: .methodNotAllowed, detail: "\(request.method) is not allowed on this path.")
                    problem.headers["Allow"] = allowed.map(\.rawValue).joined(separator: ", ")
                }
            }
            if problem.status >= 500 {
                context.logger.error("request failed", metadata: ProblemMapping.logMetadata(for: error))
            }
            problem.instance = request.uri.path
            problem.requestId = requestID
            response = Self.response(for: problem)
        }
        response.headers[.requestID] = requestID
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "duration_ms": "\(Double(elapsed.components.attoseconds / 1_000_000_000_000) / 1000 + Double(elapsed.components.seconds) * 1000)",
            "request_id": "\(requestID)",
        ]
        if let clientID = request.headers[.requestID] { metadata["client_request_id"] = "\(clientID.prefix(64))" }
        accessLogger.info("request", metadata: metadata)
        return response
    }

    /// The client's IP address: the peer's, or with `trustForwardedFor` the last hop the
    /// proxy recorded in `X-Forwarded-For`.
    func clientAddress(_ request: Request, _ context: Context) -> String {
        if trustForwardedFor, let forwarded = request.headers[.xForwardedFor],
           let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty, last.count <= 64 {
            return last
        }
        guard let address = (context as? any RemoteAddressRequestContext)?.remoteAddress else { return "unknown" }
        return address.ipAddress ?? address.pathname ?? "unknown"
    }

    static func response(for problem: Problem) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in problem.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: problem.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: problem.body())))
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// The one spelling of a path the server answers.
enum CanonicalPath {
    /// "/" or segments that are neither empty (no "//", no trailing "/") nor "." or "..",
    /// plainly or percent-encoded.
    static func isCanonical(_ path: String) -> Bool {
        if path == "/" { return true }
        guard path.hasPrefix("/") else { return false }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).allSatisfy { segment in
            guard !segment.isEmpty else { return false }
            let decoded = segment.removingPercentEncoding ?? String(segment)
            return decoded != "." && decoded != ".." && !decoded.contains("/")
        }
    }
}
