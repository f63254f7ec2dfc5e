public import EsuratPostgres
public import EsuratServices
public import Foundation
import HTTPTypes
import NIOCore
public import Hummingbird
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import Prometheus

/// Settings of the HTTP API.
public struct HTTPServerConfiguration: Sendable {
    /// The address to listen on.
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one.
    public var port = 8080
    /// The largest JSON request body accepted; larger ones are refused with 413 before they
    /// are read.
    public var maxJSONBodyBytes = 1 << 20
    /// Behind a reverse proxy (nginx), take the client's address from the last entry of
    /// `X-Forwarded-For`, which the proxy appends; otherwise every client would share the
    /// proxy's address in rate limits and the audit trail. Only enable it when the proxy is
    /// the only way in.
    public var trustForwardedFor = false

    public init() {}
}

/// What the HTTP API serves from.
public struct HTTPServices: Sendable {
    public var pool: PostgresPool
    public var metrics: PrometheusCollectorRegistry
    public var identity: IdentityService
    public var organisation: OrganisationService
    public var pki: PKIService
    public var letters: LetterService
    public var blocking: BlockingWork
    /// The letters' PDFs, their public verification and the print template.
    public var pdfs: LetterPDFService
    /// Limits what anyone may ask without logging in (the public verification), per client.
    public var publicLimiter: ClientRateLimiter

    public init(
        pool: PostgresPool, metrics: PrometheusCollectorRegistry, identity: IdentityService, organisation: OrganisationService, pki: PKIService,
        letters: LetterService, blocking: BlockingWork
    ) {
        self.pool = pool
        self.metrics = metrics
        self.identity = identity
        self.organisation = organisation
        self.pki = pki
        self.letters = letters
        self.blocking = blocking
        pdfs = LetterPDFService(pool: pool, pki: pki, blocking: blocking, letters: letters)
        publicLimiter = ClientRateLimiter(perMinute: 30, burst: 20)
    }
}

/// Builds the Hummingbird application of esurat.
public enum HTTPServer {
    public typealias Context = EsuratRequestContext

    /// The router with every route and middleware, for the application and for in-process
    /// tests.
    public static func makeRouter(
        configuration: HTTPServerConfiguration,
        services: HTTPServices,
        logger: Logger
    ) throws -> Router<Context> {
        try makeRouter(configuration: configuration, services: services, logger: logger) { _, _ in }
    }

