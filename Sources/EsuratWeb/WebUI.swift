public import EsuratHTTP
import EsuratDomain
import EsuratServices
import EsuratSigning
public import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import Mustache
import NIOCore

/// Settings of the web UI.
public struct WebConfiguration: Sendable {
    /// Mark the session cookie `Secure`: on whenever people reach esurat over TLS (behind
    /// the reverse proxy), off only for plain http on 127.0.0.1.
    public var secureCookies = false
    /// Dates on the pages are in this zone (WIB by default).
    public var timeZone = TimeZone(identifier: "Asia/Jakarta")!

    public init() {}
}

/// The web UI: server-rendered pages in Bahasa Indonesia for clerks, reviewers, heads,
/// staff, auditors and admins. Each page calls the same services with the same caller as
/// the API would, so the access rules are the services' own; the UI adds a cookie session
/// (the same session tokens as `/api/v1/auth/login`) and CSRF protection, never SQL.
public final class WebUI: Sendable {
    let services: HTTPServices
    let configuration: WebConfiguration
    let library: MustacheLibrary
    let inbox: InboxService
    let dispositions: DispositionService
    let classifications: ClassificationService
    let workflows: WorkflowService
    let audit: AuditChain
    let archive: ArchiveService
    let idempotency: IdempotencyStore
    let staticFiles: [String: (bytes: [UInt8], type: String)]

    static let sessionCookie = "esurat_sesi"
    static let preSessionCookie = "esurat_pra"
    static let maxFormBytes = 256 * 1024

    init(services: HTTPServices, configuration: WebConfiguration, library: MustacheLibrary, staticFiles: [String: (bytes: [UInt8], type: String)]) throws {
        self.services = services
        self.configuration = configuration
        self.library = library
        self.inbox = InboxService(pool: services.pool, pki: services.pki, blocking: services.blocking)
        self.dispositions = DispositionService(pool: services.pool)
        self.classifications = ClassificationService(pool: services.pool)
        self.workflows = WorkflowService(pool: services.pool)
        self.audit = AuditChain(pool: services.pool, pki: services.pki, blocking: services.blocking)
        self.archive = ArchiveService(pool: services.pool, pki: services.pki, blocking: services.blocking)
        self.idempotency = IdempotencyStore(pool: services.pool, secret: try services.pki.derivedSecret("idempotency"))
        self.staticFiles = staticFiles
    }

    /// Loads the templates and static files shipped with the target.
    public static func make(services: HTTPServices, configuration: WebConfiguration = .init()) async throws -> WebUI {
        guard let resources = Bundle.module.resourceURL else { throw WebUIError.missingResources }
        let library = try await MustacheLibrary(directory: resources.appendingPathComponent("Templates").path)
        var files: [String: (bytes: [UInt8], type: String)] = [:]
        for (name, type) in [("esurat.css", "text/css; charset=utf-8"), ("htmx.min.js", "text/javascript; charset=utf-8"),
                             ("favicon.svg", "image/svg+xml"), ("esurat.js", "text/javascript; charset=utf-8")] {
            let data = try Data(contentsOf: resources.appendingPathComponent("Static").appendingPathComponent(name))
            files[name] = (Array(data), type)
        }
        return try WebUI(services: services, configuration: configuration, library: library, staticFiles: files)
    }

    enum WebUIError: Error { case missingResources }

    /// Adds the pages to the router of `HTTPServer.makeRouter`, behind its edge middleware
    /// (request ids, access log); `/api/v1` is untouched and stays bearer-only.
    public func register(on router: Router<EsuratRequestContext>) {
        let web = router.group().add(middleware: SecurityHeadersMiddleware())
        registerStatic(on: web)
        registerSession(on: web)
        registerHome(on: web)
        registerOutgoing(on: web)
        registerIncoming(on: web)
        registerAdministration(on: web)
        registerPublicVerification(on: web)
        // Any other path a browser asks for gets a page, not JSON; API paths keep their
        // problem+json 404 and 405 from the edge middleware.
        web.get("**") { request, _ -> Response in
            if request.uri.path.hasPrefix("/api/") { throw HTTPError(.notFound) }
            return self.errorPage(status: .notFound, message: "Halaman yang Anda cari tidak ada.", session: try? await self.session(request))
        }
    }

