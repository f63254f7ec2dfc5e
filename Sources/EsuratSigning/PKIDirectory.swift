public import Foundation

/// An installation's internal CA kept in a directory: root and issuing CA, the TSA, the
/// revocation list. Private keys are encrypted PKCS#8 files (mode 0600) unlocked with the
/// PKI passphrase only for the operation that needs them.
///
/// Layout: `root.pem`, `root.key.pem`, `issuing.pem`, `issuing.key.pem`, `tsa.pem`,
/// `tsa.key.pem`, `chain.pem` (issuing + root, for `openssl cms -verify -CAfile`),
/// `revoked.json`, `crl.der`, `root-crl.der`.
public struct PKIDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    struct RevokedEntry: Codable {
        var serial: String
        var date: Date
        var reason: Int
    }

    struct RevocationState: Codable {
        var crlNumber: Int
        var revoked: [RevokedEntry]
    }

    func file(_ name: String) -> String { path + "/" + name }

    public var exists: Bool { FileManager.default.fileExists(atPath: file("root.pem")) }

    /// Makes the root CA (20 years), the issuing CA (10 years), the TSA (5 years) and empty
    /// CRLs. Refuses to overwrite an existing PKI.
    public func initialise(organization: String, passphrase: String, algorithm: PrivateKey.Algorithm = .ecP256) throws {
        guard !exists else { throw Failure(description: "\(path) already holds a PKI; refusing to overwrite it") }
        guard passphrase.count >= 12 else { throw Failure(description: "the PKI passphrase must be at least 12 characters") }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let year: TimeInterval = 365 * 86_400
        let rootKey = try PrivateKey.generate(algorithm)
        let root = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Root CA", organization: organization), publicKeyOf: rootKey,
            profile: .rootCA, issuer: nil, notAfter: Date().addingTimeInterval(20 * year))
        let issuingKey = try PrivateKey.generate(algorithm)
        let issuing = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Issuing CA", organization: organization), publicKeyOf: issuingKey,
            profile: .issuingCA, issuer: (root, rootKey), notAfter: Date().addingTimeInterval(10 * year))
        let tsaKey = try PrivateKey.generate(.ecP256)
        let tsa = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Time-Stamping Authority", organization: organization), publicKeyOf: tsaKey,
            profile: .timestamping, issuer: (issuing, issuingKey), notAfter: Date().addingTimeInterval(5 * year))
        try write("root.pem", try root.pem)
        try write("root.key.pem", try rootKey.encryptedPEM(passphrase: passphrase), secret: true)
        try write("issuing.pem", try issuing.pem)
        try write("issuing.key.pem", try issuingKey.encryptedPEM(passphrase: passphrase), secret: true)
        try write("tsa.pem", try tsa.pem)
        try write("tsa.key.pem", try tsaKey.encryptedPEM(passphrase: passphrase), secret: true)
        try write("chain.pem", try pemBundle([issuing, root]))
        try saveRevocations(RevocationState(crlNumber: 0, revoked: []))
        try publishCRL(passphrase: passphrase)
        let rootCRL = try CertificateIssuer.crl(issuer: root, key: rootKey, revoked: [], number: 1, nextUpdate: Date().addingTimeInterval(year))
        try write("root-crl.der", try rootCRL.der)
    }

    public func root() throws -> Certificate { try Certificate(pem: read("root.pem")) }
    public func issuing() throws -> Certificate { try Certificate(pem: read("issuing.pem")) }
    public func chainPEM() throws -> String { try read("chain.pem") }

    /// The CRLs of the issuing CA and of the root.
    public func crls() throws -> [RevocationList] {
        try ["crl.der", "root-crl.der"].map { try RevocationList(der: Array(try Data(contentsOf: URL(fileURLWithPath: file($0))))) }
    }

    /// What a verifier of this installation's signatures trusts.
    public func trustStore() throws -> TrustStore {
        TrustStore(anchors: [try root()], intermediates: [try issuing()], crls: try crls())
    }

    /// The TSA, its key unlocked with the passphrase.
    public func timestampAuthority(passphrase: String) throws -> TimestampAuthority {
        TimestampAuthority(
            certificate: try Certificate(pem: read("tsa.pem")),
            key: try PrivateKey.unlock(pem: read("tsa.key.pem"), passphrase: passphrase),
            chain: [try issuing()])
    }

    /// Issues a signing certificate for `key` with the issuing CA (2 years by default).
    public func issueSigningCertificate(subject: DistinguishedName, key: PrivateKey, passphrase: String, validFor: TimeInterval = 2 * 365 * 86_400) throws -> Certificate {
        let issuingKey = try PrivateKey.unlock(pem: read("issuing.key.pem"), passphrase: passphrase)
        return try CertificateIssuer.issue(
            subject: subject, publicKeyOf: key, profile: .signing, issuer: (try issuing(), issuingKey),
            notAfter: Date().addingTimeInterval(validFor))
    }

    /// Records the revocation and publishes a new CRL.
    public func revoke(serialHex: String, reason: Int, passphrase: String, at date: Date = Date()) throws {
        let serial = serialHex.uppercased()
        guard !serial.isEmpty, serial.allSatisfy(\.isHexDigit) else { throw Failure(description: "\(serialHex) is not a hexadecimal serial number") }
        var state = try revocations()
        guard !state.revoked.contains(where: { $0.serial == serial }) else { throw Failure(description: "certificate \(serial) is already revoked") }
        state.revoked.append(.init(serial: serial, date: date, reason: reason))
        try saveRevocations(state)
        try publishCRL(passphrase: passphrase)
    }

    /// Signs and writes a new CRL of the issuing CA (valid 7 days).
    @discardableResult
    public func publishCRL(passphrase: String) throws -> RevocationList {
        var state = try revocations()
        state.crlNumber += 1
        let issuingKey = try PrivateKey.unlock(pem: read("issuing.key.pem"), passphrase: passphrase)
        let crl = try CertificateIssuer.crl(
            issuer: try issuing(), key: issuingKey,
            revoked: state.revoked.map { .init(serialHex: $0.serial, date: $0.date, reason: $0.reason) }, number: state.crlNumber)
        try write("crl.der", try crl.der)
        try saveRevocations(state)
        return crl
    }

    func revocations() throws -> RevocationState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RevocationState.self, from: Data(contentsOf: URL(fileURLWithPath: file("revoked.json"))))
    }

    func saveRevocations(_ state: RevocationState) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write("revoked.json", String(decoding: try encoder.encode(state), as: UTF8.self))
    }

    func read(_ name: String) throws -> String {
        do {
            return try String(contentsOfFile: file(name), encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read \(file(name)); run `esurat pki init` first")
        }
    }

    func write(_ name: String, _ text: String, secret: Bool = false) throws {
        let target = file(name)
        let temporary = target + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: secret ? 0o600 : 0o644]) else {
            throw Failure(description: "cannot write \(target)")
        }
        guard rename(temporary, target) == 0 else { throw Failure(description: "cannot replace \(target)") }
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)), options: .atomic)
    }
}
