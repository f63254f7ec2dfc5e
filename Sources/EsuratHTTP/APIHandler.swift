/// The implementation of the generated `APIProtocol`: each operation forwards to the handler
/// group of its feature.
struct APIHandler: APIProtocol {
    let ops: OpsHandlers

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        try await ops.getHealth(input)
    }
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        try await ops.getReadiness(input)
    }
    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        try await ops.getMetrics(input)
    }
    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        try await ops.getOpenAPIDocument(input)
    }
}