    func registerStatic(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/static/{file}") { _, context -> Response in
            guard let name = context.parameters.get("file"), let file = self.staticFiles[name] else { throw HTTPError(.notFound) }
            var headers: HTTPFields = [.contentType: file.type]
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
        web.get("/favicon.ico") { _, _ -> Response in
            let file = self.staticFiles["favicon.svg"]!
            var headers: HTTPFields = [.contentType: file.type]
            headers[.cacheControl] = "public, max-age=86400"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
    }

    // MARK: Sessions and CSRF

    /// A signed-in person: their session token (the cookie), who they are, and the CSRF
    /// token their forms carry.
    struct Session: Sendable {
        var token: String
        var caller: IdentityService.Authenticated
        var csrf: String
        var unitName: String
    }

    /// The session of the request's cookie, or nil (no cookie, expired, revoked).
    func session(_ request: Request) async throws -> Session? {
        guard let token = request.cookies[Self.sessionCookie]?.value, token.count == 43 else { return nil }
        do {
            let caller = try await services.identity.authenticate(bearer: token)
            let unitName = (try? await services.organisation.unit(caller.user.unitID, actor: caller.actor).name) ?? ""
            return Session(token: token, caller: caller, csrf: Self.csrfToken(for: token), unitName: unitName)
        } catch let error as ServiceError where error.kind == .unauthorized {
            return nil
        }
    }

    /// The synchronizer token of a session: a hash of its secret cookie, so it cannot be
    /// guessed without the cookie, which scripts on other origins cannot read.
    static func csrfToken(for secret: String) -> String {
        (try? Digest.hex(Digest.sha256(Array("esurat-csrf\u{0}\(secret)".utf8)))) ?? ""
    }

    /// Refuses a form posted from another site: its Origin (or Sec-Fetch-Site) must be this
    /// one, and its `_csrf` field the session's token.
    func checkForgery(_ request: Request, form: FormData, expected: String) throws {
        let host = request.head.authority ?? ""
        if let origin = request.headers[.origin] {
            let authority = origin.components(separatedBy: "://").last ?? ""
            guard origin != "null", authority == host else { throw Forgery() }
        } else if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin" {
            throw Forgery()
        }
        guard let sent = form["_csrf"], Self.constantTimeEqual(sent, expected), !expected.isEmpty else { throw Forgery() }
    }

    struct Forgery: Error {}

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    func sessionCookie(_ value: String, maxAge: Int) -> String {
        "\(Self.sessionCookie)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (configuration.secureCookies ? "; Secure" : "")
    }

    /// The login form's own CSRF secret, for the hour a login page stays open; spent (expired)
    /// once the login succeeds.
    func preSessionCookie(_ value: String, maxAge: Int = 3600) -> String {
        "\(Self.preSessionCookie)=\(value); Path=/masuk; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (configuration.secureCookies ? "; Secure" : "")
    }

    // MARK: Handlers

    /// A page for a signed-in person: without a session it sends them to Masuk (and back
    /// here afterwards); a POST must pass the forgery checks; errors become pages.
    func page(
        _ handler: @escaping @Sendable (Request, EsuratRequestContext, Session, FormData) async throws -> Response
    ) -> @Sendable (Request, EsuratRequestContext) async throws -> Response {
        { request, context in
            guard let session = try await self.session(request) else {
                if request.method == .get {
                    let back = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
                    return Self.redirect("/masuk?kembali=\(back.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
                }
                return self.errorPage(status: .unauthorized, message: "Sesi Anda telah berakhir. Silakan masuk kembali.", session: nil)
            }
            var form = FormData()
            if request.method == .post {
                do {
                    form = try await self.readForm(request)
                } catch let tooLarge as TooLarge {
                    return self.errorPage(status: .contentTooLarge, message: tooLarge.message, session: session)
                } catch {
                    return self.errorPage(status: .badRequest, message: "Isian formulir tidak dapat dibaca. Muat ulang halaman lalu kirim kembali.", session: session)
                }
                do {
                    try self.checkForgery(request, form: form, expected: session.csrf)
                } catch {
                    context.logger.notice("web form refused: missing or wrong CSRF token or foreign origin", metadata: ["path": "\(request.uri.path)"])
                    return self.errorPage(status: .forbidden, message: "Formulir ditolak karena tidak berasal dari halaman esurat ini. Muat ulang halaman lalu coba lagi.", session: session)
                }
            }
            do {
                return try await handler(request, context, session, form)
            } catch let error as ServiceError {
                let status: HTTPResponse.Status = switch error.kind {
                case .notFound: .notFound
                case .forbidden: .forbidden
                case .conflict: .conflict
                case .unauthorized: .unauthorized
                case .rateLimited: .tooManyRequests
                case .payloadTooLarge: .contentTooLarge
                default: .unprocessableContent
                }
                return self.errorPage(status: status, message: Indonesian.summary(error), session: session)
            } catch let error as HTTPError where error.status == .notFound {
                return self.errorPage(status: .notFound, message: "Halaman yang Anda cari tidak ada.", session: session)
            } catch {
                context.logger.error("web page failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: type(of: error)))"])
                return self.errorPage(status: .internalServerError, message: "Terjadi gangguan pada server. Silakan coba lagi; bila berulang, hubungi admin.", session: session)
            }
        }
    }

