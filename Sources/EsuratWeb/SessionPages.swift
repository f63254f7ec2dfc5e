import EsuratDomain
import EsuratServices
import EsuratSigning
import Foundation
import Hummingbird
import Logging
import EsuratHTTP

extension WebUI {
    /// Masuk and Keluar. The login form is protected against login CSRF by a pre-session
    /// cookie whose hash the form carries.
    func registerSession(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/masuk") { request, _ -> Response in
            if try await self.session(request) != nil { return Self.redirect("/") }
            return self.loginPage(request, username: "", error: nil, status: .ok)
        }
        web.post("/masuk") { request, context -> Response in
            let form: FormData
            do { form = try await self.readForm(request) } catch {
                return self.loginPage(request, username: "", error: "Isian terlalu panjang.", status: .contentTooLarge)
            }
            let pre = request.cookies[Self.preSessionCookie]?.value ?? ""
            do {
                try self.checkForgery(request, form: form, expected: pre.isEmpty ? "" : Self.csrfToken(for: pre))
            } catch {
                context.logger.notice("web login refused: missing or wrong CSRF token or foreign origin")
                return self.loginPage(request, username: "", error: "Formulir kedaluwarsa atau tidak berasal dari halaman ini. Silakan coba lagi.", status: .forbidden)
            }
            let username = form.text("username") ?? ""
            let password = form["password"] ?? ""
            guard !username.isEmpty, !password.isEmpty else {
                return self.loginPage(request, username: username, error: "Isi nama pengguna dan kata sandi.", status: .unprocessableContent)
            }
            do {
                let session = try await self.services.identity.login(username: username, password: password, request: self.requestInfo)
                let maxAge = max(60, Int(session.expiresAt.timeIntervalSinceNow))
                return Self.redirect(Self.safeReturn(form["kembali"]), cookies: [self.sessionCookie(session.token, maxAge: maxAge), self.preSessionCookie("", maxAge: 0)])
            } catch let error as ServiceError {
                let message = error.kind == .rateLimited
                    ? "Terlalu banyak percobaan masuk. Tunggu satu menit lalu coba lagi."
                    : "Nama pengguna atau kata sandi salah, atau akun tidak aktif."
                return self.loginPage(request, username: username, error: message, status: error.kind == .rateLimited ? .tooManyRequests : .unauthorized)
            }
        }
        web.get("/akun", use: page { request, _, session, _ in
            try await self.accountPage(session: session, notice: request.uri.queryParameters.get("pesan") == "kunci" ? "Kunci tanda tangan elektronik Anda telah dibuat." : nil)
        })
        web.post("/akun/kunci-tte", use: page { _, _, session, form in
            let passphrase = form["passphrase"] ?? ""
            guard passphrase == (form["ulangi"] ?? "") else {
                return try await self.accountPage(session: session, notice: nil, errors: ["ulangi": "Kedua passphrase tidak sama."], status: .unprocessableContent)
            }
            do {
                let confirmation = try await self.services.identity.confirmPassword(form["password"] ?? "", of: session.caller, request: self.requestInfo)
                _ = try await self.services.pki.issueSigningKey(
                    for: session.caller, passphrase: passphrase, confirmation: confirmation, request: self.requestInfo)
            } catch let error as ServiceError
                where error.kind == .validation || error.kind == .unprocessable || error.kind == .forbidden || error.kind == .rateLimited {
                var errors = Self.fieldErrors(error)
                if errors["nip"] != nil { errors["passphrase"] = "Akun Anda belum memiliki NIP. Minta admin mencatatnya terlebih dahulu." }
                if errors["password"] != nil { errors["password"] = error.kind == .forbidden ? "Kata sandi akun salah." : "Isi kata sandi akun Anda." }
                if error.kind == .forbidden && errors["password"] == nil { errors["passphrase"] = "Hanya pejabat yang dapat memiliki kunci tanda tangan elektronik." }
                if error.kind == .rateLimited { errors["password"] = "Terlalu banyak percobaan kata sandi. Tunggu satu menit lalu coba lagi." }
                return try await self.accountPage(
                    session: session, notice: nil, errors: errors, status: error.kind == .rateLimited ? .tooManyRequests : .unprocessableContent)
            }
            return Self.redirect("/akun?pesan=kunci")
        })
        web.post("/keluar", use: page { request, _, session, _ in
            try await self.services.identity.logout(session.caller, request: self.requestInfo)
            return Self.redirect("/masuk?pesan=keluar", cookies: [self.sessionCookie("", maxAge: 0)])
        })
    }

    func accountPage(session: Session, notice: String?, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let key = try await services.pki.signingKey(of: session.caller)
        let user = session.caller.user
        return render("account", title: "Akun Saya", session: session, status: status, [
            "name": user.fullName, "username": user.username, "nip": user.nip as Any, "unit": session.unitName,
            "roles": user.roles.map(Indonesian.role).joined(separator: ", "),
            "positions": session.caller.actor.positions.map { Indonesian.capacity($0.capacity?.rawValue) ?? "Pemegang jabatan" },
            "isOfficial": session.caller.actor.roles.contains(.official),
            "hasKey": key != nil, "revoked": key?.revoked ?? false, "serial": key?.key.certificateSerial as Any,
            "validUntil": date(key?.key.notAfter), "notice": notice as Any, "errors": errors,
        ])
    }

    /// Only a path on this site: an absolute URL or `//host` would be an open redirect.
    static func safeReturn(_ target: String?) -> String {
        guard let target, target.hasPrefix("/"), !target.hasPrefix("//"), !target.hasPrefix("/\\"), !target.contains("\n") else { return "/" }
        return target
    }

    func loginPage(_ request: Request, username: String, error: String?, status: HTTPResponse.Status) -> Response {
        var pre = request.cookies[Self.preSessionCookie]?.value ?? ""
        var cookies: [String] = []
        if pre.count != 43 {
            pre = (try? SecureRandom.bytes(32)).map { Self.base64url($0) } ?? ""
            cookies.append(preSessionCookie(pre))
        }
        let notice: String? = request.uri.queryParameters.get("pesan") == "keluar" ? "Anda telah keluar." : nil
        return render("login", title: "Masuk", session: nil, status: status, [
            "csrf": Self.csrfToken(for: pre), "username": username, "error": error as Any, "notice": notice as Any,
            "kembali": Self.safeReturn(request.uri.queryParameters.get("kembali").map { String($0) }),
        ], cookies: cookies)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
