public import EsuratPostgres
import EsuratDomain
public import Foundation
public import Logging

/// Letters of the demo Kabupaten in every state, made through the same services people use
/// (drafted, initialled, returned, signed, delivered, registered, disposed), so a newcomer
/// who logs in as `diskominfo.kepala` finds work waiting: a letter to sign, incoming letters
/// to dispose, an open disposition tree and an overdue branch.
public enum DemoLetters {
    /// The passphrase of the demo heads' signing keys (the demo only; real signers choose
    /// their own and it is never stored).
    public static let signingPassphrase = "tte-demo-2026"

    /// The heads who get a signing key with ``signingPassphrase``.
    public static let signers = ["diskominfo.kepala", "setda.kepala", "bappeda.kepala"]

    /// Whether the demo letters are there already.
    public static func isSeeded(pool: PostgresPool) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM letters l JOIN units u ON u.id = l.unit_id WHERE u.code = 'DISKOMINFO' LIMIT 1").isEmpty
    }

    public static func seed(
        pool: PostgresPool, identity: IdentityService, pki: PKIService, letters: LetterService, blocking: BlockingWork, logger: Logger
    ) async throws {
        if try await isSeeded(pool: pool) { return }
        var sessions: [String: IdentityService.Authenticated] = [:]
        func who(_ username: String) async throws -> IdentityService.Authenticated {
            if let known = sessions[username] { return known }
            let session = try await identity.login(username: username, password: DemoSeed.password, request: .local)
            let caller = try await identity.authenticate(bearer: session.token)
            sessions[username] = caller
            return caller
        }
        for signer in signers {
            let caller = try await who(signer)
            if try await pki.signingKey(of: caller) == nil {
                let confirmation = try await identity.confirmPassword(DemoSeed.password, of: caller, request: .local)
                _ = try await pki.issueSigningKey(for: caller, passphrase: signingPassphrase, confirmation: confirmation, request: .local)
            }
        }
        let units = Dictionary(uniqueKeysWithValues: try await pool.query("SELECT code, id FROM units").map {
            (try $0.decode("code", as: String.self), try $0.decode("id", as: UUID.self))
        })
        func unit(_ code: String) -> UUID { units[code]! }
        let local = RequestInfo.local

        func draft(_ by: String, _ subject: String, type: LetterType = .suratDinas, code: String, urgency: Urgency = .biasa, to: [String], cc: [String] = [],
                   body: String) async throws -> LetterRecord {
            try await letters.create(
                LetterDraft(type: type.rawValue, subject: subject, classificationCode: code, securityLevel: SecurityLevel.biasa.rawValue,
                            urgency: urgency.rawValue, body: body,
                            recipients: to.map { (unit($0), "to") } + cc.map { (unit($0), "cc") }, signerPositionID: nil, reviewerPositionIDs: nil),
                caller: try await who(by), request: local)
        }
        func signed(_ letter: LetterRecord, office: String) async throws {
            _ = try await letters.submit(letter.id, caller: try await who("\(office).tu"), request: local)
            _ = try await letters.review(letter.id, approve: true, note: nil, caller: try await who("\(office).sekretaris"), request: local)
            _ = try await letters.sign(letter.id, passphrase: signingPassphrase, caller: try await who("\(office).kepala"), request: local)
        }
        let code = try await pool.query("SELECT code FROM kka_codes WHERE active ORDER BY code LIMIT 1").first?.decode("code", as: String.self) ?? "000"

        // Outgoing letters of Diskominfo, one per state.
        _ = try await draft("diskominfo.tu", "Rencana pemeliharaan jaringan intra pemerintah daerah", code: code, to: ["SETDA"],
                            body: "Dengan hormat,\n\nBersama ini kami sampaikan rencana pemeliharaan jaringan intra pemerintah daerah yang akan dilaksanakan pada bulan depan.\n\nDemikian untuk menjadi perhatian.")
        let review = try await draft("diskominfo.tu", "Usulan pelatihan keamanan informasi bagi operator OPD", code: code, to: ["BKPSDM"],
                                     body: "Dengan hormat,\n\nKami mengusulkan pelatihan keamanan informasi bagi operator aplikasi di setiap perangkat daerah.")
        _ = try await letters.submit(review.id, caller: try await who("diskominfo.tu"), request: local)
        let returned = try await draft("diskominfo.tu", "Permohonan penambahan bandwidth internet", code: code, to: ["BPKAD"],
                                       body: "Dengan hormat,\n\nSehubungan dengan meningkatnya layanan daring, kami mohon penambahan anggaran bandwidth internet.")
        _ = try await letters.submit(returned.id, caller: try await who("diskominfo.tu"), request: local)
        _ = try await letters.review(returned.id, approve: false, note: "Lengkapi dengan rincian kebutuhan dan dasar hukumnya.",
                                     caller: try await who("diskominfo.sekretaris"), request: local)
        let toSign = try await draft("diskominfo.tu", "Undangan rapat koordinasi Sistem Pemerintahan Berbasis Elektronik", type: .undangan, code: code,
                                     urgency: .segera, to: ["SETDA", "BAPPEDA"], cc: ["INSPEKTORAT"],
                                     body: "Dengan hormat,\n\nKami mengundang Bapak/Ibu untuk hadir dalam rapat koordinasi SPBE pada hari Kamis pukul 09.00 WIB di Ruang Rapat Diskominfo.")
        _ = try await letters.submit(toSign.id, caller: try await who("diskominfo.tu"), request: local)
        _ = try await letters.review(toSign.id, approve: true, note: nil, caller: try await who("diskominfo.sekretaris"), request: local)
        let report = try await draft("diskominfo.tu", "Laporan capaian SPBE triwulan III", type: .laporan, code: code, to: ["SETDA"],
                                     body: "Dengan hormat,\n\nBersama ini kami laporkan capaian indeks SPBE triwulan III beserta rencana tindak lanjutnya.")
        try await signed(report, office: "diskominfo")

        // Incoming letters for Diskominfo, signed by Setda and Bappeda.
        let request = try await draft("setda.tu", "Permintaan data aplikasi yang digunakan perangkat daerah", code: code, urgency: .segera,
                                      to: ["DISKOMINFO"], cc: ["INSPEKTORAT"],
                                      body: "Dengan hormat,\n\nDalam rangka penyusunan arsitektur SPBE, kami mohon data seluruh aplikasi yang digunakan perangkat daerah paling lambat akhir bulan ini.")
        try await signed(request, office: "setda")
        let meeting = try await draft("bappeda.tu", "Undangan evaluasi rencana kerja bidang komunikasi dan informatika", type: .undangan, code: code,
                                      to: ["DISKOMINFO"], body: "Dengan hormat,\n\nKami mengundang Saudara dalam evaluasi rencana kerja yang lalu.")
        try await signed(meeting, office: "bappeda")
        let circular = try await draft("setda.tu", "Penggunaan tanda tangan elektronik pada naskah dinas", type: .suratEdaran, code: code,
                                       to: ["DISKOMINFO", "DINKES", "DISDIK"],
                                       body: "Dengan hormat,\n\nSeluruh naskah dinas perangkat daerah mulai bulan depan ditandatangani secara elektronik melalui esurat.")
        try await signed(circular, office: "setda")
        let audit = try await draft("setda.tu", "Pemberitahuan jadwal audit kinerja", code: code, to: ["DISKOMINFO"],
                                    body: "Dengan hormat,\n\nBersama ini kami beritahukan jadwal audit kinerja tahun ini.")
        try await signed(audit, office: "setda")

        // Deliver now rather than wait for the worker, so the inboxes are filled at once.
        let worker = DispatchWorker(pool: pool, evidence: (pki, blocking), logger: logger)
        var rounds = 0
        while rounds < 20, try await worker.drainOnce() > 0 { rounds += 1 }

        let inbox = InboxService(pool: pool, pki: pki, blocking: blocking)
        let dispositions = DispositionService(pool: pool)
        func entry(_ letter: LetterRecord) async throws -> UUID {
            try await pool.query("SELECT e.id FROM inbox_entries e WHERE e.letter_id = $1 AND e.unit_id = $2", [letter.id, unit("DISKOMINFO")]).single().decode("id")
        }
        func position(_ username: String) async throws -> UUID {
            guard let id = try await who(username).user.positionID else { throw ServiceError(.conflict, "The demo account \(username) holds no position.") }
            return id
        }
        let clerk = try await who("diskominfo.tu")
        let head = try await who("diskominfo.kepala")
        // Registered and disposed to both Kabid; one forwards to the staff: an open tree.
        let requestEntry = try await entry(request)
        _ = try await inbox.register(requestEntry, caller: clerk, request: local)
        let root = try await dispositions.dispose(
            entry: requestEntry,
            .init(toPositionIDs: [try await position("diskominfo.kabid1"), try await position("diskominfo.kabid2")],
                  instructions: ["tindak_lanjuti", "koordinasikan"], note: "Segera himpun data aplikasi dari semua OPD.", dueDate: nil),
            caller: head, request: local)
        // A demo loaded by an older esurat has its staff account without a position: no forward then.
        if let staff = try? await position("diskominfo.staf") {
            _ = try await dispositions.forward(
                root.id, .init(toPositionIDs: [staff], instructions: ["proses_lanjut"], note: "Siapkan rekap dalam format tabel.", dueDate: nil),
                caller: try await who("diskominfo.kabid2"), request: local)
        }
        // Registered and disposed with a due date that has passed: the overdue branch.
        let meetingEntry = try await entry(meeting)
        _ = try await inbox.register(meetingEntry, caller: clerk, request: local)
        let yesterday = try await pool.query("SELECT to_char((now() AT TIME ZONE 'Asia/Jakarta')::date - 1, 'YYYY-MM-DD') AS d").single().decode("d", as: String.self)
        _ = try await dispositions.dispose(
            entry: meetingEntry,
            .init(toPositionIDs: [try await position("diskominfo.kabid1")], instructions: ["hadiri"], note: "Wakili saya dan laporkan hasilnya.", dueDate: yesterday),
            caller: head, request: local)
        // Registered, waiting for the head's disposition; and one still to register.
        _ = try await inbox.register(try await entry(circular), caller: clerk, request: local)
        _ = try await entry(audit)
        for caller in sessions.values { try? await identity.logout(caller, request: local) }
    }
}
