import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates every API route except the public ones: a valid, unexpired, unrevoked
/// bearer token or 401. Unknown routes pass through to the router's 404.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let identity: IdentityService
    /// Paths that need no token (login).
    let publicPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // /api/v1/public/ is what a printed letter's QR code opens: for anyone, rate-limited.
        guard path.hasPrefix("/api/"), !publicPaths.contains(path), !path.hasPrefix("/api/v1/public/"), !routes.methods(for: path).isEmpty else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer "
        else {
            throw ServiceError(.unauthorized, "This needs a bearer token (Authorization: Bearer <token>).")
        }
        let authenticated = try await identity.authenticate(bearer: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        var scope = RequestScope.current ?? RequestScope(info: .local)
        scope.authenticated = authenticated
        return try await RequestScope.$current.withValue(scope) {
            try await next(request, context)
        }
    }
}
