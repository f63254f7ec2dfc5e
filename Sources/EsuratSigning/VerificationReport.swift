public import Foundation

/// The outcome of validating a signature, shaped after ETSI TS 119 102-1/-2 as the EU DSS
/// reports it: a main indication, a sub-indication saying why when it is not TOTAL_PASSED,
/// and the facts the decision rests on.
public struct VerificationReport: Codable, Sendable, Equatable {
    public enum Indication: String, Codable, Sendable {
        case totalPassed = "TOTAL_PASSED"
        case totalFailed = "TOTAL_FAILED"
        case indeterminate = "INDETERMINATE"
    }

    public enum SubIndication: String, Codable, Sendable {
        case formatFailure = "FORMAT_FAILURE"
        case hashFailure = "HASH_FAILURE"
        case sigCryptoFailure = "SIG_CRYPTO_FAILURE"
        case revoked = "REVOKED"
        case noSigningCertificateFound = "NO_SIGNING_CERTIFICATE_FOUND"
        case noCertificateChainFound = "NO_CERTIFICATE_CHAIN_FOUND"
        case outOfBoundsNoPOE = "OUT_OF_BOUNDS_NO_POE"
        case chainConstraintsFailure = "CHAIN_CONSTRAINTS_FAILURE"
        case tryLater = "TRY_LATER"
        case timestampFailure = "TIMESTAMP_FAILURE"
    }

    /// One check and its result.
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public struct Signer: Codable, Sendable, Equatable {
        public var subject: String
        public var commonName: String?
        /// The subject's serialNumber: the NIP.
        public var nip: String?
        public var certificateSerial: String
        public var notBefore: Date
        public var notAfter: Date
        /// The certificate's extendedKeyUsage purposes (dotted OIDs): what it was issued for.
        public var keyPurposes: [String]?
    }

    public struct Timestamp: Codable, Sendable, Equatable {
        public var time: Date
        public var tsa: String
        public var valid: Bool
    }

    public struct Revocation: Codable, Sendable, Equatable {
        /// good, revoked, revokedAfterValidationTime, unknown
        public var status: String
        public var revokedAt: Date?
        /// The moment revocation was judged at: the time-stamp's time when there is a valid
        /// one, otherwise the time of validation.
        public var judgedAt: Date
    }

    public var indication: Indication
    public var subIndication: SubIndication?
    public var signer: Signer?
    /// Subjects from the signer up to the trust anchor.
    public var chain: [String]
    /// The signing-time attribute: what the signer's machine claimed.
    public var claimedSigningTime: Date?
    public var timestamp: Timestamp?
    public var revocation: Revocation?
    public var checks: [Check]
    public var validatedAt: Date

    public var passed: Bool { indication == .totalPassed }

    /// The report as pretty, stable JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
