import ArgumentParser
import EsuratSigning
import Foundation

/// Reads a secret from the environment or, on a terminal, from a prompt that does not echo.
/// Never from a command-line argument: those show in `ps` and shell history.
func secret(environment name: String, prompt: String) throws -> String {
    if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
    guard isatty(0) == 1, let typed = getpass(prompt + ": ") else {
        throw ValidationError("set \(name) or run on a terminal to be asked for it")
    }
    return String(cString: typed)
}

struct PKIOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory of the internal CA.", valueName: "dir"))
    var pkiDir: String = ".esurat/pki"

    var directory: PKIDirectory { PKIDirectory(path: pkiDir) }

    func passphrase() throws -> String {
        try secret(environment: "ESURAT_PKI_PASSPHRASE", prompt: "PKI passphrase")
    }
}

struct PKI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "The internal CA: root, issuing CA, time-stamping authority, certificates and CRLs.",
        discussion: "CA keys are encrypted with the PKI passphrase, read from ESURAT_PKI_PASSPHRASE or asked for on the terminal.",
        subcommands: [PKIInit.self, PKIIssue.self, PKIRevoke.self, PKICRL.self])
}

struct PKIInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Make the root CA, the issuing CA, the TSA and empty CRLs.")

    @OptionGroup var pki: PKIOptions

    @Option(name: .long, help: "The organisation named in the CA certificates.")
    var organization: String = "Pemerintah Daerah"

    @Option(name: .long, help: "CA key type: ec (P-256) or rsa3072.")
    var keyType: String = "ec"

    func run() async throws {
        let algorithm: PrivateKey.Algorithm = switch keyType {
        case "ec": .ecP256
        case "rsa3072": .rsa(bits: 3072)
        default: throw ValidationError("--key-type is ec or rsa3072")
        }
        try pki.directory.initialise(organization: organization, passphrase: try pki.passphrase(), algorithm: algorithm)
        print("Internal CA created in \(pki.pkiDir): chain.pem (for openssl cms -verify -CAfile), crl.der, tsa.pem.")
    }
}

struct PKIIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Make a signing key and certificate for an official.",
        discussion: "The key is encrypted with the signer's passphrase (ESURAT_SIGNER_PASSPHRASE or a prompt).")

    @OptionGroup var pki: PKIOptions

    @Option(name: .long, help: "The official's full name.")
    var name: String

    @Option(name: .long, help: "The official's NIP (18 digits).")
    var nip: String

    @Option(name: .long, help: "The official's unit.")
    var unit: String

    @Option(name: .long, help: "Where to write the encrypted private key.")
    var outKey: String

    @Option(name: .long, help: "Where to write the certificate (PEM).")
    var outCert: String

    @Option(name: .long, help: "Key type: ec (P-256), rsa2048 or rsa3072.")
    var keyType: String = "ec"

    func run() async throws {
        let algorithm: PrivateKey.Algorithm = switch keyType {
        case "ec": .ecP256
        case "rsa2048": .rsa(bits: 2048)
        case "rsa3072": .rsa(bits: 3072)
        default: throw ValidationError("--key-type is ec, rsa2048 or rsa3072")
        }
        let caPassphrase = try pki.passphrase()
        let signerPassphrase = try secret(environment: "ESURAT_SIGNER_PASSPHRASE", prompt: "Signer's new passphrase")
        guard signerPassphrase.count >= 8 else { throw ValidationError("the signer's passphrase must be at least 8 characters") }
        let key = try PrivateKey.generate(algorithm)
        let certificate = try pki.directory.issueSigningCertificate(
            subject: .init(commonName: name, serialNumber: nip, organizationalUnit: unit, organization: nil),
            key: key, passphrase: caPassphrase)
        guard FileManager.default.createFile(atPath: outKey, contents: Data(try key.encryptedPEM(passphrase: signerPassphrase).utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(outKey)")
        }
        try Data(try certificate.pem.utf8).write(to: URL(fileURLWithPath: outCert))
        print("Issued certificate serial \(certificate.serialHex) for \(certificate.subject), valid until \(certificate.notAfter).")
    }
}

