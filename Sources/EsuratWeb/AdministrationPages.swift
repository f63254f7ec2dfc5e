import EsuratDomain
import EsuratHTTP
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// For auditors: the audit log and archive exports. For admins: units, positions (the
/// head marked), users, Plt./Plh. delegations and workflows. The services refuse anyone
/// else; the pages only hide what a role cannot use.
extension WebUI {
    func registerAdministration(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/audit", use: page { request, _, session, _ in
            let cursor = request.uri.queryParameters.get("setelah").map { String($0) }
            let events = try await self.audit.events(actor: session.caller.actor, page: try PageRequest(limit: 50, cursor: cursor))
            return self.render("audit", title: "Log Audit", session: session, [
                "events": events.items.map { event -> [String: Any] in
                    func text(_ key: String) -> String? { if case .string(let value)? = event[key] { return value } else { return nil } }
                    let action = text("action") ?? ""
                    let occurred = text("occurredAt").flatMap { ISO8601DateFormatter.fractional.date(from: $0) }
                    let seq: String = if case .number(let n)? = event["chainSeq"] { String(Int64(n)) } else { "" }
                    return [
                        "seq": seq, "when": self.dateTime(occurred), "what": Self.auditAction(action), "code": action,
                        "object": text("objectId").map { String($0.prefix(8)) } as Any, "address": text("clientAddress") as Any,
                        "hash": text("hash").map { String($0.prefix(16)) } as Any,
                    ]
                },
                "next": events.nextCursor as Any, "empty": events.items.isEmpty,
            ])
        })
        web.get("/arsip", use: page { _, _, session, _ in
            try self.authorizeAudit(session)
            return try await self.archivePage(session: session, form: nil, errors: [:])
        })
        web.post("/arsip", use: page { _, _, session, form in
            let unit = form.text("unit").flatMap(UUID.init(uuidString:))
            do {
                let job = try await self.archive.request(
                    from: form["dari"] ?? "", to: form["sampai"] ?? "", unitID: unit, classification: form.text("klasifikasi"),
                    actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/arsip/\(job.id.lowercasedString)?pesan=ekspor")
            } catch let error as ServiceError where error.kind == .validation || error.kind == .unprocessable {
                return try await self.archivePage(session: session, form: form, errors: Self.fieldErrors(error, mapping: ["from": "dari", "to": "sampai", "unitId": "unit", "classification": "klasifikasi"]), status: .unprocessableContent)
            }
        })
        web.get("/arsip/{id}", use: page { request, _, session, _ in
            let job = try await self.archive.job(try Self.id(request), actor: session.caller.actor)
            let done = job.state == "done"
            return self.render("archive-job", title: "Ekspor Arsip", session: session, [
                "id": job.id.lowercasedString, "from": Indonesian.day(job.from), "to": Indonesian.day(job.to),
                "state": Self.jobState(job.state), "running": job.state == "queued" || job.state == "running",
                "done": done, "failed": job.state == "failed", "letters": job.letters, "size": Self.size(job.bytes),
                "sha256": job.sha256 as Any, "requestedAt": self.dateTime(job.createdAt), "finishedAt": self.dateTime(job.finishedAt),
                "notice": Self.notice(request) as Any,
            ])
        })
        web.get("/arsip/{id}/unduh", use: page { request, _, session, _ in
            let id = try Self.id(request)
            let actor = session.caller.actor
            let (job, chunks) = try await self.archive.download(id, actor: actor, request: self.requestInfo)
            var headers: HTTPFields = [.contentType: "application/x-tar"]
            headers[.contentDisposition] = "attachment; filename=\"esurat-arsip-\(job.from)-\(job.to).tar\""
            headers[.cacheControl] = "no-store"
            let archive = self.archive
            return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: job.bytes) { writer in
                for n in 0..<chunks { try await writer.write(ByteBuffer(bytes: try await archive.chunk(id, n, actor: actor))) }
                try await writer.finish(nil)
            })
        })

        web.get("/admin", use: page { _, _, _, _ in Self.redirect("/admin/unit") })
        web.get("/admin/unit", use: page { request, _, session, _ in
            try self.authorizeAdmin(session)
            return try await self.unitsPage(session: session, form: nil, errors: [:], notice: Self.notice(request))
        })
        web.post("/admin/unit", use: page { _, _, session, form in
            try self.authorizeAdmin(session)
            guard let kind = UnitKind(rawValue: form["jenis"] ?? "") else {
                return try await self.unitsPage(session: session, form: form, errors: ["jenis": "Pilih jenis unit."], notice: nil, status: .unprocessableContent)
            }
            do {
                _ = try await self.services.organisation.createUnit(
                    .init(code: form["kode"] ?? "", name: form["nama"] ?? "", kind: kind, parentID: form.text("induk").flatMap(UUID.init(uuidString:))),
                    actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/admin/unit?pesan=disimpan-admin")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                return try await self.unitsPage(session: session, form: form, errors: Self.fieldErrors(error, mapping: ["code": "kode", "name": "nama", "parentId": "induk", "kind": "jenis"]),
                                                notice: nil, status: .unprocessableContent)
            }
        })
        web.get("/admin/jabatan", use: page { request, _, session, _ in
            try self.authorizeAdmin(session)
            return try await self.positionsPage(session: session, unit: request.uri.queryParameters.get("unit").flatMap { UUID(uuidString: String($0)) },
                                                form: nil, errors: [:], notice: Self.notice(request))
        })
        web.post("/admin/jabatan", use: page { _, _, session, form in
            try self.authorizeAdmin(session)
            guard let unit = form.text("unit").flatMap(UUID.init(uuidString:)) else {
                return try await self.positionsPage(session: session, unit: nil, form: form, errors: ["unit": "Pilih unit."], notice: nil, status: .unprocessableContent)
            }
            do {
                _ = try await self.services.organisation.createPosition(
                    .init(unitID: unit, title: form["nama"] ?? "", superiorID: form.text("atasan").flatMap(UUID.init(uuidString:)), isHead: form["kepala"] == "ya"),
                    actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/admin/jabatan?unit=\(unit.lowercasedString)&pesan=disimpan-admin")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                return try await self.positionsPage(session: session, unit: unit, form: form,
                                                    errors: Self.fieldErrors(error, mapping: ["title": "nama", "superiorId": "atasan", "isHead": "kepala", "unitId": "unit"]),
                                                    notice: nil, status: .unprocessableContent)
            }
        })
        web.get("/admin/pengguna", use: page { request, _, session, _ in
            try self.authorizeAdmin(session)
            return try await self.usersPage(session: session, form: nil, errors: [:], notice: Self.notice(request))
        })
        web.post("/admin/pengguna", use: page { _, _, session, form in
            try self.authorizeAdmin(session)
            guard let unit = form.text("unit").flatMap(UUID.init(uuidString:)) else {
                return try await self.usersPage(session: session, form: form, errors: ["unit": "Pilih unit."], notice: nil, status: .unprocessableContent)
            }
            let roles = form.all("peran").compactMap(Role.init(rawValue:))
            do {
                _ = try await self.services.organisation.createUser(
                    .init(username: form["username"] ?? "", fullName: form["nama"] ?? "", nip: form.text("nip"), password: form["password"] ?? "",
                          roles: roles, unitID: unit, positionID: form.text("jabatan").flatMap(UUID.init(uuidString:))),
                    actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/admin/pengguna?pesan=disimpan-admin")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                return try await self.usersPage(session: session, form: form, errors: Self.fieldErrors(error, mapping: [
                    "username": "username", "fullName": "nama", "nip": "nip", "password": "password", "roles": "peran", "unitId": "unit", "positionId": "jabatan",
                ]), notice: nil, status: .unprocessableContent)
            }
        })
        web.get("/admin/delegasi", use: page { request, _, session, _ in
            try self.authorizeAdmin(session)
            return try await self.delegationsPage(session: session, form: nil, errors: [:], notice: Self.notice(request))
        })
        web.post("/admin/delegasi", use: page { _, _, session, form in
            try self.authorizeAdmin(session)
            var errors: [String: String] = [:]
            let position = form.text("jabatan").flatMap(UUID.init(uuidString:))
            let user = form.text("pengguna").flatMap(UUID.init(uuidString:))
            let capacity = DelegationCapacity(rawValue: form["sebagai"] ?? "")
            let from = form.text("dari").flatMap { Self.day($0, timeZone: self.configuration.timeZone) }
            let until = form.text("sampai").flatMap { Self.day($0, timeZone: self.configuration.timeZone) }
            if position == nil { errors["jabatan"] = "Pilih jabatan." }
            if user == nil { errors["pengguna"] = "Pilih pengguna." }
            if capacity == nil { errors["sebagai"] = "Pilih Plt. atau Plh." }
            if from == nil { errors["dari"] = "Isi tanggal mulai." }
            if until == nil { errors["sampai"] = "Isi tanggal selesai." }
            guard errors.isEmpty, let position, let user, let capacity, let from, let until else {
                return try await self.delegationsPage(session: session, form: form, errors: errors, notice: nil, status: .unprocessableContent)
            }
            do {
                // The last day counts whole: the window runs to the start of the next day.
                _ = try await self.services.organisation.createDelegation(
                    .init(positionID: position, userID: user, capacity: capacity, validFrom: from, validUntil: until.addingTimeInterval(86_400)),
                    actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/admin/delegasi?pesan=disimpan-admin")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                var errors = Self.fieldErrors(error, mapping: ["positionId": "jabatan", "userId": "pengguna", "capacity": "sebagai", "validFrom": "dari", "validUntil": "sampai"])
                if errors.isEmpty { errors["jabatan"] = Self.delegationMessage(error) }
                return try await self.delegationsPage(session: session, form: form, errors: errors, notice: nil, status: .unprocessableContent)
            }
        })
        web.get("/admin/alur", use: page { request, _, session, _ in
            try self.authorizeAdmin(session)
            return try await self.workflowsPage(session: session, form: nil, errors: [:], notice: Self.notice(request))
        })
        web.post("/admin/alur", use: page { _, _, session, form in
            try self.authorizeAdmin(session)
            var steps: [WorkflowStep] = []
            for index in 1...4 {
                guard let kindText = form.text("langkah\(index)"), kindText != "tidak" else { continue }
                let actor: StepActor = switch form["pelaku\(index)"] {
                case "atasan": .superiorOfDrafter
                case "kepala": .headOfDrafterUnit
                default: form.text("pelaku\(index)").flatMap(UUID.init(uuidString:)).map(StepActor.position) ?? .headOfDrafterUnit
                }
                let hours = form.text("jam\(index)").flatMap(Int.init)
                let kind: WorkflowStep.Kind = kindText == "tandatangan" ? .sign : (kindText == "koordinasi" ? .reviewCoordination : .reviewHierarchy)
                steps.append(WorkflowStep(kind: kind, actor: actor, deadlineHours: hours, capacity: kind == .sign ? .direct : nil))
            }
            do {
                _ = try await self.workflows.create(
                    WorkflowDefinition(name: form.text("nama") ?? "", steps: steps), letterType: form.text("jenis"),
                    unitID: form.text("unit").flatMap(UUID.init(uuidString:)), actor: session.caller.actor, request: self.requestInfo)
                return Self.redirect("/admin/alur?pesan=disimpan-admin")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                var errors = Self.fieldErrors(error, mapping: ["name": "nama", "letterType": "jenis", "unitId": "unit"])
                if errors.keys.contains(where: { $0.hasPrefix("steps") }) || errors.isEmpty {
                    errors["langkah"] = "Alur harus berakhir dengan satu langkah tanda tangan, dengan paling banyak lima paraf sebelumnya."
                }
                return try await self.workflowsPage(session: session, form: form, errors: errors, notice: nil, status: .unprocessableContent)
            }
        })
    }

    func authorizeAdmin(_ session: Session) throws {
        guard session.caller.actor.isAdmin else { throw ServiceError(.forbidden, "This needs the admin role.") }
    }

    func authorizeAudit(_ session: Session) throws {
        guard session.caller.actor.isAdmin || session.caller.actor.isAuditor else { throw ServiceError(.forbidden, "This needs the auditor or admin role.") }
    }

    static func day(_ text: String, timeZone: TimeZone) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return Indonesian.calendar(timeZone).date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    static func delegationMessage(_ error: ServiceError) -> String {
        let detail = error.detail.lowercased()
        if detail.contains("overlap") { return "Jangka waktu ini bertumpang tindih dengan delegasi lain untuk jabatan yang sama." }
        if detail.contains("vacant") { return "Plt. hanya untuk jabatan yang kosong; gunakan Plh. bila pemegangnya berhalangan." }
        if detail.contains("held") { return "Plh. hanya untuk jabatan yang ada pemegangnya; gunakan Plt. untuk jabatan kosong." }
        if detail.contains("holder") { return "Pemegang jabatan tidak dapat menjadi Plt./Plh. untuk jabatannya sendiri." }
        return Indonesian.summary(error)
    }

    static func jobState(_ state: String) -> String {
        switch state {
        case "queued": "Menunggu giliran"
        case "running": "Sedang disusun"
        case "failed": "Gagal"
        default: "Siap diunduh"
        }
    }

    static func auditAction(_ action: String) -> String {
        let table: [String: String] = [
            "archive.export_downloaded": "Arsip ekspor diunduh", "archive.export_requested": "Ekspor arsip diminta",
            "audit.checkpoint_requested": "Titik periksa audit diminta", "auth.api_token_created": "Token API dibuat",
            "auth.api_token_revoked": "Token API dicabut", "auth.login": "Masuk", "auth.login_failed": "Gagal masuk",
            "auth.login_rate_limited": "Percobaan masuk dibatasi", "auth.login_failures_summarised": "Ringkasan gagal masuk per jam", "auth.logout": "Keluar",
            "classification.retention_set": "Jadwal retensi diatur", "classification.saved": "Kode klasifikasi disimpan",
            "delegation.created": "Delegasi Plt./Plh. dibuat", "delivery.requeued": "Pengiriman diulang",
            "disposition.completed": "Disposisi selesai", "disposition.created": "Disposisi dibuat", "disposition.escalated": "Disposisi lewat batas waktu",
            "disposition.forwarded": "Disposisi diteruskan", "disposition.read": "Disposisi dibaca", "inbox.registered": "Naskah masuk diregistrasi",
            "pki.certificate_revoked": "Sertifikat dicabut", "pki.initialised": "Otoritas sertifikat disiapkan",
            "pki.signing_key_issued": "Kunci tanda tangan diterbitkan", "pki.signing_key_replaced": "Kunci tanda tangan diganti",
            "auth.password_confirmation_failed": "Konfirmasi kata sandi gagal", "position.created": "Jabatan dibuat", "unit.created": "Unit dibuat",
            "unit.deactivated": "Unit dinonaktifkan", "unit.reactivated": "Unit diaktifkan kembali", "unit.renamed": "Unit diganti nama",
            "user.bootstrap_admin": "Akun admin pertama dibuat", "user.created": "Akun dibuat", "workflow.defined": "Alur naskah ditetapkan",
        ]
        if let known = table[action] { return known }
        if action.hasPrefix("letter.") { return Indonesian.historyAction(action) }
        return "Peristiwa sistem"
    }

    func unitOptions(_ units: [UnitRecord], selected: String?) -> [[String: Any]] {
        units.map { ["value": $0.id.lowercasedString, "label": "\($0.name) (\($0.code))", "selected": $0.id.lowercasedString == selected] as [String: Any] }
    }

    func archivePage(session: Session, form: FormData?, errors: [String: String], status: HTTPResponse.Status = .ok) async throws -> Response {
        render("archive", title: "Ekspor Arsip", session: session, status: status, [
            "units": unitOptions(try await units(session), selected: form?["unit"]), "errors": errors,
            "from": form?["dari"] ?? Indonesian.isoDay(offset: -30, in: configuration.timeZone), "to": form?["sampai"] ?? Indonesian.isoDay(offset: 0, in: configuration.timeZone),
            "classification": form?["klasifikasi"] ?? "",
        ])
    }

    func adminTabs(_ current: String) -> [[String: Any]] {
        [("unit", "Unit"), ("jabatan", "Jabatan"), ("pengguna", "Pengguna"), ("delegasi", "Delegasi Plt./Plh."), ("alur", "Alur Naskah")].map {
            ["key": $0.0, "label": $0.1, "current": $0.0 == current] as [String: Any]
        }
    }

    static func unitKind(_ kind: UnitKind) -> String {
        switch kind {
        case .pemda: "Pemerintah Daerah"
        case .opd: "Perangkat Daerah (OPD)"
        case .bagian: "Bagian"
        case .bidang: "Bidang"
        case .subbagian: "Subbagian"
        case .seksi: "Seksi"
        case .kecamatan: "Kecamatan"
        case .kelurahan: "Kelurahan"
        case .upt: "UPT"
        }
    }

    func unitsPage(session: Session, form: FormData?, errors: [String: String], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let units = try await units(session)
        let names = Dictionary(units.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        return render("admin-units", title: "Unit Kerja", session: session, status: status, [
            "tabs": adminTabs("unit"), "notice": notice as Any, "errors": errors,
            "units": units.map { ["code": $0.code, "name": $0.name, "kind": Self.unitKind($0.kind), "parent": $0.parentID.flatMap { names[$0] } as Any,
                                  "active": $0.active, "id": $0.id.lowercasedString] as [String: Any] },
            "kinds": UnitKind.allCases.filter { $0 != .pemda }.map { ["value": $0.rawValue, "label": Self.unitKind($0), "selected": $0.rawValue == form?["jenis"]] as [String: Any] },
            "parents": units.map { ["value": $0.id.lowercasedString, "label": $0.name, "selected": $0.id.lowercasedString == form?["induk"]] as [String: Any] },
            "code": form?["kode"] ?? "", "name": form?["nama"] ?? "",
        ])
    }

    func positionsPage(session: Session, unit: UUID?, form: FormData?, errors: [String: String], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let chosen = unit ?? session.caller.user.unitID
        let positions = try await positions(of: chosen, session: session)
        let titles = Dictionary(positions.map { ($0.position.id, $0.position.title) }, uniquingKeysWith: { a, _ in a })
        return render("admin-positions", title: "Jabatan", session: session, status: status, [
            "tabs": adminTabs("jabatan"), "notice": notice as Any, "errors": errors, "unit": chosen.lowercasedString,
            "units": unitOptions(try await units(session), selected: chosen.lowercasedString),
            "positions": positions.map { ["title": $0.position.title, "holder": $0.label, "head": $0.position.isHead,
                                          "superior": $0.position.superiorID.flatMap { titles[$0] } as Any] as [String: Any] },
            "superiors": positions.map { ["value": $0.position.id.lowercasedString, "label": $0.position.title, "selected": $0.position.id.lowercasedString == form?["atasan"]] as [String: Any] },
            "name": form?["nama"] ?? "", "head": form?["kepala"] == "ya",
        ])
    }

    func usersPage(session: Session, form: FormData?, errors: [String: String], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let users = try await users(session)
        let allUnits = try await units(session)
        let units = Dictionary(allUnits.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let codes = Dictionary(allUnits.map { ($0.id, $0.code) }, uniquingKeysWith: { a, _ in a })
        let chosenRoles = Set(form?.all("peran") ?? [])
        let vacant = try await allPositions(session, unitID: nil).filter { $0.holderID == nil }
        return render("admin-users", title: "Pengguna", session: session, status: status, [
            "tabs": adminTabs("pengguna"), "notice": notice as Any, "errors": errors,
            "users": users.map { ["username": $0.username, "name": $0.fullName, "nip": $0.nip as Any, "unit": units[$0.unitID] ?? "",
                                  "roles": $0.roles.map(Indonesian.role).joined(separator: ", "), "active": $0.active] as [String: Any] },
            "units": unitOptions(allUnits, selected: form?["unit"]),
            "roles": Role.allCases.map { ["value": $0.rawValue, "label": Indonesian.role($0), "checked": chosenRoles.contains($0.rawValue)] as [String: Any] },
            "username": form?["username"] ?? "", "name": form?["nama"] ?? "", "nip": form?["nip"] ?? "",
            "vacant": vacant.map { ["value": $0.id.lowercasedString, "label": "\($0.title) (\(codes[$0.unitID] ?? ""))", "selected": $0.id.lowercasedString == form?["jabatan"]] as [String: Any] }
                .sorted { ($0["label"] as? String ?? "") < ($1["label"] as? String ?? "") },
        ])
    }

    func delegationsPage(session: Session, form: FormData?, errors: [String: String], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let delegations = try await services.organisation.listDelegations(actor: session.caller.actor, positionID: nil, page: try PageRequest(limit: PageRequest.maxLimit, cursor: nil)).items
        let users = try await users(session)
        let positions = try await allPositions(session, unitID: nil)
        let names = Dictionary(users.map { ($0.id, $0.fullName) }, uniquingKeysWith: { a, _ in a })
        let units = Dictionary(try await units(session).map { ($0.id, $0.code) }, uniquingKeysWith: { a, _ in a })
        let titles = Dictionary(positions.map { ($0.id, "\($0.title) (\(units[$0.unitID] ?? ""))") }, uniquingKeysWith: { a, _ in a })
        return render("admin-delegations", title: "Delegasi Plt./Plh.", session: session, status: status, [
            "tabs": adminTabs("delegasi"), "notice": notice as Any, "errors": errors,
            "delegations": delegations.map { ["position": titles[$0.positionID] ?? "Jabatan", "user": names[$0.userID] ?? "Pengguna", "capacity": $0.capacity.printed,
                                              "from": date($0.validFrom), "until": date($0.validUntil.addingTimeInterval(-1))] as [String: Any] },
            "positions": positions.sorted { (titles[$0.id] ?? "") < (titles[$1.id] ?? "") }.map {
                ["value": $0.id.lowercasedString, "label": titles[$0.id] ?? "", "selected": $0.id.lowercasedString == form?["jabatan"]] as [String: Any]
            },
            "users": users.sorted { $0.fullName < $1.fullName }.map {
                ["value": $0.id.lowercasedString, "label": "\($0.fullName) (\($0.username))", "selected": $0.id.lowercasedString == form?["pengguna"]] as [String: Any]
            },
            "plt": form?["sebagai"] == "plt", "plh": form?["sebagai"] == "plh",
            "from": form?["dari"] ?? Indonesian.isoDay(offset: 0, in: configuration.timeZone), "until": form?["sampai"] ?? Indonesian.isoDay(offset: 7, in: configuration.timeZone),
        ])
    }

    func workflowsPage(session: Session, form: FormData?, errors: [String: String], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let definitions = try await workflows.list()
        let allUnits = try await units(session)
        let units = Dictionary(allUnits.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        func stepText(_ step: WorkflowStep) -> String {
            let who = switch step.actor {
            case .superiorOfDrafter: "atasan konseptor"
            case .headOfDrafterUnit: "kepala perangkat daerah"
            case .position: "jabatan tertentu"
            }
            let what = switch step.kind { case .sign: "Tanda tangan"; case .reviewCoordination: "Paraf koordinasi"; case .reviewHierarchy: "Paraf" }
            return "\(what) oleh \(who)" + (step.deadlineHours.map { " (\($0) jam)" } ?? "")
        }
        return render("admin-workflows", title: "Alur Naskah", session: session, status: status, [
            "tabs": adminTabs("alur"), "notice": notice as Any, "errors": errors,
            "workflows": definitions.map { ["name": $0.name, "version": $0.version, "type": $0.letterType?.title ?? "Semua jenis",
                                            "unit": $0.unitID.flatMap { units[$0] } ?? "Semua unit",
                                            "steps": $0.definition.steps.map { ["text": stepText($0)] }] as [String: Any] },
            "types": LetterType.allCases.map { ["value": $0.rawValue, "label": $0.title, "selected": $0.rawValue == form?["jenis"]] as [String: Any] },
            "units": unitOptions(allUnits, selected: form?["unit"]),
            "name": form?["nama"] ?? "",
            "steps": (1...4).map { index -> [String: Any] in
                let kind = form?["langkah\(index)"] ?? (index == 1 ? "paraf" : (index == 2 ? "tandatangan" : "tidak"))
                let actor = form?["pelaku\(index)"] ?? (index == 1 ? "atasan" : "kepala")
                return ["index": index, "kinds": [("tidak", "Tidak dipakai"), ("paraf", "Paraf"), ("koordinasi", "Paraf koordinasi"), ("tandatangan", "Tanda tangan")].map {
                    ["value": $0.0, "label": $0.1, "selected": $0.0 == kind] as [String: Any]
                }, "actors": [("atasan", "Atasan konseptor"), ("kepala", "Kepala perangkat daerah")].map {
                    ["value": $0.0, "label": $0.1, "selected": $0.0 == actor] as [String: Any]
                }, "hours": form?["jam\(index)"] ?? "24"]
            },
        ])
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let fractional: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
