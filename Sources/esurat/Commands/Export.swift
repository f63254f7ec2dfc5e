import ArgumentParser
import EsuratPostgres
import EsuratServices
import EsuratDomain
import Foundation
import Logging

/// `esurat export`: the audit archive of a period, straight into a tar file.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the audit archive (a BagIt bag in a tar) of the letters signed in a period.",
        discussion: """
            Letters signed from --from to --to (days in WIB, inclusive), optionally of one unit and \
            the units below it and of one KKA code and the codes below it: their signed documents, \
            signatures, attachments, histories, deliveries with evidence and dispositions; the CA \
            chain, CRLs and TSA certificate; the audit events of the period with the signed \
            checkpoints covering them. Progress goes to standard error. Check the result with \
            `esurat verify-archive` or stock tools (see data/README.txt inside).
            """)

    @Option(name: .long, help: "First day, YYYY-MM-DD.")
    var from: String

    @Option(name: .long, help: "Last day, YYYY-MM-DD.")
    var to: String

    @Option(name: .long, help: "Unit code (its letters and those of the units below it).")
    var unit: String?

    @Option(name: .long, help: "KKA code prefix (000.1 takes 000.1 and 000.1.x).")
    var classification: String?

    @Option(name: .long, help: "The tar file to write.")
    var out: String

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let selection: ArchiveSelection
        do {
            selection = try ArchiveSelection.validated(from: from, to: to, unitID: nil, classification: classification)
        } catch let error as ServiceError {
            throw ValidationError(error.fields.map { "--\($0.field) \($0.message)" }.joined(separator: "; "))
        }
        let runtime = try await Runtime.start(database: database, logger: logger)
        do {
            var chosen = selection
            if let unit {
                guard let row = try await runtime.pool.query("SELECT id FROM units WHERE code = $1", [unit]).first else {
                    throw ValidationError("--unit \(unit) is not a unit of this installation")
                }
                chosen.unitID = try row.decode("id", as: UUID.self)
            }
            if let classification, try await runtime.pool.query("SELECT 1 FROM kka_codes WHERE code = $1", [classification]).isEmpty {
                throw ValidationError("--classification \(classification) is not in the classification table")
            }
            let exporter = ArchiveExporter(pool: runtime.pool, pki: runtime.pki, chain: AuditChain(pool: runtime.pool, pki: runtime.pki, blocking: runtime.blocking))
            let started = ContinuousClock.now
            let result = try await exporter.export(
                chosen, identifier: "urn:uuid:\(UUID().lowercasedString)", sink: try FileArchiveSink(path: out)
            ) { progress in
                let percent = progress.totalLetters == 0 ? 100 : progress.letters * 100 / progress.totalLetters
                FileHandle.standardError.write(Data("\r\(progress.letters)/\(progress.totalLetters) letters (\(percent)%), \(progress.bytes / 1_048_576) MB".utf8))
            }
            let elapsed = ContinuousClock.now - started
            FileHandle.standardError.write(Data("\n".utf8))
            // An export from the command line is a read of every letter in it, Rahasia ones
            // included, by whoever runs the server: it is audited as the API's are.
            var details = ["from": chosen.from, "to": chosen.to, "letters": String(result.letters), "sha256": result.sha256, "via": "command line"]
            if let unit { details["unit"] = unit }
            if let classification { details["classification"] = classification }
            try await runtime.pool.withTransaction { tx in
                try await AuditLog.append(.init("archive.exported", objectType: "archive_export", actorUserID: nil, details: details), request: .local, on: tx)
            }
            announce("""
                Wrote \(out): \(result.letters) letters, \(result.auditEvents) audit events, \(result.checkpoints) signed checkpoints, \
                \(result.bytes) bytes in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))).
                SHA-256 \(result.sha256)
                """)
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}

/// `esurat verify-archive`: everything in an archive checked offline.
struct VerifyArchive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-archive",
        abstract: "Check an audit archive offline: the bag, every signature and time-stamp, the attachment hashes and the audit chain.",
        discussion: "Trusts only the archive's own data/pki/ and, with --ca-fingerprint, only when its root is the one the government published. Prints one line per item; exits 0 when every item passes against the given root, 2 when every item passes but no --ca-fingerprint confirmed the root, 1 when an item fails.")

    @Argument(help: "The archive (.tar).")
    var file: String

    @Option(name: .long, help: ArgumentHelp(
        "SHA-256 fingerprint of the root CA, as the issuing government publishes it (openssl x509 -noout -fingerprint -sha256). Without it the report prints the archive's for you to compare.",
        valueName: "hex"))
    var caFingerprint: String?

    func run() throws {
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("\(file) does not exist") }
        if let caFingerprint, caFingerprint.filter(\.isHexDigit).count != 64 {
            throw ValidationError("--ca-fingerprint: 64 hexadecimal digits (colons allowed)")
        }
        var failed = 0
        let verdict = try ArchiveVerifier(expectedRootFingerprint: caFingerprint).verify(path: file) { item in
            print("\(item.status.rawValue)  \(item.subject): \(item.detail)")
            if item.status == .fail { failed += 1 }
        }
        switch verdict {
        case .verified:
            announce("The archive verifies: every item passed, against the root CA you gave.")
        case .rootUnconfirmed(let fingerprint):
            // Exit 2: whoever forged an archive could have made its root too.
            announce("""
                Every item passed, but only against the archive's own root CA (\(fingerprint)). Compare it with the
                fingerprint the issuing government publishes, then run again with --ca-fingerprint. Not verified yet.
                """)
            throw ExitCode(2)
        case .failed:
            announce("The archive does NOT verify: \(failed) item(s) failed.")
            throw ExitCode(1)
        }
    }
}
