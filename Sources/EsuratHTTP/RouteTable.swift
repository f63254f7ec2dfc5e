import HTTPTypes
import Synchronization

/// The operations the API serves, by method and path template. The router answers 404 for
/// a known path with a wrong method; with this table the edge answers 405 with `Allow`, and
/// the request guard leaves unknown routes to the router's 404.
final class RouteTable: Sendable {
    private struct Route {
        var method: HTTPRequest.Method
        var segments: [Substring]
    }

    private let routes = Mutex<[Route]>([])

    func add(method: HTTPRequest.Method, path: String) {
        routes.withLock { $0.append(Route(method: method, segments: Self.segments(path))) }
    }

    /// The methods registered for `path`; empty when no template matches it.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let wanted = Self.segments(path)
        return routes.withLock { routes in
            routes.filter { Self.matches($0.segments, wanted) }.map(\.method)
        }
    }

    /// Whether `path` fits `template` (`{name}` matches one segment).
    static func matches(template: String, path: String) -> Bool {
        matches(segments(template), segments(path))
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        guard template.count == path.count else { return false }
        for (t, p) in zip(template, path) {
            let isParameter = t.hasPrefix(":") || (t.hasPrefix("{") && t.hasSuffix("}"))
            if !isParameter && t != p { return false }
        }
        return true
    }
}
