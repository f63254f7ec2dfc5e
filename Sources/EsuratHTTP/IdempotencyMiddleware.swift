import EsuratServices
import EsuratSigning
import HTTPTypes
import Hummingbird
import NIOCore

/// `Idempotency-Key` on POSTs: the first response is stored and replayed to retries with the
/// same key and the same request; the same key with another request is 422. Runs after
/// authentication (keys are per caller) and the request guard (bodies are already limited).
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: IdempotencyStore
    /// Paths whose success answers with a secret (a new API token's value): the store keeps
    /// only that they succeeded.
    static var secretResponsePaths: Set<String> { ["/api/v1/me/tokens"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey], let caller = RequestScope.current?.authenticated else {
            return try await next(request, context)
        }
        var request = request
        let body = try await request.collectBody(upTo: .max)
        let hasher = try SHA256Hasher()
        try hasher.update(Array("\(request.method.rawValue) \(request.uri.description)\n\(request.headers[.contentType] ?? "")\n".utf8))
        try hasher.update(Array(body.readableBytesView))
        switch try await store.claim(user: caller.user.id, key: key, hash: try hasher.finalizeHex()) {
        case .replay(let status, let contentType, let stored):
            var headers: HTTPFields = [.idempotentReplayed: "true"]
            if let contentType { headers[.contentType] = contentType }
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored)))
        case .proceed:
            let response: Response
            do {
                response = try await next(request, context)
            } catch {
                // A refusal (4xx) is the answer to this request and is kept; a server fault is not.
                let problem = ProblemMapping.problem(for: error)
                if problem.status >= 500 {
                    try? await store.abandon(user: caller.user.id, key: key)
                } else {
                    try? await store.complete(user: caller.user.id, key: key, status: problem.status, contentType: "application/problem+json", body: Array(problem.body()))
                }
                throw error
            }
            let collector = BodyCollector()
            let captured = response
            try await captured.body.write(collector)
            let bytes = collector.bytes
            if response.status.code >= 500 {
                try? await store.abandon(user: caller.user.id, key: key)
            } else {
                try await store.complete(
                    user: caller.user.id, key: key, status: response.status.code, contentType: response.headers[.contentType], body: bytes,
                    withhold: Self.secretResponsePaths.contains(request.uri.path))
            }
            var replayable = response
            replayable.body = .init(byteBuffer: ByteBuffer(bytes: bytes))
            return replayable
        }
    }
}

/// Gathers a response body written through `ResponseBodyWriter`.
final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    private(set) var bytes: [UInt8] = []

    func write(_ buffer: ByteBuffer) async throws {
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
