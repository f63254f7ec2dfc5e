import ArgumentParser
import EsuratDomain
import EsuratPostgres
import EsuratServices
import EsuratSigning
import Foundation
import Logging

/// The archive export at scale: N signed letters written straight into the tables, exported
/// to a tar, with throughput and the process's peak resident memory.
struct BenchExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export N signed letters as a BagIt tar; prints MB/s and peak RSS (VmHWM).",
        discussion: """
            The letters are inserted with SQL, each with its own canonical document and CAdES-T \
            signature by a key the installation's CA issued, so `esurat verify-archive` can check \
            the whole archive. Peak RSS is reset (clear_refs) before the export, so VmHWM measures \
            the export alone.
            """)

    @Option(name: .long, help: "Letters to create and export.")
    var letters: Int = 100_000

    @Option(name: .long, help: "Where to write the tar.")
    var out: String = NSTemporaryDirectory() + "esurat-bench-export.tar"

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        guard (1...10_000_000).contains(letters) else { throw ValidationError("--letters is 1–10,000,000") }
        let runtime = try await Runtime.start(database: database, logger: logger)
        do {
            try await run(runtime)
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }

    func run(_ runtime: Runtime) async throws {
        try await runtime.bootstrapAdmin()
        let pool = runtime.pool
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
        let unit: UUID = try await pool.query("INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", ["BX-\(tag)", "Dinas Uji Ekspor"]).single().decode("id")
        let position: UUID = try await pool.query("INSERT INTO positions (unit_id, title, is_head) VALUES ($1, 'Kepala Dinas Uji Ekspor', true) RETURNING id", [unit]).single().decode("id")
        let password = "bench-\(tag)-password"
        let user = try await runtime.organisation.insertUserForBenchmark(
            username: "bx.\(tag.lowercased())", password: password, unitID: unit, roles: [.official], positionID: position, nip: Self.randomNIP())

        // A signing key from the installation's CA, as an official gets one, so that every
        // letter's signature in the archive verifies against the archive's own PKI.
        let passphrase = "frasa-sandi-bench-\(tag)"
        let session = try await runtime.identity.login(username: "bx.\(tag.lowercased())", password: password, request: .local)
        let caller = try await runtime.identity.authenticate(bearer: session.token)
        let confirmation = try await runtime.identity.confirmPassword(password, of: caller, request: .local)
        _ = try await runtime.pki.issueSigningKey(for: caller, passphrase: passphrase, confirmation: confirmation, request: .local)
        let keyRow = try await pool.query("SELECT certificate, private_key, certificate_serial FROM signing_keys WHERE user_id = $1", [user.id]).single()
        let serial: String = try keyRow.decode("certificate_serial")
        let signer = CMSSigner(
            certificate: try Certificate(pem: try keyRow.decode("certificate")),
            key: try PrivateKey.unlock(pem: try keyRow.decode("private_key"), passphrase: passphrase), chain: [],
            timestampAuthority: try runtime.pki.timestampAuthority())
        let template = #"{"attachments":[],"body":"Dengan hormat, sehubungan dengan pelaksanaan program kerja tahun anggaran berjalan, kami sampaikan laporan kegiatan beserta rincian anggaran yang telah direalisasikan. Mohon arahan Bapak/Ibu untuk tindak lanjut berikutnya. Demikian disampaikan, atas perhatiannya diucapkan terima kasih.","classification":"000.1","copies":[],"date":"2026-12-01","format":"esurat/letter/1","letterId":"@ID@","number":"000.1/@N@/BX/2026","recipients":[{"code":"PEMDA","id":"00000000-0000-0000-0000-000000000000","name":"Pemerintah Daerah"}],"securityLevel":"biasa","sender":{"code":"BX","id":"00000000-0000-0000-0000-000000000000","name":"Dinas Uji Ekspor"},"signer":{"capacity":"definitif","name":"Kepala Dinas Uji Ekspor","nip":"198001012005011001","positionTitle":"Kepala Dinas Uji Ekspor","printed":["Kepala Dinas Uji Ekspor"]},"subject":"Laporan kegiatan @N@","type":"nota_dinas","urgency":"biasa"}"#

        // Each letter its own document and CAdES-T signature (signed on the two blocking
        // threads), inserted 2,000 at a time.
        let setup = ContinuousClock.now
        var inserted = 0
        let blocking = runtime.blocking
        while inserted < letters {
            let batch = min(2_000, letters - inserted)
            let ids = (0..<batch).map { _ in UUID() }
            let numbers = (0..<batch).map { "000.1/\(inserted + $0 + 1)/BX/2026" }
            let documents = (0..<batch).map { i in
                Array(template.replacingOccurrences(of: "@ID@", with: ids[i].lowercasedString)
                    .replacingOccurrences(of: "@N@", with: String(inserted + i + 1)).utf8)
            }
            let signatures = try await withThrowingTaskGroup(of: (Int, [[UInt8]]).self) { group in
                let half = (batch + 1) / 2
                for part in 0..<2 {
                    let slice = Array(documents[min(batch, part * half)..<min(batch, (part + 1) * half)])
                    group.addTask { (part, try await blocking.run { try slice.map { try signer.sign($0) } }) }
                }
                var parts: [[[UInt8]]] = [[], []]
                for try await (part, signed) in group { parts[part] = signed }
                return parts[0] + parts[1]
            }
            try await pool.query(
                """
                WITH input AS (SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::text[]) AS t(id, document, signature, number)),
                l AS (
                    INSERT INTO letters (id, unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, status,
                                         workflow_state, number, signed_at)
                    SELECT id, $5, $6, 'nota_dinas', 'Laporan kegiatan ' || split_part(number, '/', 2), '000.1', 'biasa', 'biasa', 'Isi', 'delivered',
                           '{}'::jsonb, number, now()
                    FROM input RETURNING id)
                INSERT INTO letter_documents (letter_id, document, signature, certificate_serial, signer_user_id, signer_position_id, signer_capacity, signed_at)
                SELECT i.id, i.document, i.signature, $7, $6, $8, 'definitif', now() FROM input i JOIN l ON l.id = i.id
                """, [ids, documents.map(PostgresBytes.init), signatures.map(PostgresBytes.init), numbers, unit, user.id, serial, position])
            inserted += batch
            FileHandle.standardError.write(Data("\rsigned and inserted \(inserted)/\(letters) letters".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        let insertSeconds = (ContinuousClock.now - setup).inSeconds
        let today: String = try await pool.query("SELECT (now() AT TIME ZONE 'Asia/Jakarta')::date::text AS d").single().decode("d")

        // Peak RSS from here on: writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0).
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = Self.status()
        let exporter = ArchiveExporter(pool: pool, pki: runtime.pki, chain: AuditChain(pool: pool, pki: runtime.pki, blocking: runtime.blocking))
        let started = ContinuousClock.now
        let result = try await exporter.export(
            ArchiveSelection(from: today, to: today, unitID: unit), identifier: "urn:uuid:\(UUID().lowercasedString)",
            sink: try FileArchiveSink(path: out)
        ) { progress in
            if progress.letters % 10_000 < 250 {
                FileHandle.standardError.write(Data("\r\(progress.letters)/\(progress.totalLetters) letters, \(progress.bytes / 1_048_576) MB, VmRSS \(Self.mb(Self.status()["VmRSS"])) MB".utf8))
            }
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let after = Self.status()
        FileHandle.standardError.write(Data("\n".utf8))
        let megabytes = Double(result.bytes) / 1_048_576
        print("esurat bench export: \(letters) letters signed (CAdES-T) and inserted in \(String(format: "%.1f", insertSeconds)) s")
        print(String(format: "exported %d letters, %d audit events, %.1f MB in %.1f s: %.1f MB/s, %.0f letters/s",
                     result.letters, result.auditEvents, megabytes, seconds, megabytes / seconds, Double(result.letters) / seconds))
        print("RSS before export \(Self.mb(before["VmRSS"])) MB; peak during export (VmHWM) \(Self.mb(after["VmHWM"])) MB; after \(Self.mb(after["VmRSS"])) MB")
        print("archive \(out), SHA-256 \(result.sha256)")
    }

    /// A well-formed NIP for a throwaway account (NIPs are unique per installation).
    static func randomNIP() -> String {
        String(format: "%04d%02d%02d%04d%02d1%03d", Int.random(in: 1965...1999), Int.random(in: 1...12), Int.random(in: 1...28),
               Int.random(in: 1990...2020), Int.random(in: 1...12), Int.random(in: 1...999))
    }


    static func mb(_ kilobytes: Int?) -> String { String(format: "%.1f", Double(kilobytes ?? 0) / 1024) }

    /// VmRSS, VmHWM… of this process in kB, from /proc/self/status.
    static func status() -> [String: Int] {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return [:] }
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("Vm") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
                out[String(parts[0])] = value
            }
        }
        return out
    }
}