struct PKIRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a certificate and publish a new CRL.")

    @OptionGroup var pki: PKIOptions

    @Argument(help: "The certificate's serial number in hex, as `openssl x509 -serial` prints it.")
    var serial: String

    @Option(name: .long, help: "unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation.")
    var reason: String = "unspecified"

    static let reasons = ["unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5]

    func run() async throws {
        guard let code = Self.reasons[reason] else { throw ValidationError("--reason is one of \(Self.reasons.keys.sorted().joined(separator: ", "))") }
        try pki.directory.revoke(serialHex: serial, reason: code, passphrase: try pki.passphrase())
        print("Revoked \(serial.uppercased()); new CRL in \(pki.pkiDir)/crl.der.")
    }
}

struct PKICRL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crl", abstract: "Publish a fresh CRL (run it before the last one's nextUpdate).")

    @OptionGroup var pki: PKIOptions

    func run() async throws {
        let crl = try pki.directory.publishCRL(passphrase: try pki.passphrase())
        print("Published \(pki.pkiDir)/crl.der (this update \(crl.thisUpdate)).")
    }
}

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign FILE: writes FILE.p7s, a detached CAdES-T CMS signature (DER) with a time-stamp from the internal TSA.",
        discussion: "The key's passphrase comes from ESURAT_SIGNER_PASSPHRASE or a prompt; the TSA's from ESURAT_PKI_PASSPHRASE.")

    @Option(name: .long, help: "The encrypted private key (PEM).")
    var key: String

    @Option(name: .long, help: "The signing certificate (PEM).")
    var cert: String

    @Flag(name: .long, help: "Make a CAdES-BES signature without a time-stamp.")
    var noTimestamp = false

    @OptionGroup var pki: PKIOptions

    @Argument(help: "The file to sign.")
    var file: String

    func run() async throws {
        let content = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let certificate = try Certificate(pem: String(contentsOfFile: cert, encoding: .utf8))
        let privateKey = try PrivateKey.unlock(
            pem: String(contentsOfFile: key, encoding: .utf8),
            passphrase: try secret(environment: "ESURAT_SIGNER_PASSPHRASE", prompt: "Signer's passphrase"))
        let tsa = noTimestamp ? nil : try pki.directory.timestampAuthority(passphrase: try pki.passphrase())
        let chain = (try? pki.directory.issuing()).map { [$0] } ?? []
        let signature = try CMSSigner(certificate: certificate, key: privateKey, chain: chain, timestampAuthority: tsa).sign(content)
        try Data(signature).write(to: URL(fileURLWithPath: file + ".p7s"))
        print("Wrote \(file).p7s")
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify SIG over FILE and print the verification report (JSON). Exit 0 only on TOTAL_PASSED.")

    @Argument(help: "The signed file.")
    var file: String

    @Argument(help: "The detached signature (DER).")
    var signature: String

    @Option(name: .long, help: "Trusted certificates (PEM bundle): self-signed ones are anchors. Default: the internal CA's chain.")
    var ca: String?

    @Option(name: .long, help: "CRLs (DER); repeatable. Default: the internal CA's.")
    var crl: [String] = []

    @OptionGroup var pki: PKIOptions

    func run() async throws {
        let content = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let signatureBytes = Array(try Data(contentsOf: URL(fileURLWithPath: signature)))
        let crls = crl.isEmpty && ca == nil
            ? try pki.directory.crls()
            : try crl.map { try RevocationList(der: Array(try Data(contentsOf: URL(fileURLWithPath: $0)))) }
        let trust = try TrustStore(pemBundle: ca.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? pki.directory.chainPEM(), crls: crls)
        let report = SignatureVerifier(trust: trust).verify(content: content, signature: signatureBytes)
        print(try report.json())
        if !report.passed { throw ExitCode(1) }
    }
}
