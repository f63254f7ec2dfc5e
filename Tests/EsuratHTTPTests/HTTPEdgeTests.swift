@testable import EsuratHTTP
import EsuratPostgres
import EsuratServices
import EsuratSigning
import EsuratTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

/// The HTTP edge: health, readiness, metrics, the OpenAPI document, and problem+json for
/// everything a client can get wrong.
@Suite struct HTTPEdgeTests {
    struct Registration: Decodable {
        var subject: String
        var recipients: [Recipient]
        struct Recipient: Decodable { var unitId: String; var role: String }
    }

    struct Unexpected: Error { var secret = "connection string postgresql://esurat:hunter2@db" }

    /// The real router plus two probe routes registered like the generated operations: one
    /// decoding a JSON body, one failing with an unexpected error.
    static func app(_ test: TestApp, maxJSONBytes: Int = 1024) throws -> some ApplicationProtocol {
        try test.application(maxJSONBytes: maxJSONBytes) { router, routes in
            routes.add(method: .post, path: "/probe/json")
            router.post("/probe/json") { request, context -> String in
                let body = try await request.body.collect(upTo: .max)
                let registration = try JSONDecoder().decode(Registration.self, from: Data(body.readableBytesView))
                return "\(registration.subject) → \(registration.recipients.count)"
            }
            routes.add(method: .get, path: "/probe/crash")
            router.get("/probe/crash") { _, _ -> String in throw Unexpected() }
        }
    }

    static func problem(_ response: TestResponse) throws -> Problem {
        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
        return try JSONDecoder().decode(Problem.self, from: Data(response.body.readableBytesView))
    }

    @Test func healthAndReadinessAnswer200() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
                #expect(response.headers[.requestID]?.isEmpty == false)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func readinessIs503ProblemWhenTheDatabaseIsDown() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        var configuration = PostgresPoolConfiguration(connectionString: "postgresql://nobody@127.0.0.1:\(try EmbeddedPostgres.freeLoopbackPort())/none")
        configuration.connectTimeout = .seconds(1)
        let deadPool = PostgresPool(configuration: configuration)
        defer { deadPool.close() }
        var services = test.services
        services.pool = deadPool
        services.identity = try IdentityService(pool: deadPool, hasher: TestApp.hasher, blocking: BlockingWork())
        let router = try HTTPServer.makeRouter(configuration: .init(), services: services, logger: Logger(label: "test"))
        try await Application(router: router).test(.router) { client in
            // A request that needs the database: 503 with Retry-After, not 500 (issue 16).
            for (path, method, body, token) in [
                ("/api/v1/auth/login", HTTPRequest.Method.post, #"{"username": "admin", "password": "x"}"#, nil),
                ("/api/v1/units", .get, "", String(repeating: "A", count: 43)),
            ] as [(String, HTTPRequest.Method, String, String?)] {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let token { headers[.authorization] = "Bearer \(token)" }
                try await client.execute(uri: path, method: method, headers: headers, body: body.isEmpty ? nil : ByteBuffer(string: body)) { response in
                    #expect(response.status == .serviceUnavailable, "\(path)")
                    #expect(response.headers[.retryAfter] == "5", "\(path)")
                    let problem = try Self.problem(response)
                    #expect(problem.detail?.contains("nobody") == false)
                }
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let problem = try Self.problem(response)
                #expect(problem.status == 503)
                #expect(problem.detail?.contains("nobody") == false)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func metricsAndTheOpenAPIDocumentAreServed() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let source = URL(fileURLWithPath: #filePath)
                    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("Sources/EsuratHTTP/openapi.yaml")
                let expected = try String(contentsOf: source, encoding: .utf8)
                #expect(String(buffer: response.body) == expected)
            }
        }
    }

