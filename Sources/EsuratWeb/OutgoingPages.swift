import EsuratDomain
import EsuratHTTP
import EsuratServices
import EsuratSigning
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Naskah Keluar: drafting, editing with the version check, submitting, paraf, returning,
/// signing with the passphrase, attachments, history, deliveries and verification.
extension WebUI {
    /// Service field names → the form's field names.
    static let draftFields: [String: String] = [
        "type": "jenis", "subject": "hal", "classificationCode": "klasifikasi", "securityLevel": "sifat", "urgency": "urgensi",
        "body": "isi", "recipients": "tujuan", "reviewerPositionIds": "pemeriksa", "signerPositionId": "penandatangan", "signingCapacity": "atas-nama",
        "If-Match": "versi", "Content-Type": "lampiran", "body.attachment": "lampiran",
    ]

    func registerOutgoing(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/naskah-keluar", use: page { request, _, session, _ in
            let tab = request.uri.queryParameters.get("tab") ?? "konsep"
            let box = switch tab { case "terkirim": "outbox"; case "diproses": "submitted"; default: "drafts" }
            let letters = try await self.services.letters.list(box: box, caller: session.caller, page: try PageRequest(limit: 100, cursor: nil))
            return self.render("outgoing", title: "Naskah Keluar", session: session, [
                "tabs": [("konsep", "Konsep & Dikembalikan"), ("diproses", "Sedang Diproses"), ("terkirim", "Terkirim")].map {
                    ["key": $0.0, "label": $0.1, "current": $0.0 == tab] as [String: Any]
                },
                "letters": letters.items.map(self.letterSummary), "empty": letters.items.isEmpty,
            ])
        })
        web.get("/naskah-keluar/baru", use: page { _, _, session, _ in
            try await self.editor(session: session, letter: nil, form: nil, errors: [:], summary: nil)
        })
        web.post("/naskah-keluar", use: page { _, _, session, form in
            let (draft, attachment, errors) = try await self.draft(from: form, session: session)
            guard errors.isEmpty, let draft else {
                return try await self.editor(session: session, letter: nil, form: form, errors: errors, summary: "Periksa kembali isian yang ditandai.")
            }
            do {
                let letter = try await self.services.letters.create(draft, caller: session.caller, request: self.requestInfo)
                if let attachment { try await self.attach(attachment, to: letter.id, session: session) }
                return Self.redirect("/naskah/\(letter.id.lowercasedString)?pesan=disimpan")
            } catch let error as ServiceError where [.validation, .unprocessable, .payloadTooLarge, .unsupportedMediaType].contains(error.kind) {
                return try await self.editor(session: session, letter: nil, form: form, errors: Self.fieldErrors(error, mapping: Self.draftFields),
                                             summary: Indonesian.summary(error), status: .unprocessableContent)
            }
        })
        web.get("/naskah/{id}", use: page { request, _, session, _ in
            try await self.letterPage(try Self.id(request), session: session, notice: Self.notice(request))
        })
        web.get("/naskah/{id}/ubah", use: page { request, _, session, _ in
            let letter = try await self.services.letters.letter(try Self.id(request), caller: session.caller)
            return try await self.editor(session: session, letter: letter, form: nil, errors: [:], summary: nil)
        })
        web.post("/naskah/{id}/ubah", use: page { request, _, session, form in
            let id = try Self.id(request)
            let letter = try await self.services.letters.letter(id, caller: session.caller)
            let (draft, _, errors) = try await self.draft(from: form, session: session)
            guard errors.isEmpty, let draft else {
                return try await self.editor(session: session, letter: letter, form: form, errors: errors, summary: "Periksa kembali isian yang ditandai.")
            }
            guard let version = form["versi"].flatMap(Int.init) else {
                return try await self.editor(session: session, letter: letter, form: form, errors: ["versi": "Muat ulang halaman ini."], summary: "Formulir tidak lengkap.")
            }
            do {
                _ = try await self.services.letters.update(id, draft, expectedVersion: version, caller: session.caller, request: self.requestInfo)
                return Self.redirect("/naskah/\(id.lowercasedString)?pesan=disimpan")
            } catch let error as ServiceError where [.validation, .unprocessable, .conflict].contains(error.kind) {
                let current = try await self.services.letters.letter(id, caller: session.caller)
                return try await self.editor(session: session, letter: current, form: form, errors: Self.fieldErrors(error, mapping: Self.draftFields),
                                             summary: Indonesian.summary(error), status: error.kind == .conflict ? .conflict : .unprocessableContent)
            }
        })
        web.post("/naskah/{id}/ajukan", use: page { request, _, session, _ in
            let id = try Self.id(request)
            _ = try await self.services.letters.submit(id, caller: session.caller, request: self.requestInfo)
            return Self.redirect("/naskah/\(id.lowercasedString)?pesan=diajukan")
        })
        web.post("/naskah/{id}/tarik", use: page { request, _, session, _ in
            let id = try Self.id(request)
            _ = try await self.services.letters.withdraw(id, caller: session.caller, request: self.requestInfo)
            return Self.redirect("/naskah/\(id.lowercasedString)?pesan=ditarik")
        })
        web.post("/naskah/{id}/paraf", use: page { request, _, session, form in
            let id = try Self.id(request)
            _ = try await self.services.letters.review(id, approve: true, note: form.text("catatan"), caller: session.caller, request: self.requestInfo)
            return Self.redirect(Self.safeReturn(form["kembali"] ?? "/?pesan=diparaf"))
        })
        web.post("/naskah/{id}/kembalikan", use: page { request, _, session, form in
            let id = try Self.id(request)
            guard let note = form.text("catatan") else {
                return try await self.letterPage(id, session: session, notice: nil, errors: ["catatan": "Tuliskan alasan naskah dikembalikan."], status: .unprocessableContent)
            }
            do {
                _ = try await self.services.letters.review(id, approve: false, note: note, caller: session.caller, request: self.requestInfo)
            } catch let error as ServiceError where error.kind == .validation {
                return try await self.letterPage(id, session: session, notice: nil, errors: Self.fieldErrors(error, mapping: ["note": "catatan"]), status: .unprocessableContent)
            }
            return Self.redirect("/?pesan=dikembalikan")
        })
        web.post("/naskah/{id}/tandatangani", use: page { request, _, session, form in
            try await self.sign(try Self.id(request), session: session, form: form)
        })
        web.post("/naskah/{id}/lampiran", use: page { request, _, session, form in
            let id = try Self.id(request)
            guard let file = form.file("lampiran") else {
                return try await self.letterPage(id, session: session, notice: nil, errors: ["lampiran": "Pilih berkas yang akan dilampirkan."], status: .unprocessableContent)
            }
            if let problem = Self.attachmentProblem(file) {
                return try await self.letterPage(id, session: session, notice: nil, errors: ["lampiran": problem], status: .unprocessableContent)
            }
            do {
                try await self.attach(file, to: id, session: session)
            } catch let error as ServiceError where [.validation, .unprocessable, .payloadTooLarge, .unsupportedMediaType].contains(error.kind) {
                return try await self.letterPage(id, session: session, notice: nil, errors: ["lampiran": Indonesian.summary(error)], status: .unprocessableContent)
            }
            return Self.redirect("/naskah/\(id.lowercasedString)?pesan=dilampirkan")
        })
        web.get("/naskah/{id}/lampiran/{attachment}", use: page { request, context, session, _ in
            let id = try Self.id(request)
            guard let attachmentID = context.parameters.get("attachment").flatMap(UUID.init(uuidString:)) else { throw HTTPError(.notFound) }
            let (record, content) = try await self.services.letters.attachment(attachmentID, of: id, caller: session.caller)
            return Self.download(content, type: record.mediaType, filename: record.filename)
        })
        web.get("/naskah/{id}/pdf", use: page { request, _, session, _ in
            let id = try Self.id(request)
            return Self.download(try await self.services.pdfs.pdf(id, caller: session.caller), type: "application/pdf", filename: "naskah-\(id.lowercasedString).pdf")
        })
        web.get("/naskah/{id}/dokumen", use: page { request, _, session, _ in
            let id = try Self.id(request)
            let (document, _) = try await self.services.letters.signedDocument(id, caller: session.caller)
            return Self.download(document, type: "application/json", filename: "naskah-\(id.lowercasedString).json")
        })
        web.get("/naskah/{id}/verifikasi", use: page { request, _, session, _ in
            let id = try Self.id(request)
            let letter = try await self.services.letters.letter(id, caller: session.caller)
            let report = try await self.services.letters.verification(id, caller: session.caller)
            return self.render("verify", title: "Verifikasi Tanda Tangan", session: session, [
                "letter": self.letterSummary(letter), "passed": report.passed,
                "verdict": report.passed
                    ? "Tanda tangan elektronik sah. Naskah ini ditandatangani oleh pemilik sertifikat dan isinya tidak berubah sejak ditandatangani."
                    : (report.indication == .indeterminate
                        ? "Keabsahan tanda tangan belum dapat dipastikan saat ini."
                        : "Tanda tangan elektronik TIDAK sah. Jangan gunakan naskah ini sebelum dikonfirmasi ke pengirim."),
                "signer": report.signer?.commonName as Any, "nip": report.signer?.nip as Any,
                "certificate": report.signer?.certificateSerial as Any,
                "validUntil": self.date(report.signer?.notAfter),
                "timestamp": report.timestamp.map { self.dateTime($0.time) } as Any,
                "checks": report.checks.map { ["passed": $0.passed, "text": Indonesian.verificationCheck($0.name, passed: $0.passed)] as [String: Any] },
                "validatedAt": self.dateTime(report.validatedAt),
            ])
        })
        web.get("/klasifikasi", use: page { request, _, session, _ in
            let query = (request.uri.queryParameters.get("q") ?? request.uri.queryParameters.get("klasifikasi")).map { String($0).trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let all = try await self.classifications.list().filter(\.active)
            let found = query.isEmpty ? Array(all.prefix(30)) : all.filter { $0.code.hasPrefix(query) || $0.title.lowercased().contains(query) }.prefix(30).map { $0 }
            let data: [String: Any] = ["results": found.map { ["code": $0.code, "title": $0.title] }, "empty": found.isEmpty, "query": query]
            // htmx asks for the list alone; a browser without JavaScript gets the whole page.
            if request.headers[HTTPField.Name("HX-Request")!] == "true" { return self.render("kka-results", title: "", session: session, data) }
            return self.render("kka", title: "Cari Kode Klasifikasi", session: session, data)
        })
    }

    static func id(_ request: Request) throws -> UUID {
        let parts = request.uri.path.split(separator: "/")
        guard parts.count >= 2, let id = UUID(uuidString: String(parts[1])) else { throw HTTPError(.notFound) }
        return id
    }

    static func download(_ bytes: [UInt8], type: String, filename: String) -> Response {
        var headers: HTTPFields = [.contentType: type]
        let ascii = filename.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && !$0.isNewline }
        headers[.contentDisposition] = "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The fixed notices a redirect may ask for; never text from the URL itself.
    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("pesan") {
        case "disimpan": "Konsep disimpan."
        case "diajukan": "Naskah diajukan untuk diparaf."
        case "ditarik": "Naskah ditarik kembali menjadi konsep."
        case "diparaf": "Naskah telah Anda paraf."
        case "dikembalikan": "Naskah dikembalikan kepada konseptor."
        case "ditandatangani": "Naskah telah ditandatangani dan diberi nomor. Pengiriman ke penerima sedang berjalan."
        case "dilampirkan": "Lampiran ditambahkan."
        case "diregistrasi": "Naskah masuk telah diregistrasi."
        case "didisposisikan": "Disposisi telah dikirim."
        case "diteruskan": "Disposisi telah diteruskan."
        case "selesai": "Laporan tindak lanjut telah dikirim."
        case "dibatalkan": "Disposisi dibatalkan."
        case "disimpan-admin": "Perubahan disimpan."
        case "ekspor": "Permintaan ekspor arsip dicatat. Halaman ini menunjukkan kemajuannya."
        default: nil
        }
    }

    // MARK: Pieces

    func letterSummary(_ letter: LetterRecord) -> [String: Any] {
        [
            "id": letter.id.lowercasedString, "subject": letter.subject, "number": letter.number as Any,
            "type": letter.type.title, "status": Indonesian.status(letter.status), "statusKey": letter.status.rawValue,
            "urgency": letter.urgency.title, "urgent": letter.urgency != .biasa, "security": Indonesian.security(letter.securityLevel),
            "signedAt": self.date(letter.signedAt), "returned": letter.status == .returned,
        ]
    }

    /// Every item of a paged service list, a page of the largest size at a time.
    func everyPage<Item: Sendable>(_ fetch: (PageRequest) async throws -> Page<Item>) async throws -> [Item] {
        var all: [Item] = []
        var cursor: String?
        repeat {
            let page = try await fetch(try PageRequest(limit: PageRequest.maxLimit, cursor: cursor))
            all += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return all
    }

    /// Every unit, for recipients and pickers.
    func units(_ session: Session) async throws -> [UnitRecord] {
        try await everyPage { try await services.organisation.listUnits(actor: session.caller.actor, page: $0) }
    }

    /// Every position, of one unit or (nil) of all.
    func allPositions(_ session: Session, unitID: UUID?) async throws -> [PositionRecord] {
        try await everyPage { try await services.organisation.listPositions(actor: session.caller.actor, unitID: unitID, page: $0) }
    }

    /// Every user account the caller may list.
    func users(_ session: Session) async throws -> [UserRecord] {
        try await everyPage { try await services.organisation.listUsers(actor: session.caller.actor, page: $0) }
    }

    /// Positions of a unit with their holders' names ("Sekretaris — Siti Nur'aini").
    func positions(of unitID: UUID, session: Session) async throws -> [(position: PositionRecord, label: String)] {
        let positions = try await allPositions(session, unitID: unitID)
        let names = Dictionary(try await users(session).map { ($0.id, $0.fullName) }, uniquingKeysWith: { a, _ in a })
        // Head first, then by title, so the pickers read like the organisation chart.
        return positions.sorted { ($0.isHead ? 0 : 1, $0.title) < ($1.isHead ? 0 : 1, $1.title) }.map { position in
            (position, position.holderID.flatMap { names[$0] }.map { "\(position.title) — \($0)" } ?? "\(position.title) (kosong)")
        }
    }

    /// A file the services would refuse, said before anything is written.
    static func attachmentProblem(_ file: FormData.File) -> String? {
        if file.bytes.isEmpty { return "Berkas kosong. Pilih berkas lain." }
        if file.bytes.count > LetterService.maxAttachmentBytes { return "Berkas terlalu besar. Ukuran lampiran paling besar \(LetterService.maxAttachmentBytes >> 20) MB." }
        if !LetterService.allowedAttachmentTypes.contains(file.mediaType) {
            return "Jenis berkas ini tidak dapat dilampirkan. Gunakan PDF, PNG, JPEG, teks, atau dokumen Word/Excel/ODF."
        }
        return nil
    }

    func attach(_ file: FormData.File, to id: UUID, session: Session) async throws {
        let bytes = file.bytes
        let chunks = stride(from: 0, to: bytes.count, by: 64 * 1024).map { Array(bytes[$0..<min($0 + 64 * 1024, bytes.count)]) }
        _ = try await services.letters.addAttachment(
            to: id, filename: file.filename, mediaType: file.mediaType, body: chunks.async, caller: session.caller, request: requestInfo)
    }

    /// The draft a form describes, or the errors of fields the services cannot judge
    /// (a unit both addressee and copy, a file they would refuse).
    func draft(from form: FormData, session: Session) async throws -> (LetterDraft?, FormData.File?, [String: String]) {
        var errors: [String: String] = [:]
        let to = form.all("tujuan").compactMap(UUID.init(uuidString:))
        let cc = form.all("tembusan").compactMap(UUID.init(uuidString:))
        if to.isEmpty { errors["tujuan"] = "Pilih paling sedikit satu unit tujuan." }
        if !Set(to).isDisjoint(with: cc) { errors["tembusan"] = "Unit yang sama tidak boleh menjadi tujuan sekaligus tembusan." }
        if form.text("hal") == nil { errors["hal"] = "Wajib diisi." }
        if form.text("klasifikasi") == nil { errors["klasifikasi"] = "Wajib diisi. Cari kodenya bila belum tahu." }
        let file = form.file("lampiran")
        if let file, let problem = Self.attachmentProblem(file) { errors["lampiran"] = problem }
        let signer = form.text("penandatangan").flatMap(UUID.init(uuidString:))
        let reviewers = form.all("pemeriksa").compactMap(UUID.init(uuidString:))
        if signer == nil, !reviewers.isEmpty { errors["penandatangan"] = "Pilih penanda tangan bila memilih pemeriksa sendiri." }
        let atasNama = form["atas-nama"] == "ya"
        if signer == nil, atasNama { errors["atas-nama"] = "Pilih penanda tangan yang menandatangani atas nama pimpinannya." }
        guard errors.isEmpty else { return (nil, nil, errors) }
        let draft = LetterDraft(
            type: form["jenis"] ?? "", subject: form["hal"] ?? "", classificationCode: form.text("klasifikasi") ?? "",
            securityLevel: form["sifat"] ?? "", urgency: form["urgensi"] ?? "", body: form["isi"] ?? "",
            recipients: to.map { ($0, "to") } + cc.map { ($0, "cc") }, signerPositionID: signer, reviewerPositionIDs: signer == nil ? nil : reviewers,
            signingCapacity: atasNama ? "an" : nil)
        return (draft, file, [:])
    }

    func editor(session: Session, letter: LetterRecord?, form: FormData?, errors: [String: String], summary: String?,
                status: HTTPResponse.Status = .unprocessableContent) async throws -> Response {
        let units = try await units(session).filter(\.active)
        let positions = try await positions(of: session.caller.user.unitID, session: session)
        let codes = try await classifications.list().filter(\.active)
        func value(_ name: String, _ fromLetter: String) -> String { form?[name] ?? fromLetter }
        let to = Set(form?.all("tujuan") ?? letter?.recipients.filter { $0.role == "to" }.map { $0.unitID.lowercasedString } ?? [])
        let cc = Set(form?.all("tembusan") ?? letter?.recipients.filter { $0.role == "cc" }.map { $0.unitID.lowercasedString } ?? [])
        let reviewers = Set(form?.all("pemeriksa") ?? [])
        let type = value("jenis", letter?.type.rawValue ?? LetterType.suratDinas.rawValue)
        let security = value("sifat", letter?.securityLevel.rawValue ?? SecurityLevel.biasa.rawValue)
        let urgency = value("urgensi", letter?.urgency.rawValue ?? Urgency.biasa.rawValue)
        let signer = form?["penandatangan"] ?? ""
        let others = units.filter { $0.id != session.caller.user.unitID }
        let data: [String: Any] = [
            "editing": letter != nil, "id": letter?.id.lowercasedString as Any, "version": letter.map { String($0.version) } as Any,
            "action": letter.map { "/naskah/\($0.id.lowercasedString)/ubah" } ?? "/naskah-keluar",
            "multipart": letter == nil,
            "summary": summary as Any, "errors": errors, "hasErrors": !errors.isEmpty,
            "subject": value("hal", letter?.subject ?? ""), "classification": value("klasifikasi", letter?.classificationCode ?? ""),
            "body": value("isi", letter?.body ?? ""),
            "types": LetterType.allCases.map { ["value": $0.rawValue, "label": $0.title, "selected": $0.rawValue == type] as [String: Any] },
            "securityLevels": SecurityLevel.allCases.map { ["value": $0.rawValue, "label": Indonesian.security($0), "checked": $0.rawValue == security] as [String: Any] },
            "urgencies": Urgency.allCases.map { ["value": $0.rawValue, "label": $0.title, "checked": $0.rawValue == urgency] as [String: Any] },
            "toUnits": others.map { ["value": $0.id.lowercasedString, "label": $0.name, "checked": to.contains($0.id.lowercasedString)] as [String: Any] },
            "ccUnits": others.map { ["value": $0.id.lowercasedString, "label": $0.name, "checked": cc.contains($0.id.lowercasedString)] as [String: Any] },
            "reviewers": positions.map { ["value": $0.position.id.lowercasedString, "label": $0.label, "checked": reviewers.contains($0.position.id.lowercasedString)] as [String: Any] },
            "signers": positions.filter { $0.position.holderID != nil }.map {
                ["value": $0.position.id.lowercasedString, "label": $0.label, "selected": $0.position.id.lowercasedString == signer] as [String: Any]
            },
            "codes": codes.map { ["code": $0.code, "title": $0.title] },
            "atasNama": form?["atas-nama"] == "ya",
        ]
        return render("editor", title: letter == nil ? "Konsep Naskah Baru" : "Ubah Konsep", session: session, status: errors.isEmpty && summary == nil ? .ok : status, data)
    }

    /// The letter page: its content, route, history, attachments and deliveries, with the
    /// actions open to the caller at this step.
    func letterPage(_ id: UUID, session: Session, notice: String?, errors: [String: String] = [:], signError: String? = nil,
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        let letter = try await services.letters.letter(id, caller: session.caller)
        let unitNames = Dictionary(try await units(session).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var positionTitles: [UUID: String] = [:]
        for positionID in Set(letter.route.map(\.positionID) + letter.history.compactMap(\.actingPositionID)) {
            positionTitles[positionID] = (try? await services.organisation.position(positionID, actor: session.caller.actor))?.title ?? "Jabatan"
        }
        let mine = Set(session.caller.actor.positions.map(\.positionID))
        let waiting = letter.currentStep.map { letter.route[$0] }
        let myStep = waiting.map { mine.contains($0.positionID) || ($0.escalationPositionID.map(mine.contains) ?? false) } ?? false
        let isDrafter = letter.drafterUserID == session.caller.user.id
        let editable = isDrafter && (letter.status == .draft || letter.status == .returned)
        let deliveries = letter.status == .signed || letter.status == .dispatching || letter.status == .delivered
            ? try await services.letters.deliveries(id, caller: session.caller) : []
        let returnNote = letter.history.last { $0.action == "letter.returned" }?.note
        let data: [String: Any] = [
            "letter": letterSummary(letter), "body": letter.body, "classification": letter.classificationCode,
            "notice": notice as Any, "errors": errors, "signError": signError as Any,
            "recipients": letter.recipients.map { ["name": unitNames[$0.unitID] ?? "Unit", "role": Indonesian.recipientRole($0.role)] },
            "route": letter.route.enumerated().map { index, step in
                [
                    "title": positionTitles[step.positionID] ?? "Jabatan",
                    "kind": step.kind == .sign ? "Tanda tangan" : "Paraf",
                    "state": letter.currentStep.map { index < $0 ? "sudah" : (index == $0 ? "menunggu" : "belum") }
                        ?? ([.signed, .dispatching, .delivered].contains(letter.status) ? "sudah" : "belum"),
                    "current": letter.currentStep == index,
                ] as [String: Any]
            },
            "history": letter.history.map { entry in
                [
                    "when": dateTime(entry.at), "what": Indonesian.historyAction(entry.action),
                    "who": entry.actingPositionID.flatMap { positionTitles[$0] }.map { (Indonesian.capacity(entry.actingCapacity).map { "\($0) " } ?? "") + $0 } as Any,
                    "note": entry.note as Any,
                ] as [String: Any]
            },
            "attachments": letter.attachments.map {
                ["id": $0.id.lowercasedString, "filename": $0.filename, "size": Self.size($0.size), "letterId": letter.id.lowercasedString] as [String: Any]
            },
            "deliveries": deliveries.map {
                [
                    "name": unitNames[$0.unitID] ?? "Unit", "role": Indonesian.recipientRole($0.role), "state": Indonesian.deliveryState($0.acceptedAt != nil ? "accepted" : $0.state),
                    "deliveredAt": dateTime($0.deliveredAt), "acceptedAt": dateTime($0.acceptedAt),
                ] as [String: Any]
            },
            "hasDeliveries": !deliveries.isEmpty, "hasRoute": !letter.route.isEmpty, "hasHistory": !letter.history.isEmpty,
            "returnNote": letter.status == .returned ? returnNote as Any : NSNull(),
            "canEdit": editable, "canSubmit": editable, "canAttach": editable,
            "canWithdraw": isDrafter && (letter.status == .inReview || letter.status == .awaitingSignature),
            "canReview": myStep && letter.status == .inReview,
            "canSign": myStep && letter.status == .awaitingSignature,
            "canReturn": myStep && (letter.status == .inReview || letter.status == .awaitingSignature),
            "signed": letter.number != nil,
            "formKey": UUID().uuidString.lowercased(),
            "retention": letter.retention.map { _ in "Dijadwalkan menurut JRA kode \(letter.classificationCode)" } as Any,
        ]
        return render("letter", title: letter.subject, session: session, status: status, data)
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / Double(1 << 20)).replacingOccurrences(of: ".", with: ",")
            : "\(max(1, bytes / 1024)) KB"
    }

    /// Signs once per form: the form's one-time key goes through the idempotency store, so
    /// a double tap (or a resend after a lost response) replays the first outcome instead of
    /// signing twice. The passphrase is used and dropped: never logged, stored or echoed.
    func sign(_ id: UUID, session: Session, form: FormData) async throws -> Response {
        let passphrase = form["passphrase"] ?? ""
        guard !passphrase.isEmpty else {
            return try await letterPage(id, session: session, notice: nil, signError: "Isi passphrase tanda tangan elektronik Anda.", status: .unprocessableContent)
        }
        let key = "web-sign:" + (form.text("kunci") ?? UUID().uuidString).prefix(64)
        let user = session.caller.user.id
        let hash = "sign:\(id.lowercasedString)"
        var claimed = false
        for _ in 0..<50 {
            do {
                switch try await idempotency.claim(user: user, key: key, hash: hash) {
                case .proceed:
                    claimed = true
                case .replay(_, _, let body):
                    return Self.redirect(Self.safeReturn(String(decoding: body, as: UTF8.self)))
                }
                break
            } catch let error as ServiceError where error.kind == .conflict {
                // The first tap is still signing: wait for its outcome.
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        guard claimed else { return Self.redirect("/naskah/\(id.lowercasedString)") }
        do {
            _ = try await services.letters.sign(id, passphrase: passphrase, caller: session.caller, request: requestInfo)
            let location = "/naskah/\(id.lowercasedString)?pesan=ditandatangani"
            try await idempotency.complete(user: user, key: key, status: 303, contentType: nil, body: Array(location.utf8))
            return Self.redirect(location)
        } catch let error as ServiceError {
            try? await idempotency.abandon(user: user, key: key)
            if error.kind == .rateLimited {
                return try await letterPage(
                    id, session: session, notice: nil,
                    signError: "Terlalu banyak passphrase yang salah. Penandatanganan Anda ditahan selama \(Indonesian.minutes(error.retryAfterSeconds ?? 900)); coba lagi sesudahnya.",
                    status: .tooManyRequests)
            }
            if error.kind == .unprocessable || error.kind == .validation {
                let message = error.fields.first { $0.field == "passphrase" }.map { Indonesian.fieldMessage($0.message) } ?? Indonesian.summary(error)
                return try await letterPage(id, session: session, notice: nil, signError: message, status: .unprocessableContent)
            }
            throw error
        } catch {
            try? await idempotency.abandon(user: user, key: key)
            throw error
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for service APIs that stream.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
