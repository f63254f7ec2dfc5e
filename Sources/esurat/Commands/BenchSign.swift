import ArgumentParser
import EsuratDomain
import EsuratPostgres
import EsuratSigning
import Foundation

/// CMS sign/s and verify/s beside `openssl speed`'s raw ECDSA P-256 rates, and RSS over a
/// long sign+verify loop (OpenSSL objects must all be freed).
struct BenchSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "CAdES sign/s and verify/s (chain and CRL check), with and without a time-stamp, beside openssl speed ecdsap256.")

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Double = 3

    @Option(name: .long, help: "Iterations of the sign+verify loop whose RSS is watched.")
    var loop: Int = 100_000

    func run() async throws {
        let pki = try BenchPKI()
        let (root, ca, caKey, rootKey, key, cert) = (pki.root, pki.ca, pki.caKey, pki.rootKey, pki.signerKey, pki.signer)
        // As the server signs: intermediates are not embedded, verifiers hold the chain.
        let tsa = TimestampAuthority(certificate: pki.tsaCertificate, key: pki.tsaKey, chain: [])
        let trust = TrustStore(
            anchors: [root], intermediates: [ca],
            crls: [try CertificateIssuer.crl(issuer: ca, key: caKey, revoked: [], number: 1), try CertificateIssuer.crl(issuer: root, key: rootKey, revoked: [], number: 1)])
        let verifier = SignatureVerifier(trust: trust)
        let document = Array(String(repeating: "{\"perihal\":\"Undangan Rapat Koordinasi\"}", count: 50).utf8)
        let bes = CMSSigner(certificate: cert, key: key, chain: [], timestampAuthority: nil)
        let cadesT = CMSSigner(certificate: cert, key: key, chain: [], timestampAuthority: tsa)
        let besSignature = try bes.sign(document)
        let tSignature = try cadesT.sign(document)
        guard verifier.verify(content: document, signature: tSignature).passed else { throw ValidationError("the benchmark's own signature does not verify") }

        let (rawSign, rawVerify) = try opensslSpeed()
        print("esurat bench sign: single thread, EC P-256, \(document.count)-byte document, \(seconds) s each")
        print(String(format: "openssl speed ecdsap256 (raw):     sign %8.0f/s   verify %8.0f/s", rawSign, rawVerify))
        let rows: [(String, () throws -> Void, Double)] = [
            ("CAdES-BES sign", { _ = try bes.sign(document) }, rawSign),
            ("CAdES-BES verify (chain+CRL)", { _ = verifier.verify(content: document, signature: besSignature) }, rawVerify),
            ("CAdES-T sign (with TSA)", { _ = try cadesT.sign(document) }, rawSign),
            ("CAdES-T verify (chain+CRL+TS)", { _ = verifier.verify(content: document, signature: tSignature) }, rawVerify),
        ]
        for (name, body, raw) in rows {
            let rate = try measure(body)
            print(name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%8.0f/s   %.2f× raw", rate, rate / raw))
        }

        let before = residentMegabytes()
        var checkpoints: [(Int, Double)] = []
        for i in 1...loop {
            let signature = try bes.sign(document)
            guard verifier.verify(content: document, signature: signature).passed else { throw ValidationError("verification failed at \(i)") }
            if i % (loop / 5) == 0 { checkpoints.append((i, residentMegabytes())) }
        }
        print(String(format: "RSS over %d sign+verify: start %.1f MB, ", loop, before)
              + checkpoints.map { String(format: "%d: %.1f MB", $0.0, $0.1) }.joined(separator: ", "))
    }

    private func measure(_ body: () throws -> Void) throws -> Double { try benchRate(seconds: seconds, batch: 20, body) }

    private func opensslSpeed() throws -> (Double, Double) {
        let outcome = try ChildProcess.run(["/usr/bin/openssl", "speed", "-seconds", "\(max(1, Int(seconds)))", "-mr", "ecdsap256"])
        guard let line = outcome.output.split(separator: "\n").first(where: { $0.hasPrefix("+F4:") }) else {
            throw ValidationError("openssl speed printed no ECDSA result: \(outcome.output)")
        }
        let fields = line.split(separator: ":")
        guard fields.count >= 5, let sign = Double(fields[3]), let verify = Double(fields[4]) else { throw ValidationError("cannot read \(line)") }
        return (sign, verify)
    }

    private func residentMegabytes() -> Double {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Double(statm.split(separator: " ")[1]) ?? 0
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }
}

/// The throwaway CA the signing benchmarks sign with: root → issuing CA → a signer and the TSA.
struct BenchPKI {
    let rootKey: PrivateKey, root: Certificate
    let caKey: PrivateKey, ca: Certificate
    let tsaKey: PrivateKey, tsaCertificate: Certificate
    let signerKey: PrivateKey, signer: Certificate

    init() throws {
        let year: TimeInterval = 365 * 86_400
        rootKey = try PrivateKey.generate()
        root = try CertificateIssuer.issue(subject: .init(commonName: "Bench Root"), publicKeyOf: rootKey, profile: .rootCA, issuer: nil, notAfter: Date() + 20 * year)
        caKey = try PrivateKey.generate()
        ca = try CertificateIssuer.issue(subject: .init(commonName: "Bench Issuing CA"), publicKeyOf: caKey, profile: .issuingCA, issuer: (root, rootKey), notAfter: Date() + 10 * year)
        tsaKey = try PrivateKey.generate()
        tsaCertificate = try CertificateIssuer.issue(
            subject: .init(commonName: "Bench TSA"), publicKeyOf: tsaKey, profile: .timestamping, issuer: (ca, caKey), notAfter: Date() + 5 * year)
        signerKey = try PrivateKey.generate()
        signer = try CertificateIssuer.issue(
            subject: .init(commonName: "Bench Signer", serialNumber: "198001012005011001"), publicKeyOf: signerKey, profile: .signing,
            issuer: (ca, caKey), notAfter: Date() + 2 * year)
    }
}

/// Runs `body` in batches until `seconds` have passed; calls per second.
func benchRate(seconds: Double, batch: Int, _ body: () throws -> Void) throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var count = 0
    while true {
        for _ in 0..<batch { try body() }
        count += batch
        let secs = (clock.now - start).inSeconds
        if secs >= seconds { return Double(count) / secs }
    }
}
