import EsuratPostgres
import Foundation
import OpenAPIRuntime
import Prometheus

/// Health, readiness, metrics and the OpenAPI document.
struct OpsHandlers: Sendable {
    let pool: PostgresPool
    let metrics: PrometheusCollectorRegistry
    let openAPIDocument: Data

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let started = ContinuousClock.now
        do {
            let one: Int = try await pool.query("SELECT 1 AS ready").single().decode("ready")
            guard one == 1 else { throw PostgresError(code: .client, message: "unexpected answer") }
        } catch {
            let problem = Components.Schemas.Problem(
                _type: "https://esurat.go.id/problems/database-unavailable", title: "Database unavailable", status: 503,
                detail: "The database did not answer a round trip.")
            return .serviceUnavailable(.init(body: .applicationProblemJson(problem)))
        }
        let elapsed = ContinuousClock.now - started
        return .ok(.init(body: .json(.init(status: "ok", database: "\(elapsed)"))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(metrics.emitToBuffer()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(openAPIDocument))))
    }
}
