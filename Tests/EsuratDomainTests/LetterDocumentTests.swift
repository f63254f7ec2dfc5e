import EsuratDomain
import Foundation
import Testing

@Suite struct LetterNumberTests {
    let values = LetterNumberTemplate.Values(
        classification: ClassificationCode("000.1")!, sequence: 15, unitCode: "433.102", year: 2026, month: 3, securityLevel: .biasa)

    @Test func theDefaultTemplate() {
        #expect(LetterNumberTemplate.standard.format(values) == "000.1/15/433.102/2026")
    }

    @Test func otherRegionalForms() throws {
        #expect(try LetterNumberTemplate("{sifat}/{kka}/{seq}/{unitCode}/{romanMonth}/{year}").format(values) == "B/000.1/15/433.102/III/2026")
        #expect(try LetterNumberTemplate("{unitCode}-{year}{month}-{seq}").format(values) == "433.102-202603-15")
    }

    @Test func badTemplatesAreRefused() {
        #expect(throws: LetterNumberTemplate.Invalid.sequenceCount(0)) { try LetterNumberTemplate("{kka}/{year}") }
        #expect(throws: LetterNumberTemplate.Invalid.sequenceCount(2)) { try LetterNumberTemplate("{seq}/{seq}") }
        #expect(throws: LetterNumberTemplate.Invalid.unknownPlaceholder("tahun")) { try LetterNumberTemplate("{seq}/{tahun}") }
        #expect(throws: LetterNumberTemplate.Invalid.unclosedBrace) { try LetterNumberTemplate("{seq}/{year") }
    }

    @Test func classificationCodes() {
        for good in ["000", "000.1", "000.8.3.3", "800.1.11.2"] { #expect(ClassificationCode(good) != nil, "\(good)") }
        for bad in ["", "00", "0000", "000.", "000..1", "abc.1", "000.1a", "1.2.3"] { #expect(ClassificationCode(bad) == nil, "\(bad)") }
        #expect(ClassificationCode("000.8.3.3")?.ancestors == ["000", "000.8", "000.8.3"])
    }

    @Test func securityAndUrgencyStayApart() {
        #expect(SecurityLevel.allCases.map(\.code) == ["B", "T", "R", "SR"])
        #expect(SecurityLevel.rahasia.restrictedToNamedPositions && !SecurityLevel.terbatas.restrictedToNamedPositions)
        #expect(Urgency.sangatSegera.defaultDispositionDays == 1)
    }
}

@Suite struct CanonicalLetterDocumentTests {
    let positionID = UUID(uuidString: "11111111-2222-3333-4444-555555555555")!
    let userID = UUID(uuidString: "66666666-7777-8888-9999-AAAAAAAAAAAA")!

    func document(capacity: SigningCapacity, principal: String? = nil, intermediate: String? = nil) -> CanonicalLetterDocument {
        let kominfo = CanonicalLetterDocument.UnitReference(id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, code: "DISKOMINFO", name: "Dinas Komunikasi dan Informatika")
        let socah = CanonicalLetterDocument.UnitReference(id: UUID(uuidString: "00000000-0000-0000-0000-000000000002")!, code: "KEC-SOCAH", name: "Kecamatan Socah")
        return CanonicalLetterDocument(
            letterID: UUID(uuidString: "ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEFAB")!, number: "000.1/15/DISKOMINFO/2026",
            date: CalendarDay(year: 2026, month: 12, day: 1)!, type: .undangan, subject: "Undangan Rapat Koordinasi TTE",
            classification: ClassificationCode("000.1")!, securityLevel: .biasa, urgency: .segera, sender: kominfo,
            signer: .init(name: "Siti Nur'aini", nip: "198001012005012001", positionTitle: "Kepala Dinas Komunikasi dan Informatika",
                          capacity: capacity, principalTitle: principal, intermediateTitle: intermediate, positionID: positionID, userID: userID),
            recipients: [socah], copies: [], body: "Dengan hormat, …",
            attachments: [.init(name: "jadwal.pdf", mediaType: "application/pdf", size: 1024, sha256: String(repeating: "ab", count: 32))])
    }

    @Test func theBytesAreRFC8785AndStable() throws {
        let bytes = try document(capacity: .direct).canonicalBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"attachments":[{"mediaType":"application/pdf","name":"jadwal.pdf","sha256":"abab"#))
        #expect(text.contains(#""date":"2026-12-01""#))
        #expect(text.contains(#""id":"abcdefab-cdef-abcd-efab-cdefabcdefab""#))
        #expect(!text.contains("\n") && !text.contains(": "))
        // Canonicalising the canonical form changes nothing.
        #expect(try CanonicalJSON.canonicalize(text) == bytes)
        #expect(try document(capacity: .direct).canonicalBytes() == bytes)
    }

    @Test func theSignatureBlockIsPrintedAsTheRulesSay() {
        #expect(document(capacity: .direct).signer.printedBlock == ["Kepala Dinas Komunikasi dan Informatika"])
        #expect(document(capacity: .plt).signer.printedBlock == ["Plt. Kepala Dinas Komunikasi dan Informatika"])
        #expect(document(capacity: .plh).signer.printedBlock == ["Plh. Kepala Dinas Komunikasi dan Informatika"])
        #expect(document(capacity: .an, principal: "Sekretaris Daerah").signer.printedBlock
            == ["a.n. Sekretaris Daerah", "Kepala Dinas Komunikasi dan Informatika"])
        #expect(document(capacity: .ub, principal: "Sekretaris Daerah", intermediate: "Asisten Administrasi Umum").signer.printedBlock
            == ["a.n. Sekretaris Daerah", "Asisten Administrasi Umum", "u.b.", "Kepala Dinas Komunikasi dan Informatika"])
        let text = String(decoding: (try? document(capacity: .plt).canonicalBytes()) ?? [], as: UTF8.self)
        #expect(text.contains(#""positionId":"11111111-2222-3333-4444-555555555555""#))
        #expect(text.contains(#""userId":"66666666-7777-8888-9999-aaaaaaaaaaaa""#))
    }
}