    /// The router, with `registerMore` adding routes the route table knows (tests add probes).
    static func makeRouter(
        configuration: HTTPServerConfiguration,
        services: HTTPServices,
        logger: Logger,
        registerMore: (Router<Context>, RouteTable) throws -> Void
    ) throws -> Router<Context> {
        let router = Router(context: Context.self)
        let routes = RouteTable()
        var accessLogger = logger
        accessLogger[metadataKey: "component"] = "access"
        router.add(middleware: EdgeMiddleware(routes: routes, accessLogger: accessLogger, trustForwardedFor: configuration.trustForwardedFor))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestGuardMiddleware(
            routes: routes, maxJSONBytes: configuration.maxJSONBodyBytes,
            rawBodyRoutes: [
                .init(method: .post, pathTemplate: "/api/v1/letters/{letterId}/attachments", maxBytes: LetterService.maxAttachmentBytes),
                .init(method: .post, pathTemplate: "/api/v1/public/verify", maxBytes: LetterPDFService.maxUpload),
            ]))
        router.add(middleware: AuthMiddleware(
            routes: routes, identity: services.identity,
            publicPaths: ["/api/v1/auth/login", "/api/v1/pki/ca.pem", "/api/v1/pki/crl.der", "/api/v1/pki/root-crl.der"]))
        router.add(middleware: IdempotencyMiddleware(store: IdempotencyStore(pool: services.pool, secret: try services.pki.derivedSecret("idempotency"))))
        let archive = ArchiveService(pool: services.pool, pki: services.pki, blocking: services.blocking)
        let handler = APIHandler(
            ops: OpsHandlers(pool: services.pool, metrics: services.metrics, openAPIDocument: try openAPIDocument()),
            identity: IdentityHandlers(identity: services.identity),
            organisation: OrganisationHandlers(organisation: services.organisation),
            pki: PKIHandlers(pki: services.pki, identity: services.identity),
            letters: LetterHandlers(letters: services.letters),
            workflows: WorkflowHandlers(workflows: WorkflowService(pool: services.pool)),
            classifications: ClassificationHandlers(classifications: ClassificationService(pool: services.pool)),
            deliveries: DeliveryHandlers(pool: services.pool),
            inbox: InboxHandlers(
                inbox: InboxService(pool: services.pool, pki: services.pki, blocking: services.blocking), dispositions: DispositionService(pool: services.pool)),
            dispositions: DispositionHandlers(dispositions: DispositionService(pool: services.pool)),
            audit: AuditHandlers(
                chain: AuditChain(pool: services.pool, pki: services.pki, blocking: services.blocking), archive: archive,
                retention: RetentionService(pool: services.pool)))
        // The signed document goes out byte for byte as stored: the generated JSON body would
        // re-encode it, so this one operation of the spec is served by a plain handler.
        let letters = services.letters
        var rawRoutes: [String: @Sendable (Request, Context) async throws -> Response] = PDFRoutes(services: services).routes
        rawRoutes.merge([
            "GET /api/v1/letters/{letterId}/document": { request, context in
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                let (document, _) = try await letters.signedDocument(id, caller: try RequestScope.caller())
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
            },
            "POST /api/v1/letters/{letterId}/attachments": { request, context in
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                let record = try await letters.addAttachment(
                    to: id, filename: request.uri.queryParameters.get("filename"), mediaType: request.headers[.contentType],
                    body: request.body.map { Array($0.readableBytesView) }, caller: try RequestScope.caller(), request: RequestScope.info)
                let json = try JSONEncoder().encode(LetterHandlers.attachment(record))
                return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
            },
            "GET /api/v1/letters/{letterId}/evidence/{evidenceId}": { request, context in
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                let evidenceID = try Wire.uuid(context.parameters.get("evidenceId") ?? "", field: "evidenceId")
                let (record, signature) = try await letters.evidence(evidenceID, of: id, caller: try RequestScope.caller())
                let wantsSignature = request.uri.queryParameters.get("part") == "signature"
                return Response(
                    status: .ok, headers: [.contentType: wantsSignature ? "application/pkcs7-signature" : "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: wantsSignature ? signature : record)))
            },
            // The tar streams chunk by chunk from the database: memory stays flat whatever its size.
            "GET /api/v1/archive/exports/{exportId}/download": { request, context in
                let id = try Wire.uuid(context.parameters.get("exportId") ?? "", field: "exportId")
                let actor = try RequestScope.caller().actor
                let (job, chunks) = try await archive.download(id, actor: actor, request: RequestScope.info)
                var headers: HTTPFields = [.contentType: "application/x-tar"]
                headers[.contentDisposition] = "attachment; filename=\"esurat-arsip-\(job.from)-\(job.to).tar\""
                if let sha256 = job.sha256 { headers[HTTPField.Name("X-Content-SHA256")!] = sha256 }
                return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: job.bytes) { writer in
                    for n in 0..<chunks {
                        try await writer.write(ByteBuffer(bytes: try await archive.chunk(id, n, actor: actor)))
                    }
                    try await writer.finish(nil)
                })
            },
            "GET /api/v1/letters/{letterId}/attachments/{attachmentId}": { request, context in
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                let attachmentID = try Wire.uuid(context.parameters.get("attachmentId") ?? "", field: "attachmentId")
                let (record, content) = try await letters.attachment(attachmentID, of: id, caller: try RequestScope.caller())
                var headers: HTTPFields = [.contentType: record.mediaType]
                let safeName = record.filename.filter { $0.isASCII && $0 != "\"" && !$0.isNewline }
                headers[.contentDisposition] = "attachment; filename=\"\(safeName)\"; filename*=UTF-8''\(record.filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: content)))
            },
        ]) { first, _ in first }
        try handler.registerHandlers(
            on: RecordingTransport(router: router, routes: routes, rawRoutes: rawRoutes), configuration: .init(dateTranscoder: DateTimeTranscoder()))
        try registerMore(router, routes)
        return router
    }

    /// The application: serves the router until graceful shutdown (SIGTERM through the
    /// service group), finishing requests in flight.
    public static func makeApplication(
        configuration: HTTPServerConfiguration,
        services: HTTPServices,
        logger: Logger
    ) throws -> Application<RouterResponder<Context>> {
        try makeApplication(router: try makeRouter(configuration: configuration, services: services, logger: logger), configuration: configuration, logger: logger)
    }

    /// The application over a router that more routes (the web UI) were added to.
    public static func makeApplication(
        router: Router<Context>,
        configuration: HTTPServerConfiguration,
        logger: Logger
    ) throws -> Application<RouterResponder<Context>> {
        Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "esurat"),
            logger: logger)
    }

    /// The client's address and request id the edge middleware recorded for the request in
    /// flight, for routes outside the OpenAPI document (the web UI) to audit with.
    public static var currentRequestInfo: RequestInfo { RequestScope.info }

    /// The OpenAPI document this server was generated from.
    public static func openAPIDocument() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw Problem(status: .internalServerError, detail: "openapi.yaml is missing from the installation")
        }
        return try Data(contentsOf: url)
    }
}

/// Registers the generated operations on the router and remembers their routes for 405s
/// and the request guard.
private struct RecordingTransport: ServerTransport {
    let router: Router<HTTPServer.Context>
    let routes: RouteTable
    /// Operations served by a plain handler instead of the generated one, by "METHOD path".
    let rawRoutes: [String: @Sendable (Request, HTTPServer.Context) async throws -> Response]

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        routes.add(method: method, path: path)
        if let raw = rawRoutes["\(method.rawValue) \(path)"] {
            router.on(RouterPath(path), method: method, use: raw)
        } else {
            router.register(handler, method: method, path: path)
        }
    }
}
