import EsuratDomain
import EsuratServices
import Foundation

/// The words the pages show for the values the services speak in (statuses, jenis, sifat,
/// roles), Indonesian dates, and the services' English field errors said in Indonesian.
/// Kept in one place so a page never shows an English word a service chose.
enum Indonesian {
    static let months = CalendarDay.indonesianMonths

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// "10 Juni 2026".
    static func date(_ date: Date, in timeZone: TimeZone) -> String {
        let c = calendar(timeZone).dateComponents([.year, .month, .day], from: date)
        return "\(c.day!) \(months[c.month! - 1]) \(c.year!)"
    }

    /// "10 Juni 2026 09.12" (Indonesian writes the time with a dot).
    static func dateTime(_ date: Date, in timeZone: TimeZone) -> String {
        let c = calendar(timeZone).dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return "\(c.day!) \(months[c.month! - 1]) \(c.year!) " + String(format: "%02d.%02d", c.hour!, c.minute!)
    }

    /// A calendar day written "YYYY-MM-DD" (a disposition's due date), as "10 Juni 2026".
    static func day(_ text: String) -> String {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]) else { return text }
        return "\(parts[2]) \(months[parts[1] - 1]) \(parts[0])"
    }

    /// Today plus `days` in the installation's time zone, as "YYYY-MM-DD".
    static func isoDay(offset days: Int, from now: Date = Date(), in timeZone: TimeZone) -> String {
        let calendar = calendar(timeZone)
        let c = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: days, to: now)!)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func status(_ status: LetterStatus) -> String {
        switch status {
        case .draft: "Konsep"
        case .inReview: "Menunggu paraf"
        case .returned: "Dikembalikan"
        case .awaitingSignature: "Menunggu tanda tangan"
        case .signed: "Ditandatangani"
        case .dispatching: "Sedang dikirim"
        case .delivered: "Terkirim"
        case .withdrawn: "Ditarik kembali"
        }
    }

    static func security(_ level: SecurityLevel) -> String {
        switch level {
        case .biasa: "Biasa"
        case .terbatas: "Terbatas"
        case .rahasia: "Rahasia"
        case .sangatRahasia: "Sangat Rahasia"
        }
    }

    static func role(_ role: Role) -> String {
        switch role {
        case .admin: "Admin"
        case .clerk: "Tata Usaha"
        case .official: "Pejabat"
        case .staff: "Staf"
        case .auditor: "Auditor"
        }
    }

    static func recipientRole(_ role: String) -> String { role == "cc" ? "Tembusan" : "Tujuan" }

    static func capacity(_ capacity: String?) -> String? {
        switch capacity {
        case "plt": "Plt."
        case "plh": "Plh."
        case "an": "a.n."
        default: nil
        }
    }

    static func inboxState(_ state: String) -> String {
        switch state {
        case "new": "Baru"
        case "registered": "Teregistrasi"
        default: "Baru"
        }
    }

    static func deliveryState(_ state: String) -> String {
        switch state {
        case "pending", "leased": "Dalam antrean"
        case "delivered": "Sampai di kotak masuk"
        case "accepted": "Diregistrasi penerima"
        case "failed": "Gagal, dicoba lagi"
        case "dead": "Gagal terkirim"
        default: "Dalam proses"
        }
    }

    static func dispositionState(_ state: String) -> String {
        switch state {
        case "belum_dibaca": "Belum dibaca"
        case "dibaca": "Dibaca"
        case "ditindaklanjuti": "Ditindaklanjuti"
        case "selesai": "Selesai"
        default: "Belum dibaca"
        }
    }

    /// What happened to a letter, as its history shows it.
    static func historyAction(_ action: String) -> String {
        switch action {
        case "letter.created": "Konsep dibuat"
        case "letter.edited", "letter.updated": "Konsep diubah"
        case "letter.submitted": "Diajukan"
        case "letter.reviewed.approved": "Diparaf"
        case "letter.returned": "Dikembalikan"
        case "letter.withdrawn": "Ditarik kembali"
        case "letter.signed": "Ditandatangani dan diberi nomor"
        case "letter.sign_passphrase_wrong": "Penandatanganan ditolak: passphrase salah"
        case "letter.step_escalated": "Lewat batas waktu, diteruskan ke atasan"
        case "letter.attachment_added": "Lampiran ditambahkan"
        case "letter.dispatching": "Sedang dikirim"
        case "letter.delivered": "Terkirim ke semua penerima"
        default: "Perubahan naskah"
        }
    }

    /// "15 menit", "1 menit": a wait told to a user, rounded up to whole minutes.
    static func minutes(_ seconds: Int) -> String {
        "\(max(1, (seconds + 59) / 60)) menit"
    }

    /// The verification checks a clerk reads.
    static func verificationCheck(_ name: String, passed: Bool) -> String {
        switch (name, passed) {
        case ("format", true): "Berkas tanda tangan berformat benar."
        case ("format", false): "Berkas tanda tangan rusak atau bukan tanda tangan elektronik."
        case ("signer certificate", true): "Sertifikat penanda tangan ditemukan."
        case ("signer certificate", false): "Sertifikat penanda tangan tidak ditemukan."
        case ("integrity", true): "Isi naskah sama persis dengan yang ditandatangani."
        case ("integrity", false): "Isi naskah telah berubah sejak ditandatangani."
        case ("timestamp", true): "Waktu penandatanganan tercatat oleh layanan cap waktu."
        case ("timestamp", false): "Cap waktu penandatanganan tidak sah."
        case ("certificate chain", true): "Sertifikat diterbitkan oleh otoritas yang dipercaya."
        case ("certificate chain", false): "Sertifikat tidak dapat ditelusuri ke otoritas yang dipercaya."
        case ("revocation", true): "Sertifikat tidak dicabut pada saat penandatanganan."
        case ("revocation", false): "Sertifikat telah dicabut atau status pencabutannya tidak diketahui."
        case (_, true): "Pemeriksaan lain berhasil."
        case (_, false): "Pemeriksaan lain gagal."
        }
    }

    // MARK: Errors

    /// A field error of the services in Indonesian. The services write English for API
    /// clients; the forms show these instead, keyed on the message's shape.
    static func fieldMessage(_ message: String) -> String {
        if message.range(of: #"^must be (\d+)–(\d+) characters$"#, options: .regularExpression) != nil {
            let numbers = message.split(whereSeparator: { !$0.isNumber }).map(String.init)
            if numbers.count == 2 {
                return numbers[0] == "1" ? "Wajib diisi, paling banyak \(numbers[1]) karakter." : "Harus \(numbers[0])–\(numbers[1]) karakter."
            }
        }
        if message.hasPrefix("must be at most"), let n = message.split(separator: " ").first(where: { Int($0) != nil }) {
            return "Paling banyak \(n) karakter."
        }
        if message.hasPrefix("must be at least"), let n = message.split(separator: " ").first(where: { Int($0) != nil }) {
            return "Paling sedikit \(n) karakter."
        }
        if message.hasPrefix("the workflow for this letter needs at least"), let n = message.split(separator: " ").first(where: { Int($0) != nil }) {
            return "Alur naskah jenis ini mewajibkan paling sedikit \(n) pemeriksa."
        }
        if message.hasSuffix("is not in the classification table") { return "Kode klasifikasi ini tidak ada dalam daftar KKA." }
        switch message {
        case "is required", "is needed": return "Wajib diisi."
        case "must name 1–50 positions": return "Pilih paling sedikit satu jabatan penerima."
        case "names a position twice": return "Jabatan yang sama dipilih dua kali."
        case "must name 1–10 instructions": return "Pilih paling sedikit satu instruksi (paling banyak sepuluh)."
        case "is not an instruction on the list": return "Pilih instruksi dari daftar."
        case "is not a position below yours in the receiving unit": return "Jabatan ini bukan bawahan Anda di unit penerima."
        case "is required when returning a letter": return "Tuliskan alasan naskah dikembalikan."
        case "must not contain control characters", "must not contain NUL characters": return "Tidak boleh berisi karakter kendali."
        case "must be a KKA code such as 000.1": return "Isi dengan kode klasifikasi seperti 000.1."
        case "must name at least one unit": return "Pilih paling sedikit satu unit tujuan."
        case "must have at least one addressee (to)": return "Paling sedikit satu unit harus menjadi tujuan, bukan hanya tembusan."
        case "must name at most 200 units": return "Paling banyak 200 unit."
        case "is named twice": return "Unit ini dipilih dua kali."
        case "no active unit has this id": return "Unit ini tidak aktif atau tidak ada."
        case "does not unlock the signing key": return "Passphrase salah. Naskah belum ditandatangani."
        case "no signing key": return "Anda belum memiliki kunci tanda tangan elektronik. Minta admin menerbitkannya."
        case "certificate revoked": return "Sertifikat tanda tangan Anda telah dicabut. Buat kunci tanda tangan baru."
        case "the signing certificate cannot sign": return "Sertifikat tanda tangan Anda tidak dapat dipakai menandatangani."
        case "is not a position of the drafting unit's OPD": return "Jabatan ini bukan bagian dari perangkat daerah Anda."
        case "each position appears once, and not as the signer": return "Setiap pemeriksa dipilih sekali dan tidak sama dengan penanda tangan."
        case "at most five reviewers": return "Paling banyak lima pemeriksa."
        case "the drafter holds no position; name the signer and reviewers": return "Anda tidak memegang jabatan; pilih pemeriksa dan penanda tangan."
        case "the drafter cannot sign their own letter; name a superior or the head of the OPD":
            return "Anda tidak dapat menandatangani naskah yang Anda susun sendiri; pilih atasan Anda atau kepala perangkat daerah."
        case "must be above the drafter: a superior on the drafter's chain or the head of the OPD":
            return "Penanda tangan harus atasan Anda atau kepala perangkat daerah."
        case "the drafter does not initial their own letter": return "Penyusun naskah tidak memaraf naskahnya sendiri."
        case "must be under the signer: reviewers lie between the drafter and the signer":
            return "Pemeriksa harus pejabat di bawah penanda tangan."
        case "the signer's position holds no mandate (a.n.) in force; an admin records one with its SK":
            return "Jabatan penanda tangan tidak memiliki mandat a.n. yang berlaku. Minta admin mencatat mandat beserta SK-nya."
        case "must be a date YYYY-MM-DD", "must be a date (YYYY-MM-DD)": return "Isi dengan tanggal yang benar."
        default:
            if message.contains("date") { return "Isi dengan tanggal yang benar." }
            if message.contains("position") { return "Pilih jabatan yang benar." }
            if message.contains("instruction") { return "Pilih instruksi dari daftar." }
            return "Isian ini tidak valid."
        }
    }

    /// The sentence at the top of a page for an error of the services.
    static func summary(_ error: ServiceError) -> String {
        switch error.kind {
        case .validation, .unprocessable:
            if error.fields.contains(where: { $0.field == "passphrase" }) { return "Naskah belum ditandatangani. Periksa isian yang ditandai." }
            return "Periksa kembali isian yang ditandai."
        case .notFound: return "Data yang dicari tidak ditemukan atau Anda tidak berhak melihatnya."
        case .forbidden: return "Anda tidak berwenang melakukan tindakan ini."
        case .unauthorized: return "Sesi Anda telah berakhir. Silakan masuk kembali."
        case .conflict:
            if error.fields.contains(where: { $0.field == "If-Match" }) {
                return "Naskah ini telah diubah orang lain sejak Anda membukanya. Muat ulang lalu ubah kembali."
            }
            if error.fields.contains(where: { $0.field == "status" }) { return "Tindakan ini tidak berlaku lagi untuk naskah pada tahap ini." }
            return "Tindakan ini tidak dapat dilakukan sekarang."
        case .rateLimited: return "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi."
        default: return "Terjadi kesalahan. Silakan coba lagi."
        }
    }
}
