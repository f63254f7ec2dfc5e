/// Where a request came from, for the audit trail and rate limits.
public struct RequestInfo: Sendable, Hashable {
    public var clientAddress: String
    public var requestID: String?

    public init(clientAddress: String, requestID: String? = nil) {
        self.clientAddress = clientAddress
        self.requestID = requestID
    }

    /// The command line and background work.
    public static let local = RequestInfo(clientAddress: "local")
}
