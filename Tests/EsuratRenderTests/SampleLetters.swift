import EsuratDomain
import EsuratRender
import Foundation

/// Letters to render in tests: a surat dinas of one page and one long enough for three.
enum SampleLetters {
    static let kominfo = CanonicalLetterDocument.UnitReference(
        id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, code: "DISKOMINFO", name: "Dinas Komunikasi dan Informatika")
    static let pendidikan = CanonicalLetterDocument.UnitReference(
        id: UUID(uuidString: "00000000-0000-0000-0000-000000000002")!, code: "DISDIK", name: "Dinas Pendidikan")
    static let setda = CanonicalLetterDocument.UnitReference(
        id: UUID(uuidString: "00000000-0000-0000-0000-000000000003")!, code: "SETDA", name: "Sekretariat Daerah")

    static func letter(paragraphs: Int = 3, type: LetterType = .suratDinas, attachments: Int = 1, capacity: SigningCapacity = .direct) -> CanonicalLetterDocument {
        let paragraph = "Dalam rangka percepatan penerapan Sistem Pemerintahan Berbasis Elektronik di lingkungan Pemerintah Kabupaten Bangkalan, "
            + "bersama ini kami mengundang Saudara untuk hadir pada rapat koordinasi penggunaan tanda tangan elektronik bagi pejabat "
            + "penandatangan naskah dinas, yang akan dilaksanakan pada hari Kamis, 10 Desember 2026, pukul 09.00 WIB sampai dengan selesai."
        let body = (["Dengan hormat,"] + Array(repeating: paragraph, count: paragraphs)
            + ["Demikian atas perhatian dan kehadiran Saudara, kami ucapkan terima kasih."]).joined(separator: "\n")
        return CanonicalLetterDocument(
            letterID: UUID(uuidString: "5c1e1f5e-8a7b-4d0e-9a51-6f1f2b3c4d5e")!, number: "000.1.2.3/15/DISKOMINFO/2026",
            date: CalendarDay(year: 2026, month: 12, day: 7)!, type: type, subject: "Undangan Rapat Koordinasi Tanda Tangan Elektronik",
            classification: ClassificationCode("000.1.2.3")!, securityLevel: .biasa, urgency: .segera, sender: kominfo,
            signer: .init(
                name: "Dr. Siti Nur'aini, S.Kom., M.T.", nip: "198001012005012001", positionTitle: "Kepala Dinas Komunikasi dan Informatika",
                rank: "Pembina Tingkat I (IV/b)", capacity: capacity, principalTitle: capacity == .an ? "Bupati Bangkalan" : nil,
                positionID: UUID(), userID: UUID()),
            recipients: [pendidikan, setda], copies: [setda],
            body: body,
            attachments: (0..<attachments).map {
                .init(name: "jadwal-\($0 + 1).pdf", mediaType: "application/pdf", size: 48_213, sha256: String(repeating: "ab", count: 32))
            },
            letterhead: .init(
                government: "Pemerintah Kabupaten Bangkalan", unit: "Dinas Komunikasi dan Informatika",
                address: "Jalan Soekarno-Hatta Nomor 1, Bangkalan, Jawa Timur 69116",
                contacts: "Telepon (031) 3095001, Laman diskominfo.bangkalankab.go.id, Pos-el diskominfo@bangkalankab.go.id",
                place: "Bangkalan"))
    }

    static let facts = SignatureFacts(
        issuer: "Pemerintah Kabupaten Bangkalan Issuing CA",
        verificationURL: "https://esurat.bangkalankab.go.id/v/5c1e1f5e-8a7b-4d0e-9a51-6f1f2b3c4d5e?h=0123456789abcdef")
}
