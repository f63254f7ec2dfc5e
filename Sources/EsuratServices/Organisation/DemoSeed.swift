public import EsuratPostgres
import EsuratDomain
import Foundation

/// A demo Kabupaten: twenty OPDs and kecamatan, each with its head, secretary, two heads of
/// division and the head of administration (Kasubag TU, who is also the clerk), and an
/// account for every position. All demo accounts share ``password``.
public enum DemoSeed {
    public static let password = "esurat-demo-2026"

    /// (code, name, kind)
    static let units: [(String, String, UnitKind)] = [
        ("SETDA", "Sekretariat Daerah", .opd),
        ("DISKOMINFO", "Dinas Komunikasi dan Informatika", .opd),
        ("DISDIK", "Dinas Pendidikan", .opd),
        ("DINKES", "Dinas Kesehatan", .opd),
        ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", .opd),
        ("BPKAD", "Badan Pengelolaan Keuangan dan Aset Daerah", .opd),
        ("INSPEKTORAT", "Inspektorat Daerah", .opd),
        ("BKPSDM", "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", .opd),
        ("DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang", .opd),
        ("DINSOS", "Dinas Sosial", .opd),
        ("DISHUB", "Dinas Perhubungan", .opd),
        ("DLH", "Dinas Lingkungan Hidup", .opd),
        ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", .opd),
        ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", .opd),
        ("BPBD", "Badan Penanggulangan Bencana Daerah", .opd),
        ("SATPOLPP", "Satuan Polisi Pamong Praja", .opd),
        ("KEC-KOTA", "Kecamatan Kota", .kecamatan),
        ("KEC-AROSBAYA", "Kecamatan Arosbaya", .kecamatan),
        ("KEC-KAMAL", "Kecamatan Kamal", .kecamatan),
        ("KEC-SOCAH", "Kecamatan Socah", .kecamatan),
    ]

    static let names = [
        "Ahmad Fauzi", "Siti Nur'aini", "Moh. Syaiful Anam", "Dewi Kartika Sari", "R. Abdul Ghofur", "Nurul Hidayah",
        "Achmad Ma'ruf", "Ika Rahmawati", "Hj. Sulastri", "Imam Syafi'i", "Rina Agustina", "Bambang Suharto",
        "Yuli Astutik", "Mohammad Rofiq", "Ainun Jariyah", "Taufiqurrahman", "Fitriyah", "Agus Salim",
        "Lailatul Qomariyah", "Hasan Basri", "Ummi Kulsum", "Joko Prasetyo", "Zainal Arifin", "Wahyuni",
    ]

    /// One demo account, for the README and the start-up message.
    public struct Login: Sendable {
        public var username: String
        public var role: String
    }

