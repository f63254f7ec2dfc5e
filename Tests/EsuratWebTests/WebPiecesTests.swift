@testable import EsuratWeb
import EsuratSigning
import Foundation
import Mustache
import Testing

/// The web UI's pieces that need no server: form parsing, Indonesian dates and messages,
/// the templates, and the vendored htmx file.
@Suite struct WebPiecesTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/EsuratWeb")

    @Test func urlEncodedFormsDecodePlusPercentAndRepeatedNames() {
        let form = FormData.urlEncoded(Array("hal=Rapat+koordinasi&tujuan=a&tujuan=b&isi=caf%C3%A9%0D%0Aok&rusak=%zz%4&kosong=&sendiri".utf8))
        #expect(form["hal"] == "Rapat koordinasi")
        #expect(form.all("tujuan") == ["a", "b"])
        #expect(form["isi"] == "café\r\nok")
        #expect(form["rusak"] == "%zz%4")
        #expect(form["kosong"] == "" && form.text("kosong") == nil)
        #expect(form["sendiri"] == "")
        #expect(form["tidak-ada"] == nil)
    }

    @Test func multipartFormsGiveFieldsAndFiles() throws {
        let boundary = "----esuratBoundary7MA4YWxk"
        var body = ""
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc123\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"lampiran\"; filename=\"surat \\\"resmi\\\".pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\nisi\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"kosong\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
        body += "--\(boundary)--\r\n"
        let form = try FormData.multipart(Array(body.utf8), contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(form["_csrf"] == "abc123")
        let file = try #require(form.file("lampiran"))
        #expect(file.filename == "surat \"resmi\".pdf")
        #expect(file.mediaType == "application/pdf")
        #expect(file.bytes == Array("%PDF-1.4\r\nisi".utf8))
        #expect(form.file("kosong") == nil, "an empty file input is no file")
        #expect(throws: (any Error).self) { try FormData.multipart(Array("tanpa batas".utf8), contentType: "multipart/form-data; boundary=x") }
        #expect(throws: (any Error).self) { try FormData.multipart([], contentType: "multipart/form-data") }
    }

    @Test func datesAreWrittenTheIndonesianWayInTheInstallationsZone() throws {
        let jakarta = try #require(TimeZone(identifier: "Asia/Jakarta"))
        let jayapura = try #require(TimeZone(identifier: "Asia/Jayapura"))
        // 2026-06-10T16:30:00Z is 23.30 WIB and already 11 June 01.30 WIT.
        let instant = Date(timeIntervalSince1970: 1_781_109_000)
        #expect(Indonesian.date(instant, in: jakarta) == "10 Juni 2026")
        #expect(Indonesian.dateTime(instant, in: jakarta) == "10 Juni 2026 23.30")
        #expect(Indonesian.date(instant, in: jayapura) == "11 Juni 2026")
        #expect(Indonesian.day("2026-12-07") == "7 Desember 2026")
        #expect(Indonesian.day("bukan tanggal") == "bukan tanggal")
        #expect(Indonesian.isoDay(offset: 1, from: instant, in: jakarta) == "2026-06-11")
    }

    /// Every message the services give for the fields a form has, said in Indonesian (not the
    /// catch-all), so a person never reads the English an API client gets.
    @Test func theServicesFieldMessagesHaveIndonesianWords() {
        let messages = [
            "must be 1–500 characters", "must be 3–30 characters", "must be at most 100000 characters", "must be at least 8 characters",
            "must not contain control characters", "must not contain NUL characters", "is required", "must be a KKA code such as 000.1",
            "999.9 is not in the classification table", "must name at least one unit", "must have at least one addressee (to)", "is named twice",
            "no active unit has this id", "does not unlock the signing key", "no signing key", "certificate revoked",
            "is not a position of the drafting unit's OPD", "each position appears once, and not as the signer", "at most five reviewers",
            "must name 1–50 positions", "names a position twice", "must name 1–10 instructions", "is not an instruction on the list",
            "is not a position below yours in the receiving unit", "must be a date (YYYY-MM-DD)", "is required when returning a letter",
        ]
        for message in messages {
            let said = Indonesian.fieldMessage(message)
            #expect(said != "Isian ini tidak valid.", "\(message) falls through to the catch-all")
            #expect(said.range(of: #"\b(must|is|the|not|characters)\b"#, options: .regularExpression) == nil, "\(message) → \(said)")
        }
        #expect(Indonesian.fieldMessage("must be 1–500 characters") == "Wajib diisi, paling banyak 500 karakter.")
        #expect(Indonesian.fieldMessage("something nobody wrote yet") == "Isian ini tidak valid.")
    }

    @Test func everyTemplateParsesAndShowsNoEnglish() async throws {
        let directory = Self.sources.appendingPathComponent("Templates")
        let library = try await MustacheLibrary(directory: directory.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".mustache") }
        #expect(names.count >= 25)
        let english = #"\b(Submit|Cancel|Error|Sign ?out|Log ?in|Save|Delete|Edit|Back|Next|Search|Loading|Please|Password|Username)\b"#
        for name in names {
            let template = name.replacingOccurrences(of: ".mustache", with: "")
            #expect(library.getTemplate(named: template) != nil, "\(name) did not load")
            // The words a person reads: the text between tags, without Mustache tags.
            let source = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let text = source.replacingOccurrences(of: #"\{\{[^}]*\}\}"#, with: " ", options: .regularExpression)
                .replacingOccurrences(of: #"<[^>]*>"#, with: " ", options: .regularExpression)
            #expect(text.range(of: english, options: .regularExpression) == nil, "\(name) has English text")
        }
        let layout = try String(contentsOf: directory.appendingPathComponent("layout.mustache"), encoding: .utf8)
        #expect(layout.contains("<html lang=\"id\">"))
        #expect(layout.contains(#""allowEval":false"#) && layout.contains(#""includeIndicatorStyles":false"#))
        #expect(!layout.contains("<script>") && !layout.contains("style="))
    }

    @Test func theVendoredHtmxIsTheRecordedRelease() throws {
        let file = try Data(contentsOf: Self.sources.appendingPathComponent("Static/htmx.min.js"))
        #expect(file.count == 50_387)
        #expect(Digest.hex(try Digest.sha256(Array(file))) == "491955cd1810747d7d7b9ccb936400afb760e06d25d53e4572b64b6563b2784e")
        let record = try String(contentsOf: Self.sources.appendingPathComponent("Static/THIRD-PARTY.md"), encoding: .utf8)
        #expect(record.contains("491955cd1810747d7d7b9ccb936400afb760e06d25d53e4572b64b6563b2784e") && record.contains("2.0.3"))
    }

    @Test func redirectsStayOnThisSiteAndCSRFTokensAreBoundToTheSession() {
        #expect(WebUI.safeReturn("/naskah-masuk?status=new") == "/naskah-masuk?status=new")
        for hostile in ["https://jahat.example/", "//jahat.example", "/\\jahat.example", "javascript:alert(1)", "", nil] as [String?] {
            #expect(WebUI.safeReturn(hostile) == "/")
        }
        let a = WebUI.csrfToken(for: "sesi-pertama"), b = WebUI.csrfToken(for: "sesi-kedua")
        #expect(a.count == 64 && a != b && a == WebUI.csrfToken(for: "sesi-pertama"))
        #expect(WebUI.constantTimeEqual(a, a) && !WebUI.constantTimeEqual(a, b) && !WebUI.constantTimeEqual(a, String(a.dropLast())))
    }

    @Test func absentValuesDoNotOpenSectionsOrReachOuterScopes() throws {
        let note: String? = nil
        let rows: [[String: Any]] = [["note": note as Any, "id": "1"], ["note": "ada" as Any, "id": "2"]]
        let context: [String: Any] = ["note": "catatan halaman", "rows": rows]
        let template = try MustacheTemplate(string: "{{#rows}}[{{id}}:{{#note}}{{note}}{{/note}}]{{/rows}}")
        #expect(template.render(WebUI.normalized(context)) == "[1:][2:ada]")
    }
}
