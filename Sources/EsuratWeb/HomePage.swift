import EsuratDomain
import EsuratServices
import EsuratHTTP
import Foundation
import Hummingbird
import Logging

/// Beranda, "Perlu Tindakan Saya": counters and one list of what waits for the person,
/// most urgent first, each with its action (Paraf in one tap; the rest open the page where
/// the action is).
extension WebUI {
    func registerHome(on web: RouterGroup<EsuratRequestContext>) {
        web.get("/", use: page { request, _, session, _ in
            let caller = session.caller
            let page = try PageRequest(limit: 100, cursor: nil)
            let waiting = try await self.services.letters.list(box: "review", caller: caller, page: page).items
            let toInitial = waiting.filter { $0.status == .inReview }
            let toSign = waiting.filter { $0.status == .awaitingSignature }
            let returned = try await self.services.letters.list(box: "drafts", caller: caller, page: page).items.filter { $0.status == .returned }
            let isClerk = caller.actor.roles.contains(.clerk)
            let unregistered = isClerk ? try await self.inbox.list(caller: caller, state: "new", urgency: nil, search: nil, page: page).items : []
            let open = try await self.dispositions.assigned(caller: caller, state: "open")
            let toDispose = try await self.inbox.awaitingDisposition(caller: caller)
            let unreadIncoming = try await self.inbox.list(caller: caller, state: "all", urgency: nil, search: nil, page: page).items.filter { $0.readAt == nil }.count
            let sentOverdue = try await self.dispositions.overdueSent(caller: caller)
            let overdue = open.filter(\.overdue).count + sentOverdue.count
            let mine = Set(caller.actor.positions.map(\.positionID))
            let unreadDispositions = open.filter { node in node.recipients.contains { mine.contains($0.positionID) && $0.state == "belum_dibaca" } }.count

            var items: [[String: Any]] = []
            for letter in toSign {
                items.append(["kind": "Perlu tanda tangan", "subject": letter.subject, "detail": "\(letter.type.title) · \(letter.urgency.title)",
                              "urgent": letter.urgency != .biasa, "href": "/naskah/\(letter.id.lowercasedString)#tandatangani", "action": "Buka dan tandatangani"])
            }
            for letter in toInitial {
                items.append(["kind": "Perlu paraf", "subject": letter.subject, "detail": "\(letter.type.title) · \(letter.urgency.title)",
                              "urgent": letter.urgency != .biasa, "href": "/naskah/\(letter.id.lowercasedString)", "action": "Baca naskah",
                              "paraf": "/naskah/\(letter.id.lowercasedString)/paraf"])
            }
            let labels = try await self.instructionLabels()
            for node in open {
                let summary = try await self.dispositionSummary(node, session: session, labels: labels)
                items.append(["kind": node.overdue ? "Disposisi lewat batas waktu" : "Disposisi perlu tindak lanjut", "subject": summary["subject"] ?? "",
                              "detail": "Dari \(summary["from"] ?? "") · batas \(summary["due"] ?? "")", "urgent": node.overdue,
                              "href": "/disposisi/\(node.id.lowercasedString)", "action": "Tindak lanjuti"])
            }
            for entry in toDispose {
                items.append(["kind": "Perlu disposisi", "subject": entry.subject, "detail": "Dari \(entry.fromUnitName) · \(entry.urgency.title)",
                              "urgent": entry.urgency != .biasa, "href": "/naskah-masuk/\(entry.id.lowercasedString)#disposisikan", "action": "Disposisikan"])
            }
            for node in sentOverdue {
                let entry = try? await self.inbox.entry(node.inboxEntryID, caller: caller)
                items.append(["kind": "Disposisi Anda lewat batas waktu", "subject": entry?.subject ?? "Naskah masuk",
                              "detail": "Batas \(Indonesian.day(node.dueDate)); belum selesai ditindaklanjuti", "urgent": true,
                              "href": "/naskah-masuk/\(node.inboxEntryID.lowercasedString)", "action": "Lihat alur disposisi"])
            }
            for entry in unregistered {
                items.append(["kind": "Naskah masuk belum diregistrasi", "subject": entry.subject, "detail": "Dari \(entry.fromUnitName) · \(entry.urgency.title)",
                              "urgent": entry.urgency != .biasa, "href": "/naskah-masuk/\(entry.id.lowercasedString)", "action": "Registrasi"])
            }
            for letter in returned {
                items.append(["kind": "Dikembalikan", "subject": letter.subject, "detail": "Perbaiki lalu ajukan kembali", "urgent": false,
                              "href": "/naskah/\(letter.id.lowercasedString)", "action": "Perbaiki"])
            }
            // Urgent and overdue first; otherwise in the order above (signatures first).
            let sorted = items.enumerated().sorted { a, b in
                let ua = (a.element["urgent"] as? Bool) == true, ub = (b.element["urgent"] as? Bool) == true
                return ua != ub ? ua : a.offset < b.offset
            }.map(\.element)
            var counters: [[String: Any]] = [
                ["label": "Perlu tanda tangan", "count": toSign.count, "href": "#daftar"],
                ["label": "Perlu paraf", "count": toInitial.count, "href": "#daftar"],
                ["label": "Perlu disposisi", "count": toDispose.count, "href": "#daftar"],
                ["label": "Naskah masuk belum dibaca", "count": unreadIncoming, "href": "/naskah-masuk"],
                ["label": "Disposisi belum dibaca", "count": unreadDispositions, "href": "/disposisi"],
                ["label": "Disposisi perlu tindak lanjut", "count": open.count, "href": "/disposisi"],
                ["label": "Lewat batas waktu", "count": overdue, "href": "/disposisi?status=overdue", "alert": overdue > 0],
                ["label": "Dikembalikan", "count": returned.count, "href": "/naskah-keluar"],
            ]
            if isClerk { counters.insert(["label": "Belum diregistrasi", "count": unregistered.count, "href": "/naskah-masuk?status=new"], at: 2) }
            return self.render("home", title: "Beranda", session: session, [
                "counters": counters, "items": sorted, "empty": sorted.isEmpty, "notice": Self.notice(request) as Any,
                "total": sorted.count,
            ])
        })
    }
}