    /// Whether the demo is loaded already.
    public static func isSeeded(pool: PostgresPool) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM units WHERE code = 'DISKOMINFO'").isEmpty
    }

    /// Loads the demo; does nothing when it is there already. Returns a few logins to show.
    @discardableResult
    public static func seed(organisation: OrganisationService, pool: PostgresPool) async throws -> [Login] {
        if try await isSeeded(pool: pool) {
            try await printSettings(pool)
            return sampleLogins
        }

        let root: UUID = try await pool.query("SELECT id FROM units WHERE code = 'PEMDA'").single().decode("id")
        var serial = 0
        for (index, (code, name, kind)) in units.enumerated() {
            let unit = try await insertUnit(pool, code: code, name: name, kind: kind, parent: root)
            let isKecamatan = kind == .kecamatan
            let titles: [(key: String, title: String, superior: Int?, roles: [Role])] = [
                ("kepala", headTitle(code: code, name: name, kind: kind), nil, [.official]),
                ("sekretaris", isKecamatan ? "Sekretaris Kecamatan" : "Sekretaris", 0, [.official]),
                ("kabid1", isKecamatan ? "Kepala Seksi Pemerintahan" : "Kepala Bidang Program", 0, [.official]),
                ("kabid2", isKecamatan ? "Kepala Seksi Pelayanan Umum" : "Kepala Bidang Layanan", 0, [.official]),
                ("tu", isKecamatan ? "Kepala Subbagian Umum" : "Kepala Subbagian Tata Usaha", 1, [.clerk, .official]),
            ]
            var positionIDs: [UUID] = []
            for (offset, entry) in titles.enumerated() {
                let superior = entry.superior.map { positionIDs[$0] }
                let positionID: UUID = try await pool.query(
                    "INSERT INTO positions (unit_id, title, superior_id, is_head) VALUES ($1, $2, $3, $4) RETURNING id",
                    [unit, entry.title, superior, offset == 0]).single().decode("id")
                positionIDs.append(positionID)
                serial += 1
                let year = 1968 + (serial * 7) % 30
                let nip = String(format: "%04d%02d%02d%04d%02d%d%03d", year, serial % 12 + 1, serial % 28 + 1, year + 24, (serial * 5) % 12 + 1, serial % 2 + 1, serial % 1000)
                _ = try await organisation.insertUser(
                    .init(username: "\(code.lowercased()).\(entry.key)", fullName: names[(index * 5 + offset) % names.count],
                          nip: nip, password: password, roles: entry.roles, unitID: unit, positionID: positionID),
                    createdBy: nil, request: .local)
            }
        }
        // A staff member under the Kabid Layanan (dispositions reach positions) and an auditor.
        let kominfo: UUID = try await pool.query("SELECT id FROM units WHERE code = 'DISKOMINFO'").single().decode("id")
        let staffPosition: UUID = try await pool.query(
            """
            INSERT INTO positions (unit_id, title, superior_id, is_head)
            SELECT $1, 'Pranata Komputer Ahli Pertama', id, false FROM positions WHERE unit_id = $1 AND title = 'Kepala Bidang Layanan' RETURNING id
            """, [kominfo]).single().decode("id")
        _ = try await organisation.insertUser(
            .init(username: "diskominfo.staf", fullName: "Nur Laila", nip: nil, password: password, roles: [.staff], unitID: kominfo, positionID: staffPosition),
            createdBy: nil, request: .local)
        let inspektorat: UUID = try await pool.query("SELECT id FROM units WHERE code = 'INSPEKTORAT'").single().decode("id")
        _ = try await organisation.insertUser(
            .init(username: "auditor", fullName: "Auditor Inspektorat", nip: nil, password: password, roles: [.auditor], unitID: inspektorat, positionID: nil),
            createdBy: nil, request: .local)
        try await printSettings(pool)
        return sampleLogins
    }

    /// How the demo prints letters: a kop for every unit and the officials' ranks. Only
    /// where nothing is set yet, so an admin's own settings stay.
    static func printSettings(_ pool: PostgresPool) async throws {
        try await pool.withTransaction { tx in
            try await tx.query("UPDATE letter_template SET government = 'Pemerintah Kabupaten Bangkalan', place = 'Bangkalan' WHERE government = ''")
            try await tx.query(
                """
                UPDATE units SET letterhead_address = 'Jalan Soekarno-Hatta Nomor ' || (10 + n) || ', Bangkalan, Jawa Timur 69116',
                       letterhead_contacts = 'Telepon (031) 30950' || lpad(n::text, 2, '0') || ', Laman ' || lower(code) || '.bangkalankab.go.id, Pos-el ' || lower(code) || '@bangkalankab.go.id'
                FROM (SELECT id AS unit, row_number() OVER (ORDER BY code) AS n FROM units) numbered
                WHERE units.id = numbered.unit AND letterhead_address = '' AND kind <> 'pemda'
                """)
            try await tx.query(
                """
                UPDATE users SET rank = CASE
                    WHEN username LIKE '%.kepala' THEN 'Pembina Utama Muda (IV/c)'
                    WHEN username LIKE '%.sekretaris' THEN 'Pembina (IV/a)'
                    WHEN username LIKE '%.kabid%' THEN 'Penata Tingkat I (III/d)'
                    WHEN username LIKE '%.tu' THEN 'Penata (III/c)'
                    END
                WHERE rank IS NULL AND username LIKE '%.%' AND username NOT LIKE '%.staf'
                """)
        }
    }

    public static let sampleLogins: [Login] = [
        Login(username: "diskominfo.kepala", role: "Kepala Dinas Komunikasi dan Informatika (official)"),
        Login(username: "diskominfo.sekretaris", role: "Sekretaris Diskominfo (official)"),
        Login(username: "diskominfo.tu", role: "Kasubag TU Diskominfo (clerk, official)"),
        Login(username: "diskominfo.kabid2", role: "Kepala Bidang Layanan Diskominfo (official)"),
        Login(username: "diskominfo.staf", role: "Pranata Komputer, Bidang Layanan Diskominfo (staff)"),
        Login(username: "setda.kepala", role: "Sekretaris Daerah (official)"),
        Login(username: "auditor", role: "auditor"),
    ]

    static func headTitle(code: String, name: String, kind: UnitKind) -> String {
        switch code {
        case "SETDA": "Sekretaris Daerah"
        case "INSPEKTORAT": "Inspektur Daerah"
        default: kind == .kecamatan ? "Camat " + name.replacingOccurrences(of: "Kecamatan ", with: "") : "Kepala " + name
        }
    }

    private static func insertUnit(_ pool: PostgresPool, code: String, name: String, kind: UnitKind, parent: UUID) async throws -> UUID {
        try await pool.query(
            "INSERT INTO units (code, name, kind, parent_id) VALUES ($1, $2, $3, $4) RETURNING id",
            [code, name, kind.rawValue, parent]).single().decode("id")
    }
}
