import EsuratDomain
import EsuratHTTP
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird

/// What a printed letter's QR code opens, for anyone, without logging in: whether the letter
/// exists and matches, its number, date and signer (nothing but validity for Rahasia and
/// Sangat Rahasia), and a form to check a PDF. Rate-limited per client like the API.
extension WebUI {
    func registerPublicVerification(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/v/{id}") { request, context -> Response in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                return self.errorPage(status: .notFound, message: "Kode QR ini tidak dikenal.", session: nil)
            }
            return try await self.publicPage(request) {
                try self.services.publicLimiter.take(self.requestInfo.clientAddress)
                let check = try await self.services.pdfs.publicCheck(letter: id, hash: request.uri.queryParameters.get("h") ?? "")
                return self.render("public-check", title: "Verifikasi Naskah", session: try? await self.session(request), Self.publicCheckView(check))
            }
        }
        web.get("/v") { request, _ -> Response in
            self.render("public-check", title: "Periksa Berkas PDF", session: try? await self.session(request), ["uploadOnly": true])
        }
        web.post("/v/periksa") { request, _ -> Response in
            try await self.publicPage(request) {
                try self.services.publicLimiter.take(self.requestInfo.clientAddress, cost: 3)
                let form: FormData
                do { form = try await self.readForm(request) } catch let tooLarge as TooLarge {
                    return self.errorPage(status: .contentTooLarge, message: tooLarge.message, session: nil)
                }
                guard let file = form.file("berkas"), !file.bytes.isEmpty else {
                    return self.render("public-check", title: "Periksa Berkas PDF", session: nil, status: .unprocessableContent,
                                       ["uploadOnly": true, "uploadError": "Pilih berkas PDF yang akan diperiksa."])
                }
                let report = try await self.services.pdfs.verifyUpload(file.bytes)
                var view: [String: Any] = [
                    "uploadOnly": true,
                    "report": [
                        "valid": report.valid, "level": report.level as Any, "filename": file.filename,
                        "findings": report.findings.map { ["text": $0] },
                    ] as [String: Any],
                ]
                if let check = report.public_ { view["check"] = Self.publicCheckView(check)["check"] }
                return self.render("public-check", title: "Hasil Pemeriksaan PDF", session: nil, view)
            }
        }
    }

    /// Errors of the public pages as pages (no session to fall back on).
    func publicPage(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as ServiceError {
            let status: HTTPResponse.Status = switch error.kind {
            case .rateLimited: .tooManyRequests
            case .payloadTooLarge: .contentTooLarge
            case .notFound: .notFound
            default: .unprocessableContent
            }
            var response = errorPage(status: status, message: error.kind == .rateLimited
                ? "Terlalu banyak permintaan pemeriksaan. Coba lagi dalam \(error.retryAfterSeconds ?? 60) detik."
                : Indonesian.summary(error), session: nil)
            if let retry = error.retryAfterSeconds { response.headers[.retryAfter] = String(retry) }
            return response
        }
    }

    static func publicCheckView(_ check: LetterPDFService.PublicCheck) -> [String: Any] {
        let verdict: String
        let valid = check.exists && check.hashMatches
        if !check.exists {
            verdict = "Naskah dengan kode ini tidak terdaftar di esurat instansi ini."
        } else if !check.hashMatches {
            verdict = "Kode QR tidak cocok dengan naskah yang tercatat. Naskah ini mungkin telah diubah."
        } else if check.restricted {
            verdict = "Naskah ini sah dan terdaftar. Isinya bersifat rahasia sehingga tidak ditampilkan."
        } else {
            verdict = "Naskah ini sah: ditandatangani secara elektronik dan tercatat di esurat."
        }
        var facts: [[String: String]] = []
        if valid, !check.restricted {
            for (label, value) in [("Nomor", check.number), ("Tanggal", check.date), ("Hal", check.subject), ("Penanda tangan", check.signerName),
                                   ("Jabatan", check.signerPosition), ("Unit pengirim", check.sender)] {
                if let value { facts.append(["label": label, "value": value]) }
            }
        }
        // (swift-mustache has no `facts.0`: the section needs a flag of its own.)
        var view: [String: Any] = ["valid": valid, "verdict": verdict, "facts": facts, "hasFacts": !facts.isEmpty]
        if valid, let revoked = check.certificateRevokedAt {
            view["revoked"] = "Sertifikat penanda tangan dicabut pada \(Indonesian.dateTime(revoked, in: TimeZone(identifier: "Asia/Jakarta") ?? .gmt)), setelah naskah ditandatangani."
        }
        return ["check": view]
    }
}