    struct TooLarge: Error { var message: String }

    /// The form of a POST, its size bounded before it is read whole.
    func readForm(_ request: Request) async throws -> FormData {
        let type = request.headers[.contentType] ?? ""
        if type.lowercased().hasPrefix("multipart/form-data") {
            let limit = LetterService.maxAttachmentBytes + 64 * 1024
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                throw TooLarge(message: "Berkas terlalu besar. Ukuran lampiran paling besar \(LetterService.maxAttachmentBytes >> 20) MB.")
            }
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: limit) } catch {
                throw TooLarge(message: "Berkas terlalu besar. Ukuran lampiran paling besar \(LetterService.maxAttachmentBytes >> 20) MB.")
            }
            return try FormData.multipart(Array(buffer.readableBytesView), contentType: type)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxFormBytes {
            throw TooLarge(message: "Isian terlalu panjang.")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: Self.maxFormBytes) } catch { throw TooLarge(message: "Isian terlalu panjang.") }
        return FormData.urlEncoded(Array(buffer.readableBytesView))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    var requestInfo: RequestInfo { HTTPServer.currentRequestInfo }

    // MARK: Rendering

    /// Renders `template` inside the layout, with the signed-in person's menu.
    func render(_ template: String, title: String, session: Session?, status: HTTPResponse.Status = .ok, _ data: [String: Any] = [:],
                cookies: [String] = []) -> Response {
        var context = data
        context["pageTitle"] = title
        if let session {
            let roles = session.caller.actor.roles
            context["me"] = [
                "name": session.caller.user.fullName, "unit": session.unitName,
                "acting": session.caller.actor.positions.compactMap { position -> String? in
                    Indonesian.capacity(position.capacity?.rawValue).map { "bertindak sebagai \($0)" }
                }.first as Any,
                "csrf": session.csrf,
                "canDraft": roles.contains(.clerk) || roles.contains(.official),
                "isOfficial": roles.contains(.official),
                "hasPosition": !session.caller.actor.positions.isEmpty,
                "isAuditor": roles.contains(.auditor) || roles.contains(.admin),
                "isAdmin": roles.contains(.admin),
            ] as [String: Any]
            context["csrf"] = session.csrf
        }
        let html = library.render(Self.normalized(context), withTemplate: template) ?? "<!doctype html><html lang=\"id\"><title>esurat</title><p>Halaman tidak dapat ditampilkan.</p></html>"
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = "no-store"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The view data with every absent optional as `false`: Mustache treats a present key as
    /// found (so `Optional.none` would open a section) and climbs to outer scopes for a missing
    /// one (so a row without a note would show the page's note).
    static func normalized(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return false }
            return normalized(wrapped)
        }
        if let dictionary = value as? [String: Any] { return dictionary.mapValues(normalized) }
        if let array = value as? [[String: Any]] { return array.map { $0.mapValues(normalized) } }
        if let array = value as? [Any] { return array.map(normalized) }
        return value
    }

    func errorPage(status: HTTPResponse.Status, message: String, session: Session?) -> Response {
        render("error", title: status == .notFound ? "Tidak ditemukan" : "Tidak dapat diproses", session: session, status: status, ["message": message])
    }

    /// A date for the view data: its text, or `false` for no date so that a template's
    /// section around it stays closed.
    func date(_ date: Date?) -> Any { date.map { Indonesian.date($0, in: configuration.timeZone) } ?? false }
    func dateTime(_ date: Date?) -> Any { date.map { Indonesian.dateTime($0, in: configuration.timeZone) } ?? false }

    /// Field errors of a service, in Indonesian, by the form field they belong to.
    static func fieldErrors(_ error: ServiceError, mapping: [String: String] = [:]) -> [String: String] {
        var out: [String: String] = [:]
        for field in error.fields {
            var name = mapping[field.field] ?? field.field
            if let bracket = name.firstIndex(of: "[") { name = mapping[String(name[..<bracket])] ?? String(name[..<bracket]) }
            if out[name] == nil { out[name] = Indonesian.fieldMessage(field.message) }
        }
        return out
    }
}

/// Security headers on every page and file of the UI: a CSP that allows only esurat's own
/// script and style files (no inline script, no inline style, no framing), no MIME sniffing
/// and no referrer beyond this origin.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard !request.uri.path.hasPrefix("/api/") else { return response }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = Self.policy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        return response
    }
}
