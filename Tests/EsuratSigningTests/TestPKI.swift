import EsuratSigning
import Foundation
import Testing

/// A small PKI for tests: root → issuing CA → signer and TSA certificates.
struct TestPKI {
    let rootKey: PrivateKey
    let root: Certificate
    let issuingKey: PrivateKey
    let issuing: Certificate
    let tsa: TimestampAuthority

    init(algorithm: PrivateKey.Algorithm = .ecP256) throws {
        rootKey = try PrivateKey.generate(algorithm)
        root = try CertificateIssuer.issue(
            subject: .init(commonName: "esurat Test Root CA", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: rootKey,
            profile: .rootCA, issuer: nil, notAfter: Date().addingTimeInterval(20 * 365 * 86_400))
        issuingKey = try PrivateKey.generate(algorithm)
        issuing = try CertificateIssuer.issue(
            subject: .init(commonName: "esurat Test Issuing CA", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: issuingKey,
            profile: .issuingCA, issuer: (root, rootKey), notAfter: Date().addingTimeInterval(10 * 365 * 86_400))
        let tsaKey = try PrivateKey.generate(.ecP256)
        let tsaCert = try CertificateIssuer.issue(
            subject: .init(commonName: "esurat Test TSA", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: tsaKey,
            profile: .timestamping, issuer: (issuing, issuingKey), notAfter: Date().addingTimeInterval(5 * 365 * 86_400))
        tsa = TimestampAuthority(certificate: tsaCert, key: tsaKey, chain: [issuing])
    }

    func signer(
        name: String = "Ahmad Fauzi", nip: String = "198001012005011001", algorithm: PrivateKey.Algorithm = .ecP256,
        notBefore: Date = Date().addingTimeInterval(-300), notAfter: Date = Date().addingTimeInterval(2 * 365 * 86_400)
    ) throws -> (key: PrivateKey, certificate: Certificate) {
        let key = try PrivateKey.generate(algorithm)
        let certificate = try CertificateIssuer.issue(
            subject: .init(commonName: name, serialNumber: nip, organizationalUnit: "Dinas Komunikasi dan Informatika", organization: "Pemerintah Kabupaten Uji"),
            publicKeyOf: key, profile: .signing, issuer: (issuing, issuingKey), notBefore: notBefore, notAfter: notAfter,
            crlDistributionPoint: "https://esurat.example.go.id/api/v1/pki/crl.der")
        return (key, certificate)
    }

    func crl(revoking revoked: [CertificateIssuer.Revocation] = [], number: Int = 1) throws -> RevocationList {
        try CertificateIssuer.crl(issuer: issuing, key: issuingKey, revoked: revoked, number: number)
    }

    func rootCRL() throws -> RevocationList {
        try CertificateIssuer.crl(issuer: root, key: rootKey, revoked: [], number: 1)
    }

    func trust(revoking revoked: [CertificateIssuer.Revocation] = []) throws -> TrustStore {
        TrustStore(anchors: [root], intermediates: [issuing], crls: [try crl(revoking: revoked), try rootCRL()])
    }

    var chainPEM: String {
        get throws { try pemBundle([issuing, root]) }
    }
}

/// Runs the stock `openssl` command.
func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A scratch directory removed at the end of the test.
final class Scratch {
    let path = NSTemporaryDirectory() + "esurat-signing-\(UUID().uuidString)"
    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }
}
