import ArgumentParser
import EsuratServices
import EsuratSigning
import Foundation

/// `esurat timestamps`: the long-term validity of the letters' PDFs (B-LTA).
struct Timestamps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep the signed PDFs verifiable for decades: renew their document time-stamps, rotate the TSA.",
        discussion: """
            `serve` renews by itself once a day. These commands are for the operator: after a \
            suspected TSA key compromise or when its algorithm is to be retired, run \
            `rotate-tsa` and then `renew --all`.
            """,
        subcommands: [TimestampsRenew.self, TimestampsRotateTSA.self])
}

struct TimestampsRenew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Add a DSS and a new document time-stamp to every PDF whose newest time-stamp's TSA certificate expires within the horizon.",
        discussion: "Rotates the TSA first when it expires within the horizon itself. Each renewal is a new version of the PDF; the old ones stay.")

    @Option(name: .long, help: "Renew what expires within this many days.")
    var horizonDays: Int = 730

    @Flag(name: .long, help: "Also renew every PDF whose newest time-stamp another (older) TSA made.")
    var all = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...7_300).contains(horizonDays) else { throw ValidationError("--horizon-days: from 1 to 7300") }
    }

    func run() async throws {
        let logger = try logging.bootstrap()
        let runtime = try await Runtime.start(database: database, logger: logger)
        do {
            let pdfs = LetterPDFService(pool: runtime.pool, pki: runtime.pki, blocking: runtime.blocking, letters: runtime.letters)
            let horizon = Date() + TimeInterval(horizonDays) * 86_400
            var total = 0
            while true {
                let renewed = try await pdfs.renewTimestamps(expiringBefore: horizon, includingOtherTSAs: all, limit: 100)
                total += renewed
                if renewed > 0 { FileHandle.standardError.write(Data("\r\(total) renewed".utf8)) }
                if renewed < 100 { break }
            }
            if total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
            let tsa = try runtime.pki.timestampAuthority().certificate
            announce("Renewed \(total) PDF(s). The TSA certificate \(tsa.serialHex) is valid until \(tsa.notAfter.formatted(.iso8601)).")
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}

struct TimestampsRotateTSA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-tsa",
        abstract: "Replace the time-stamping authority's key and certificate with new ones from the issuing CA.",
        discussion: """
            The old certificate is kept (its tokens still verify, archives carry it) and its key is \
            destroyed. Running replicas take the new TSA up within a day; restart them to switch at once.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let runtime = try await Runtime.start(database: database, logger: logger)
        do {
            let retired = try runtime.pki.timestampAuthority().certificate
            let current = try await runtime.pki.rotateTimestampAuthority(ifExpiringBefore: nil, actorUserID: nil, request: .local)
            announce("""
                Retired the TSA certificate \(retired.serialHex). The new one is \(current.serialHex), valid until \(current.notAfter.formatted(.iso8601)).
                Run `esurat timestamps renew --all` to move every PDF's newest time-stamp onto it.
                """)
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}
