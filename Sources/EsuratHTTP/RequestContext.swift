public import Hummingbird
public import NIOCore
import EsuratServices

/// The request context of esurat's router: Hummingbird's core storage plus the peer's
/// address, for rate limits and the audit trail.
public struct EsuratRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// What the edge and auth middlewares learned about the request, for the OpenAPI handlers,
/// which see no Hummingbird context.
struct RequestScope: Sendable {
    @TaskLocal static var current: RequestScope?

    var info: RequestInfo
    var authenticated: IdentityService.Authenticated?

    /// The caller, or 401 when the route needs one and there is none (the auth middleware
    /// refuses such requests before a handler runs; this is the second line).
    static func caller() throws -> IdentityService.Authenticated {
        guard let authenticated = current?.authenticated else {
            throw ServiceError(.unauthorized, "This needs a bearer token.")
        }
        return authenticated
    }

    static var info: RequestInfo { current?.info ?? .local }
}
