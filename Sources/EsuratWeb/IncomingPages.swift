import EsuratDomain
import EsuratHTTP
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Naskah Masuk and Disposisi: the inbox with search, an incoming letter with its document
/// and attachments, registration, dispositions down the hierarchy and their follow-up.
extension WebUI {
    func registerIncoming(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/naskah-masuk", use: page { request, _, session, _ in
            let state = request.uri.queryParameters.get("status").map { String($0) } ?? "all"
            let query = request.uri.queryParameters.get("q").map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let safeState = ["new", "registered", "all"].contains(state) ? state : "all"
            var searchError: String?
            var entries: [InboxService.Entry] = []
            do {
                entries = try await self.inbox.list(caller: session.caller, state: safeState, urgency: nil, search: query, page: try PageRequest(limit: 100, cursor: nil)).items
            } catch let error as ServiceError where error.kind == .validation {
                searchError = Self.fieldErrors(error)["q"] ?? Indonesian.summary(error)
            }
            return self.render("inbox", title: "Naskah Masuk", session: session, [
                "query": query ?? "", "searchError": searchError as Any,
                "filters": [("all", "Semua"), ("new", "Belum diregistrasi"), ("registered", "Teregistrasi")].map {
                    ["key": $0.0, "label": $0.1, "current": $0.0 == safeState] as [String: Any]
                },
                "entries": entries.map(self.entrySummary), "empty": entries.isEmpty,
            ])
        })
        web.get("/naskah-masuk/{id}", use: page { request, _, session, _ in
            try await self.entryPage(try Self.id(request), session: session, notice: Self.notice(request))
        })
        web.get("/naskah-masuk/{id}/lampiran/{attachment}", use: page { request, context, session, _ in
            let id = try Self.id(request)
            guard let attachmentID = context.parameters.get("attachment").flatMap(UUID.init(uuidString:)) else { throw HTTPError(.notFound) }
            let (record, content) = try await self.inbox.attachment(attachmentID, entry: id, caller: session.caller)
            return Self.download(content, type: record.mediaType, filename: record.filename)
        })
        web.get("/naskah-masuk/{id}/pdf", use: page { request, _, session, _ in
            let id = try Self.id(request)
            return Self.download(try await self.services.pdfs.pdf(entry: id, caller: session.caller), type: "application/pdf", filename: "naskah-masuk-\(id.lowercasedString).pdf")
        })
        web.get("/naskah-masuk/{id}/dokumen", use: page { request, _, session, _ in
            let view = try await self.inbox.view(try Self.id(request), caller: session.caller)
            return Self.download(view.document, type: "application/json", filename: "naskah-\(view.entry.letterID.lowercasedString).json")
        })
        web.post("/naskah-masuk/{id}/registrasi", use: page { request, _, session, _ in
            let id = try Self.id(request)
            _ = try await self.inbox.register(id, caller: session.caller, request: self.requestInfo)
            return Self.redirect("/naskah-masuk/\(id.lowercasedString)?pesan=diregistrasi")
        })
        web.post("/naskah-masuk/{id}/disposisi", use: page { request, _, session, form in
            let id = try Self.id(request)
            let order = Self.order(form, timeZone: self.configuration.timeZone)
            guard order.errors.isEmpty else {
                return try await self.entryPage(id, session: session, notice: nil, form: form, errors: order.errors, status: .unprocessableContent)
            }
            do {
                _ = try await self.dispositions.dispose(entry: id, order.order, caller: session.caller, request: self.requestInfo)
            } catch let error as ServiceError where error.kind == .validation || error.kind == .unprocessable {
                return try await self.entryPage(id, session: session, notice: nil, form: form, errors: Self.fieldErrors(error, mapping: Self.orderFields), status: .unprocessableContent)
            }
            return Self.redirect("/naskah-masuk/\(id.lowercasedString)?pesan=didisposisikan")
        })
        web.post("/disposisi/{id}/batal", use: page { request, _, session, form in
            let id = try Self.id(request)
            try await self.dispositions.cancel(id, caller: session.caller, request: self.requestInfo)
            return Self.redirect(Self.safeReturn(form["kembali"]) + "?pesan=dibatalkan")
        })
        web.get("/disposisi", use: page { request, _, session, _ in
            let state = request.uri.queryParameters.get("status").map { String($0) } ?? "open"
            let safe = ["open", "done", "overdue"].contains(state) ? state : "open"
            let nodes = try await self.dispositions.assigned(caller: session.caller, state: safe)
            var rows: [[String: Any]] = []
            let labels = try await self.instructionLabels()
            for node in nodes {
                rows.append(try await self.dispositionSummary(node, session: session, labels: labels))
            }
            return self.render("dispositions", title: "Disposisi", session: session, [
                "filters": [("open", "Perlu tindak lanjut"), ("overdue", "Lewat batas waktu"), ("done", "Selesai")].map {
                    ["key": $0.0, "label": $0.1, "current": $0.0 == safe] as [String: Any]
                },
                "items": rows, "empty": rows.isEmpty,
            ])
        })
        web.get("/disposisi/{id}", use: page { request, _, session, _ in
            // Opening a disposition addressed to me is reading it (SRIKANDI's "Dibaca"): the
            // sender sees when.
            let node = try await self.dispositions.open(try Self.id(request), caller: session.caller, request: self.requestInfo)
            return try await self.dispositionPage(node, session: session, notice: Self.notice(request))
        })
        web.post("/disposisi/{id}/teruskan", use: page { request, _, session, form in
            let id = try Self.id(request)
            let order = Self.order(form, timeZone: self.configuration.timeZone)
            guard order.errors.isEmpty else {
                let node = try await self.dispositions.open(id, caller: session.caller, request: self.requestInfo)
                return try await self.dispositionPage(node, session: session, notice: nil, form: form, errors: order.errors, status: .unprocessableContent)
            }
            do {
                _ = try await self.dispositions.forward(id, order.order, caller: session.caller, request: self.requestInfo)
            } catch let error as ServiceError where error.kind == .validation || error.kind == .unprocessable {
                let node = try await self.dispositions.open(id, caller: session.caller, request: self.requestInfo)
                return try await self.dispositionPage(node, session: session, notice: nil, form: form, errors: Self.fieldErrors(error, mapping: Self.orderFields), status: .unprocessableContent)
            }
            return Self.redirect("/disposisi/\(id.lowercasedString)?pesan=diteruskan")
        })
        web.post("/disposisi/{id}/selesai", use: page { request, _, session, form in
            let id = try Self.id(request)
            do {
                _ = try await self.dispositions.complete(id, report: form["laporan"] ?? "", caller: session.caller, request: self.requestInfo)
            } catch let error as ServiceError where error.kind == .validation {
                let node = try await self.dispositions.open(id, caller: session.caller, request: self.requestInfo)
                var errors = Self.fieldErrors(error, mapping: ["report": "laporan"])
                if (form.text("laporan") ?? "").isEmpty { errors["laporan"] = "Tuliskan laporan tindak lanjut." }
                return try await self.dispositionPage(node, session: session, notice: nil, form: form, errors: errors, status: .unprocessableContent)
            }
            return Self.redirect("/disposisi/\(id.lowercasedString)?pesan=selesai")
        })
    }

    static let orderFields = ["toPositionIds": "kepada", "instructions": "instruksi", "note": "catatan", "dueDate": "batas"]

    /// A disposition order from the form: the chosen positions, instructions, note and due
    /// date (a chip: 3, 7 or 14 days, none, or a picked date).
    static func order(_ form: FormData, timeZone: TimeZone) -> (order: DispositionService.Order, errors: [String: String]) {
        var errors: [String: String] = [:]
        let to = form.all("kepada").compactMap(UUID.init(uuidString:))
        if to.isEmpty { errors["kepada"] = "Pilih paling sedikit satu penerima disposisi." }
        let instructions = form.all("instruksi")
        if instructions.isEmpty { errors["instruksi"] = "Pilih paling sedikit satu instruksi." }
        var due: String?
        switch form["batas"] ?? "bawaan" {
        case "3": due = Indonesian.isoDay(offset: 3, in: timeZone)
        case "7": due = Indonesian.isoDay(offset: 7, in: timeZone)
        case "14": due = Indonesian.isoDay(offset: 14, in: timeZone)
        case "tanggal":
            due = form.text("tanggal")
            if due == nil { errors["batas"] = "Pilih tanggal batas waktu." }
        default: due = nil
        }
        if let picked = due, picked < Indonesian.isoDay(offset: 0, in: timeZone) {
            errors["batas"] = "Batas waktu tidak boleh sebelum hari ini."
        }
        return (DispositionService.Order(toPositionIDs: to, instructions: instructions, note: form.text("catatan"), dueDate: due), errors)
    }

    func entrySummary(_ entry: InboxService.Entry) -> [String: Any] {
        [
            "id": entry.id.lowercasedString, "subject": entry.subject, "number": entry.number as Any, "from": entry.fromUnitName,
            "receivedAt": dateTime(entry.receivedAt), "agenda": entry.agendaNumber.map(String.init) as Any,
            "state": Indonesian.inboxState(entry.state), "isNew": entry.state == "new", "copy": entry.role == "cc",
            "urgency": entry.urgency.title, "urgent": entry.urgency != .biasa, "security": Indonesian.security(entry.securityLevel),
            "unread": entry.readAt == nil,
        ]
    }

    /// The positions of `all` (one unit's) strictly below `position`, for the disposition pickers.
    static func subordinates(of position: UUID, in all: [(position: PositionRecord, label: String)]) -> [(position: PositionRecord, label: String)] {
        var below: Set<UUID> = []
        var frontier: Set<UUID> = [position]
        while !frontier.isEmpty {
            let next = Set(all.filter { $0.position.superiorID.map(frontier.contains) ?? false }.map(\.position.id)).subtracting(below)
            below.formUnion(next)
            frontier = next
        }
        return all.filter { below.contains($0.position.id) }
    }

    /// The picker of a disposition form: recipients, instructions, due chips, note.
    func orderForm(_ formID: String, positions: [(position: PositionRecord, label: String)], instructions managed: [DispositionService.Instruction],
                   form: FormData?, errors: [String: String], urgency: Urgency) -> [String: Any] {
        let chosen = Set(form?.all("kepada") ?? [])
        let instructions = Set(form?.all("instruksi") ?? [])
        let due = form?["batas"] ?? "bawaan"
        return [
            "positions": positions.map { ["value": $0.position.id.lowercasedString, "label": $0.label, "checked": chosen.contains($0.position.id.lowercasedString)] as [String: Any] },
            "hasPositions": !positions.isEmpty,
            "instructions": managed.filter(\.active).map { ["value": $0.code, "label": $0.title, "checked": instructions.contains($0.code)] as [String: Any] },
            "chips": [("bawaan", "Sesuai urgensi (\(urgency.defaultDispositionDays) hari)"), ("3", "3 hari"), ("7", "7 hari"), ("14", "14 hari"), ("tanggal", "Pilih tanggal")].map {
                ["value": $0.0, "label": $0.1, "checked": $0.0 == due] as [String: Any]
            },
            "date": form?["tanggal"] ?? "", "note": form?["catatan"] ?? "", "errors": errors,
            "minDate": Indonesian.isoDay(offset: 0, in: configuration.timeZone), "formId": formID,
        ]
    }

    /// The document of an incoming letter as a reader sees it.
    static func documentFields(_ bytes: [UInt8]) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return [:] }
        let signer = object["signer"] as? [String: Any] ?? [:]
        let recipients = (object["recipients"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        let copies = (object["copies"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        return [
            "number": object["number"] as? String ?? "", "date": (object["date"] as? String).map(Indonesian.day) ?? "",
            "type": object["typeTitle"] as? String ?? "", "subject": object["subject"] as? String ?? "",
            "classification": object["classification"] as? String ?? "", "body": object["body"] as? String ?? "",
            "sender": (object["sender"] as? [String: Any])?["name"] as? String ?? "",
            "signerBlock": (signer["printed"] as? [String] ?? []).map { ["line": $0] }, "signerName": signer["name"] as? String ?? "",
            "signerNIP": signer["nip"] as? String ?? "",
            "recipients": recipients.map { ["name": $0] }, "copies": copies.map { ["name": $0] }, "hasCopies": !copies.isEmpty,
        ]
    }

    func entryPage(_ id: UUID, session: Session, notice: String?, form: FormData? = nil, errors: [String: String] = [:],
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        // Opening the letter is reading it: the unit's "belum dibaca" counts it no more for me.
        try await inbox.markRead(id, caller: session.caller, request: requestInfo)
        let view = try await inbox.view(id, caller: session.caller)
        let entry = view.entry
        let nodes = try await dispositions.visible(entry: id, caller: session.caller)
        let instructions = try await dispositions.instructions()
        let unitID = session.caller.user.unitID
        let unitPositions = try await positions(of: unitID, session: session)
        let headPosition = unitPositions.first { $0.position.isHead }?.position
        // The head of the receiving unit, held or as Plt./Plh., writes the dispositions.
        let actingHead = session.caller.actor.positions.first { position in headPosition.map { $0.id == position.positionID } ?? false }
        var data: [String: Any] = [
            "entry": entrySummary(entry), "document": Self.documentFields(view.document), "notice": notice as Any,
            "attachments": view.attachments.map {
                ["id": $0.id.lowercasedString, "filename": $0.filename, "size": Self.size($0.size), "entryId": id.lowercasedString] as [String: Any]
            },
            "canRegister": entry.state == "new" && (session.caller.actor.roles.contains(.clerk) || actingHead != nil),
            "tree": try await tree(nodes, session: session, labels: Self.labels(instructions)),
            "hasTree": !nodes.isEmpty,
        ]
        if let actingHead, entry.state == "registered" || entry.state == "new" {
            let below = Self.subordinates(of: actingHead.positionID, in: unitPositions)
            data["dispose"] = orderForm("disposisi", positions: below, instructions: instructions, form: form, errors: errors, urgency: entry.urgency)
        }
        return render("entry", title: entry.subject, session: session, status: status, data)
    }

    /// A tree of dispositions as nested rows: who sent what to whom, their states and times.
    func tree(_ nodes: [DispositionService.Node], session: Session, labels: [String: String]) async throws -> [[String: Any]] {
        var titles: [UUID: String] = [:]
        for positionID in Set(nodes.flatMap { [$0.fromPositionID] + $0.recipients.map(\.positionID) }) {
            titles[positionID] = (try? await services.organisation.position(positionID, actor: session.caller.actor))?.title ?? "Jabatan"
        }
        let mine = Set(session.caller.actor.positions.map(\.positionID))
        let byParent = Dictionary(grouping: nodes, by: \.parentID)
        let ids = Set(nodes.map(\.id))
        func rows(_ node: DispositionService.Node, depth: Int) -> [[String: Any]] {
            let row: [String: Any] = [
                "id": node.id.lowercasedString, "depth": min(depth, 4), "from": titles[node.fromPositionID] ?? "Jabatan",
                "capacity": Indonesian.capacity(node.actingCapacity) as Any,
                "instructions": node.instructions.map { labels[$0] ?? "Instruksi lain" }.joined(separator: ", "), "note": node.note as Any,
                "due": Indonesian.day(node.dueDate), "overdue": node.overdue,
                // Batalkan Disposisi: the sender's, while nobody opened it and nothing went further.
                "canCancel": mine.contains(node.fromPositionID) && (byParent[node.id] ?? []).isEmpty && node.recipients.allSatisfy { $0.state == "belum_dibaca" },
                "entryId": node.inboxEntryID.lowercasedString,
                "recipients": node.recipients.map { recipient in
                    [
                        "title": titles[recipient.positionID] ?? "Jabatan", "state": Indonesian.dispositionState(recipient.state),
                        "stateKey": recipient.state, "readAt": dateTime(recipient.readAt), "completedAt": dateTime(recipient.completedAt),
                        "report": recipient.report as Any,
                    ] as [String: Any]
                },
            ]
            return [row] + (byParent[node.id] ?? []).flatMap { rows($0, depth: depth + 1) }
        }
        // A branch whose parent the caller cannot see starts at the top.
        return nodes.filter { $0.parentID.map { !ids.contains($0) } ?? true }.flatMap { rows($0, depth: 0) }
    }

    /// The labels of the managed instruction list, by code.
    func instructionLabels() async throws -> [String: String] {
        Self.labels(try await dispositions.instructions())
    }

    static func labels(_ instructions: [DispositionService.Instruction]) -> [String: String] {
        Dictionary(instructions.map { ($0.code, $0.title) }, uniquingKeysWith: { a, _ in a })
    }

    func dispositionSummary(_ node: DispositionService.Node, session: Session, labels: [String: String]) async throws -> [String: Any] {
        let entry = try? await inbox.entry(node.inboxEntryID, caller: session.caller)
        let mine = Set(session.caller.actor.positions.map(\.positionID))
        let myState = node.recipients.first { mine.contains($0.positionID) }?.state ?? "belum_dibaca"
        let from = (try? await services.organisation.position(node.fromPositionID, actor: session.caller.actor))?.title ?? "Jabatan"
        return [
            "id": node.id.lowercasedString, "subject": entry?.subject ?? "Naskah masuk", "number": entry?.number as Any, "from": from,
            "instructions": node.instructions.map { labels[$0] ?? "Instruksi lain" }.joined(separator: ", "),
            "due": Indonesian.day(node.dueDate), "overdue": node.overdue && myState != "selesai",
            "state": Indonesian.dispositionState(myState), "unread": myState == "belum_dibaca",
        ]
    }

    func dispositionPage(_ node: DispositionService.Node, session: Session, notice: String?, form: FormData? = nil, errors: [String: String] = [:],
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let view = try await inbox.view(node.inboxEntryID, caller: session.caller)
        let instructions = try await dispositions.instructions()
        let mine = session.caller.actor.positions.first { position in node.recipients.contains { $0.positionID == position.positionID } }
        let myRecipient = node.recipients.first { $0.positionID == mine?.positionID }
        let open = myRecipient.map { $0.state != "selesai" } ?? false
        var data: [String: Any] = [
            "disposition": try await dispositionSummary(node, session: session, labels: Self.labels(instructions)), "note": node.note as Any,
            "entry": entrySummary(view.entry), "document": Self.documentFields(view.document), "notice": notice as Any,
            "attachments": view.attachments.map {
                ["id": $0.id.lowercasedString, "filename": $0.filename, "size": Self.size($0.size), "entryId": view.entry.id.lowercasedString] as [String: Any]
            },
            "open": open, "report": myRecipient?.report as Any, "reportText": form?["laporan"] ?? "", "errors": errors,
            "tree": try await tree(try await dispositions.visible(entry: node.inboxEntryID, caller: session.caller), session: session, labels: Self.labels(instructions)),
        ]
        if open, let mine {
            let below = Self.subordinates(of: mine.positionID, in: try await positions(of: mine.unitID, session: session))
            if !below.isEmpty { data["forward"] = orderForm("teruskan", positions: below, instructions: instructions, form: form, errors: errors, urgency: view.entry.urgency) }
        }
        return render("disposition", title: "Disposisi", session: session, status: status, data)
    }
}