    /// Issue 16: the router skips empty segments, so "/metrics/" slipped past nginx's
    /// `location = /metrics` and "//api/…" past the auth middleware's prefix check. Only the
    /// one spelling of a path is served now; every other is a 404 problem.
    @Test func onlyTheCanonicalSpellingOfAPathIsServed() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.live) { client in
            for path in ["/metrics/", "//metrics", "/./metrics", "/%2e/metrics", "//api/v1/letters", "/api//v1/letters", "/api/v1/letters/",
                         "/api/v1/../v1/letters", "/api/v1/%2E%2E/v1/letters", "/api/v1/units/"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(path)")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/letters", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(CanonicalPath.isCanonical("/") && CanonicalPath.isCanonical("/naskah/1") && !CanonicalPath.isCanonical("/naskah/"))
    }

    @Test func unknownPathIs404AndWrongMethodIs405() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/api/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                let problem = try Self.problem(response)
                #expect(problem.status == 404)
                #expect(problem.requestId == response.headers[.requestID])
                #expect(problem.instance == "/api/v1/nothing-here")
            }
            try await client.execute(uri: "/api/v1/nothing-here", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x")) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/healthz", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
                let problem = try Self.problem(response)
#expect(problem.status == 405)
            }
        }
    }

    @Test func malformedJSONIs400() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"subject\": ")) { response in
                #expect(response.status == .badRequest)
                let problem = try Self.problem(response)
                #expect(problem.title == "Malformed JSON")
                #expect(problem.errors?.first?.field == "body")
            }
        }
    }

    @Test func missingAndMistypedFieldsAreNamed() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"recipients": []}"#)) { response in
                #expect(response.status == .badRequest)
                let problem = try Self.problem(response)
#expect(problem.errors == [.init(field: "subject", message: "is required")])
            }
            try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"subject": "Undangan", "recipients": [{"unitId": 7, "role": "to"}]}"#)) { response in
                #expect(response.status == .badRequest)
                let problem = try Self.problem(response)
#expect(problem.errors?.first?.field == "recipients[0].unitId")
            }
            try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"subject": "Undangan Rapat", "recipients": []}"#)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func wrongContentTypeIs415() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test).test(.router) { client in
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
                try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == .unsupportedMediaType)
                    let problem = try Self.problem(response)
#expect(problem.errors?.first?.field == "Content-Type")
                }
            }
            try await client.execute(uri: "/probe/json", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test func bodyOverTheLimitIs413BeforeItIsRead() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        try await Self.app(test, maxJSONBytes: 1024).test(.router) { client in
            let big = "{\"subject\": \"" + String(repeating: "x", count: 10 * 1024 * 1024) + "\", \"recipients\": []}"
            try await client.execute(uri: "/probe/json", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                let problem = try Self.problem(response)
#expect(problem.status == 413)
            }
        }
    }

    @Test func aStreamedBodyIsCutOffAtTheLimit() async throws {
        let chunks = (0..<10).map { _ in ByteBuffer(repeating: UInt8(ascii: "x"), count: 400) }
        let body = LimitedBody(base: RequestBody(asyncSequence: chunks.async), limit: 1000)
        var received = 0
        await #expect(throws: BodyTooLarge.self) {
            for try await chunk in body { received += chunk.readableBytes }
        }
        #expect(received == 800)
    }

    @Test func unexpectedErrorsAre500WithoutDetails() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let logs = test.logs
        try await Self.app(test).test(.router) { client in
            try await client.execute(uri: "/probe/crash", method: .get) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("hunter2"))
                #expect(!text.contains("Unexpected"))
                let problem = try Self.problem(response)
#expect(problem.requestId == response.headers[.requestID])
            }
        }
        // The access log is one JSON object per line.
        let lines = logs.lines
        #expect(lines.contains { $0.contains("\"path\":\"/probe/crash\"") && $0.contains("\"status\":\"500\"") })
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
    }
}

extension Array where Element: Sendable {
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

import OpenAPIRuntime

@Suite struct ErrorLogTests {
    struct Boom: Error {}

    @Test func aServerErrorIsLoggedWithoutHeadersOrInput() {
        var request = HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/api/v1/auth/login")
        request.headerFields[.authorization] = "Bearer SECRET-TOKEN-VALUE"
        let error = ServerError(
            operationID: "login", request: request, requestBody: nil, requestMetadata: .init(),
            operationInput: "password: SECRET-PASSWORD", causeDescription: "User handler threw an error.", underlyingError: Boom())
        let text = "\(ProblemMapping.logMetadata(for: error))"
        #expect(!text.contains("SECRET"))
        #expect(text.contains("login"))
        #expect(text.contains("Boom"))
    }
}
