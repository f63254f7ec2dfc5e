import EsuratPostgres
import EsuratTestSupport
import Foundation
import Testing

@Suite struct TypeRoundTripTests {
    static let megabyte = 1 << 20

    @Test func everySupportedTypeRoundTripsThroughATable() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        try await pool.query("""
            CREATE TABLE everything (
                t text, i int4, b int8, flag bool, id uuid, at timestamptz, day date,
                raw bytea, doc jsonb, names text[], numbers int8[], ids uuid[]
            )
            """)
        let id = UUID()
        let at = Date(timeIntervalSince1970: 1_764_000_000.123456)
        let day = PostgresDate(year: 2026, month: 2, day: 28)!
        let raw: [UInt8] = [0, 1, 0, 255, 0, 0]
        let doc = try PostgresJSONB(["perihal": "Undangan Rapat Koordinasi — Dinas Kominfo"])
        let indonesian = "Kepala Dinas Komunikasi dan Informatika — Ma'ruf Šukri 📨✅"
        try await pool.query(
            "INSERT INTO everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            [indonesian, Int32(-42), Int64.max, true, id, at, day, PostgresBytes(raw), doc,
             ["satu", "", "tiga 🎉"], [1, -2, Int.max], [id, UUID()]])
        let row = try await pool.query("SELECT * FROM everything").single()
        #expect(try row.decode("t", as: String.self) == indonesian)
        #expect(try row.decode("i", as: Int32.self) == -42)
        #expect(try row.decode("i", as: Int.self) == -42)
        #expect(try row.decode("b", as: Int64.self) == Int64.max)
        #expect(try row.decode("flag", as: Bool.self))
        #expect(try row.decode("id", as: UUID.self) == id)
        #expect(try row.decode("id", as: String.self) == id.uuidString.lowercased())
        #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(at)) < 0.000_001)
        #expect(try row.decode("day", as: PostgresDate.self) == day)
        #expect(try row.decode("day", as: PostgresDate.self).description == "2026-02-28")
        #expect(try row.decode("raw", as: PostgresBytes.self).bytes == raw)
        #expect(try row.decode("doc", as: PostgresJSONB.self).decode([String: String].self) == ["perihal": "Undangan Rapat Koordinasi — Dinas Kominfo"])
        #expect(try row.decode("names", as: [String].self) == ["satu", "", "tiga 🎉"])
        #expect(try row.decode("numbers", as: [Int].self) == [1, -2, Int.max])
        #expect(try row.decode("ids", as: [UUID].self).first == id)
    }

    @Test func nullsAndEmptyValuesRoundTrip() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        try await pool.query("CREATE TABLE maybe (t text, i int8, id uuid, at timestamptz, raw bytea, day date, flag bool, doc jsonb)")
        try await pool.query(
            "INSERT INTO maybe VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [String?.none, Int?.none, UUID?.none, Date?.none, PostgresBytes?.none, PostgresDate?.none, Bool?.none, PostgresJSONB?.none])
        try await pool.query("INSERT INTO maybe (t, raw, doc) VALUES ($1, $2, $3)", ["", PostgresBytes([]), PostgresJSONB(text: Array("{}".utf8))])
        let rows = try await pool.query("SELECT * FROM maybe ORDER BY t NULLS FIRST")
        #expect(try rows[0].decode("t", as: String?.self) == nil)
        #expect(try rows[0].decode("i", as: Int?.self) == nil)
        #expect(try rows[0].decode("id", as: UUID?.self) == nil)
        #expect(try rows[0].decode("at", as: Date?.self) == nil)
        #expect(try rows[0].decode("raw", as: PostgresBytes?.self) == nil)
        #expect(try rows[0].decode("day", as: PostgresDate?.self) == nil)
        #expect(try rows[0].decode("flag", as: Bool?.self) == nil)
        #expect(try rows[0].decode("doc", as: PostgresJSONB?.self) == nil)
        #expect(try rows[1].decode("t", as: String?.self) == "")
        #expect(try rows[1].decode("raw", as: PostgresBytes.self).bytes == [])
        #expect(String(decoding: try rows[1].decode("doc", as: PostgresJSONB.self).text, as: UTF8.self) == "{}")
    }

    @Test func oneMegabyteValuesRoundTrip() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        try await pool.query("CREATE TABLE big (t text, raw bytea)")
        let text = String(repeating: "Surat Dinas 📨 ", count: Self.megabyte / 16)
        var generator = SystemRandomNumberGenerator()
        var raw = (0..<Self.megabyte).map { _ in UInt8.random(in: 0...255, using: &generator) }
        raw[0] = 0
        raw[Self.megabyte - 1] = 0
        try await pool.query("INSERT INTO big VALUES ($1, $2)", [text, PostgresBytes(raw)])
        let row = try await pool.query("SELECT t, raw, length(raw) AS n FROM big").single()
        #expect(try row.decode("t", as: String.self) == text)
        #expect(try row.decode("raw", as: PostgresBytes.self).bytes == raw)
        #expect(try row.decode("n", as: Int.self) == Self.megabyte)
    }

    @Test func aDecodingErrorNamesTheColumn() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let row = try await pool.query("SELECT 'teks'::text AS perihal, NULL::int AS nomor").single()
        do {
            _ = try row.decode("perihal", as: Int.self)
            Issue.record("expected a decoding error")
        } catch let error as PostgresDecodingError {
            #expect(error.column == "perihal")
            #expect(error.description.contains("perihal"))
        }
        do {
            _ = try row.decode("nomor", as: Int.self)
            Issue.record("expected a decoding error")
        } catch let error as PostgresDecodingError {
            #expect(error.column == "nomor")
            #expect(error.reason.contains("NULL"))
        }
        #expect(throws: PostgresDecodingError.self) { try row.decode("missing", as: String.self) }
    }

    @Test func stringParametersTakeTheTypeTheStatementNeeds() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let id = UUID()
        let row = try await pool.query("SELECT $1::uuid = $2 AS same", [id, id.uuidString]).single()
        #expect(try row.decode("same", as: Bool.self))
        let injected = "x'; DROP TABLE pg_class; --"
        #expect(try await pool.query("SELECT $1 AS t", [injected]).single().decode("t", as: String.self) == injected)
    }

    @Test func calendarDatesConvertBothWays() {
        #expect(PostgresDate(year: 2000, month: 1, day: 1)?.daysSince2000 == 0)
        #expect(PostgresDate(year: 2024, month: 2, day: 29) != nil)
        #expect(PostgresDate(year: 2026, month: 2, day: 29) == nil)
        #expect(PostgresDate(year: 2026, month: 13, day: 1) == nil)
        #expect(PostgresDate(year: 1999, month: 12, day: 31)?.daysSince2000 == -1)
        #expect(PostgresDate(daysSince2000: 9_466).description == "2025-12-01")
    }
}
