public import Logging
public import ServiceLifecycle
public import EsuratDomain
public import EsuratPAdES
public import EsuratPostgres
public import EsuratRender
public import EsuratSigning
public import Foundation

/// The letter's PDF after signing: reading it (with the letter's own access rules), the
/// public verification behind the QR code, the print template, and renewing the document
/// time-stamps that keep B-LTA verifiable.
public final class LetterPDFService: Sendable {
    let pool: PostgresPool
    let pki: PKIService
    let blocking: BlockingWork
    let letters: LetterService
    let inbox: InboxService

    public init(pool: PostgresPool, pki: PKIService, blocking: BlockingWork, letters: LetterService) {
        self.pool = pool
        self.pki = pki
        self.blocking = blocking
        self.letters = letters
        inbox = InboxService(pool: pool, pki: pki, blocking: blocking)
    }

    /// The newest PDF of a signed letter, to whoever may read the letter.
    public func pdf(_ id: UUID, caller: IdentityService.Authenticated) async throws -> [UInt8] {
        _ = try await letters.letter(id, caller: caller)
        return try await latest(id)
    }

    /// The PDF of an incoming letter, to whoever may read the inbox entry.
    public func pdf(entry id: UUID, caller: IdentityService.Authenticated) async throws -> [UInt8] {
        try await latest(try await inbox.entry(id, caller: caller).letterID)
    }

    func latest(_ id: UUID) async throws -> [UInt8] {
        guard let row = try await pool.query("SELECT pdf FROM letter_pdfs WHERE letter_id = $1 ORDER BY version DESC LIMIT 1", [id]).first else {
            throw ServiceError(.conflict, "The letter has no PDF: it is not signed yet.")
        }
        return try row.decode("pdf", as: PostgresBytes.self).bytes
    }

    // MARK: Public verification

    /// What anyone holding the QR code may learn, without logging in. For Rahasia and
    /// Sangat Rahasia letters only whether the code belongs to a valid letter.
    public struct PublicCheck: Sendable {
        public var exists: Bool
        /// The `h` of the QR code matches the signed document's SHA-256.
        public var hashMatches: Bool
        /// The letter's facts are withheld (Rahasia, Sangat Rahasia).
        public var restricted: Bool
        public var number: String?
        public var date: String?
        public var subject: String?
        public var signerName: String?
        public var signerPosition: String?
        public var sender: String?
        /// The signer's certificate was revoked (after signing: the signature stands, but say so).
        public var certificateRevokedAt: Date?
        public var signedAt: Date?
    }

    /// The page the QR code opens: `hash` is the code's `h`, 16 or more hex digits of the
    /// document's SHA-256.
    public func publicCheck(letter id: UUID, hash: String) async throws -> PublicCheck {
        let wanted = hash.lowercased()
        guard wanted.count >= 16, wanted.count <= 64, wanted.allSatisfy({ $0.isHexDigit }) else {
            throw ServiceError.invalid("h", "must be 16 to 64 hexadecimal digits")
        }
        guard let row = try await pool.query(
            """
            SELECT d.document, d.signed_at, l.security_level, r.revoked_at
            FROM letter_documents d JOIN letters l ON l.id = d.letter_id
            LEFT JOIN certificate_revocations r ON r.certificate_serial = d.certificate_serial
            WHERE d.letter_id = $1
            """, [id]).first
        else {
            return PublicCheck(exists: false, hashMatches: false, restricted: false)
        }
        let bytes = try row.decode("document", as: PostgresBytes.self).bytes
        let matches = Digest.hex(try Digest.sha256(bytes)).hasPrefix(wanted)
        let security = SecurityLevel(rawValue: try row.decode("security_level")) ?? .biasa
        var check = PublicCheck(
            exists: true, hashMatches: matches, restricted: security.restrictedToNamedPositions,
            certificateRevokedAt: try row.decode("revoked_at", as: Date?.self), signedAt: try row.decode("signed_at"))
        // A wrong hash learns nothing more than that the id exists.
        guard matches, !check.restricted else { return check }
        let document = try CanonicalLetterDocument(canonicalBytes: bytes)
        check.number = document.number
        check.date = document.date.indonesian
        check.subject = document.subject
        check.signerName = document.signer.name
        check.signerPosition = document.signer.printedBlock.joined(separator: " ")
        check.sender = document.sender.name
        return check
    }

    /// The report on an uploaded PDF, for people: in Bahasa Indonesia.
    public struct UploadReport: Sendable {
        public var valid: Bool
        /// "B-LTA" and so on.
        public var level: String?
        /// The file is byte for byte a version esurat stored.
        public var matchesStoredVersion: Bool
        public var letterID: UUID?
        public var public_: PublicCheck?
        /// What was checked, one finding per line.
        public var findings: [String]
    }

    /// Largest PDF the public page accepts.
    public static let maxUpload = 20 * 1024 * 1024

    /// Validates an uploaded PDF: its PAdES signatures and time-stamps against this
    /// installation's trust, what was changed after signing, and whether esurat stored
    /// exactly this file.
    public func verifyUpload(_ bytes: [UInt8]) async throws -> UploadReport {
        guard !bytes.isEmpty else { throw ServiceError.invalid("file", "is empty") }
        guard bytes.count <= Self.maxUpload else { throw ServiceError(.payloadTooLarge, "The PDF is larger than 20 MB.") }
        guard bytes.starts(with: Array("%PDF-".utf8)) else { throw ServiceError.invalid("file", "is not a PDF") }
        let trust = try await pki.trustStore()
        let sha256 = Digest.hex(try Digest.sha256(bytes))
        let verification = try await blocking.run { PAdESLetter.verify(bytes, with: SignatureVerifier(trust: trust)) }
        var findings: [String] = []
        for signature in verification.signatures {
            switch signature.kind {
            case .signature:
                let who = signature.report?.signer?.commonName ?? "penanda tangan tidak dikenal"
                findings.append(signature.valid
                    ? "Tanda tangan elektronik \(who) sah: isi berkas tidak berubah sejak ditandatangani dan sertifikatnya diterbitkan oleh CA instansi ini."
                    : "Tanda tangan elektronik \(who) TIDAK sah (\(Self.reason(signature)))")
                if let time = signature.timestamp?.time, signature.timestamp?.valid == true {
                    findings.append("Waktu penandatanganan dijamin cap waktu: \(Self.time(time)).")
                }
            case .documentTimestamp:
                findings.append(signature.valid
                    ? "Cap waktu dokumen \(signature.timestamp.map { Self.time($0.time) } ?? "") sah."
                    : "Cap waktu dokumen TIDAK sah.")
            }
        }
        for change in verification.modifications { findings.append("Perubahan setelah ditandatangani: \(change).") }
        findings += verification.problems.map { $0.prefix(1).uppercased() + $0.dropFirst() + "." }
        var report = UploadReport(
            valid: verification.passed, level: verification.level, matchesStoredVersion: false, letterID: nil, public_: nil, findings: findings)
        if let row = try await pool.query("SELECT letter_id FROM letter_pdfs WHERE sha256 = $1 LIMIT 1", [sha256]).first {
            report.matchesStoredVersion = true
            report.letterID = try row.decode("letter_id")
        } else if let document = verification.document, let parsed = try? CanonicalLetterDocument(canonicalBytes: document) {
            report.letterID = parsed.letterID
        }
        if let id = report.letterID, let document = verification.document {
            let check = try await publicCheck(letter: id, hash: Digest.hex(try Digest.sha256(document)))
            report.public_ = check
            if !check.exists {
                report.valid = false
                report.findings.append("Naskah ini tidak terdaftar di esurat instansi ini.")
            } else if !check.hashMatches {
                report.valid = false
                report.findings.append("Naskah yang tertanam berbeda dari naskah yang tercatat.")
            }
        } else if verification.document == nil, !verification.signatures.isEmpty {
            report.findings.append("Berkas tidak memuat naskah.json: bukan naskah yang dibuat esurat.")
            report.valid = false
        }
        report.findings.append(report.matchesStoredVersion
            ? "Berkas sama persis dengan salinan yang disimpan esurat."
            : "Berkas tidak sama persis dengan salinan yang disimpan esurat (mungkin salinan lama atau telah diubah).")
        return report
    }

    static func reason(_ signature: PAdESLetter.Verification.Signature) -> String {
        if signature.hasSigningTime { return "atribut signing-time tidak diizinkan PAdES" }
        switch signature.report?.subIndication {
        case .hashFailure?: return "isi berkas berubah setelah ditandatangani"
        case .sigCryptoFailure?: return "nilai tanda tangan tidak cocok"
        case .revoked?: return "sertifikat telah dicabut sebelum penandatanganan"
        case .noCertificateChainFound?, .chainConstraintsFailure?: return "sertifikat tidak diterbitkan oleh CA instansi ini"
        case .outOfBoundsNoPOE?: return "sertifikat sudah tidak berlaku"
        case .timestampFailure?: return "cap waktu tidak sah"
        default: return "tanda tangan tidak dapat diperiksa"
        }
    }

    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Jakarta") ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return "\(c.day!) \(CalendarDay.indonesianMonths[c.month! - 1]) \(c.year!) " + String(format: "%02d.%02d WIB", c.hour!, c.minute!)
    }

    // MARK: Template

    public struct TemplateSettings: Sendable {
        public var government: String
        public var place: String
        public var template: LetterTemplate

        public init(government: String, place: String, template: LetterTemplate) {
            self.government = government
            self.place = place
            self.template = template
        }
    }

    public func template(actor: Actor) async throws -> TemplateSettings {
        try authorize(actor, .manageLetterTemplate)
        let row = try await pool.query(
            "SELECT page_size, margin_top, margin_right, margin_bottom, margin_left, font, font_size, logo_png, government, place FROM letter_template"
        ).single()
        let (template, government, place) = try LetterPrinter.template(row)
        return .init(government: government, place: place, template: template)
    }

    /// Sets how letters signed from now on are printed; letters signed before keep theirs.
    public func updateTemplate(_ settings: TemplateSettings, actor: Actor, request: RequestInfo) async throws -> TemplateSettings {
        try authorize(actor, .manageLetterTemplate)
        var check = Validator()
        check.text(settings.government, "government", length: 0...200)
        check.text(settings.place, "place", length: 0...100)
        check.check((9...14).contains(settings.template.fontSize), "fontSize", "must be 9–14 points")
        let m = settings.template.margins
        for (name, value) in [("marginTop", m.top), ("marginRight", m.right), ("marginBottom", m.bottom), ("marginLeft", m.left)] {
            check.check((10...50).contains(value), name, "must be 10–50 mm")
        }
        if let logo = settings.template.logoPNG {
            check.check(logo.count <= 1_048_576, "logoPng", "must be at most 1 MB")
            if logo.count <= 1_048_576, let problem = LetterTemplate.logoProblem(logo) { check.check(false, "logoPng", problem) }
        }
        try check.throwIfInvalid()
        try await pool.withTransaction { tx in
            try await tx.query(
                """
                UPDATE letter_template SET government = $1, place = $2, page_size = $3, font = $4, font_size = $5, margin_top = $6,
                       margin_right = $7, margin_bottom = $8, margin_left = $9, logo_png = $10, updated_at = now()
                """,
                [settings.government, settings.place, settings.template.pageSize.rawValue, settings.template.font.rawValue, settings.template.fontSize,
                 m.top, m.right, m.bottom, m.left, settings.template.logoPNG.map(PostgresBytes.init)])
            try await AuditLog.append(
                .init("letter_template.updated", objectType: "letter_template", actorUserID: actor.userID,
                      details: ["pageSize": settings.template.pageSize.rawValue, "font": settings.template.font.rawValue,
                                "logo": settings.template.logoPNG == nil ? "none" : "set"]),
                request: request, on: tx)
        }
        return try await template(actor: actor)
    }

    /// A unit's kop: its address and contact line.
    public func updateLetterhead(unit id: UUID, address: String, contacts: String, actor: Actor, request: RequestInfo) async throws {
        try authorize(actor, .manageLetterTemplate)
        var check = Validator()
        check.text(address, "address", length: 0...300)
        check.text(contacts, "contacts", length: 0...300)
        try check.throwIfInvalid()
        try await pool.withTransaction { tx in
            guard try await !tx.query(
                "UPDATE units SET letterhead_address = $2, letterhead_contacts = $3 WHERE id = $1 RETURNING id", [id, address, contacts]).isEmpty
            else { throw ServiceError.notFound("The unit") }
            try await AuditLog.append(
                .init("unit.letterhead_updated", objectType: "unit", objectID: id.uuidString, actorUserID: actor.userID), request: request, on: tx)
        }
    }

    public func letterhead(unit id: UUID) async throws -> (address: String, contacts: String) {
        guard let row = try await pool.query("SELECT letterhead_address, letterhead_contacts FROM units WHERE id = $1", [id]).first else {
            throw ServiceError.notFound("The unit")
        }
        return (try row.decode("letterhead_address"), try row.decode("letterhead_contacts"))
    }

    // MARK: Renewing B-LTA

    /// Appends a DSS for the newest time-stamp and a new document time-stamp to every PDF
    /// whose newest time-stamp's TSA certificate expires before `horizon` (by default within
    /// two years), so each stays verifiable after the TSA certificate ages out. Each renewal is
    /// a new version; the old bytes stay findable by their hash. Returns how many were renewed
    /// (at most `limit`; call again while it returns `limit`).
    ///
    /// When the TSA itself expires before the horizon, it is rotated first
    /// (``PKIService/rotateTimestampAuthority(ifExpiringBefore:actorUserID:request:)``):
    /// renewing with it would make every letter due again at once.
    ///
    /// `includingOtherTSAs` also renews every PDF whose newest time-stamp another TSA made:
    /// after an admin rotated the TSA because its key or algorithm is no longer trusted, this
    /// moves every letter onto the new one (`esurat timestamps renew --all`).
    @discardableResult
    public func renewTimestamps(
        expiringBefore horizon: Date = Date() + 2 * 365 * 86_400, includingOtherTSAs: Bool = false, limit: Int = 100
    ) async throws -> Int {
        try await pki.refreshTimestampAuthority()
        if try pki.timestampAuthority().certificate.notAfter <= horizon {
            try await pki.rotateTimestampAuthority(ifExpiringBefore: horizon, actorUserID: nil, request: .local)
        }
        let tsa = try pki.timestampAuthority().sendingChain([try pki.issuingCertificate()])
        let crl = try await pki.currentCRL()
        let due = try await pool.query(
            """
            SELECT p.letter_id, p.version, p.pdf, k.certificate
            FROM letter_pdfs p JOIN letter_documents d ON d.letter_id = p.letter_id
            JOIN signing_keys k ON k.certificate_serial = d.certificate_serial
            WHERE (p.timestamp_valid_until < $1 OR ($3 AND p.timestamp_valid_until <> $4))
              AND NOT EXISTS (SELECT 1 FROM letter_pdfs n WHERE n.letter_id = p.letter_id AND n.version > p.version)
            ORDER BY p.timestamp_valid_until LIMIT $2
            """, [horizon, limit, includingOtherTSAs, tsa.certificate.notAfter])
        var renewed = 0
        for row in due {
            let id: UUID = try row.decode("letter_id")
            let version: Int = try row.decode("version")
            let pdf = try row.decode("pdf", as: PostgresBytes.self).bytes
            let signer = try Certificate(pem: try row.decode("certificate"))
            let material = try pki.validationMaterial(signer: signer, crl: crl)
            let extended = try await blocking.run { try PAdESLetter.extend(pdf, material: material, timestampAuthority: tsa) }
            try await pool.withTransaction { tx in
                try await tx.query(
                    """
                    INSERT INTO letter_pdfs (letter_id, version, pdf, sha256, timestamp_valid_until) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT DO NOTHING
                    """,
                    [id, version + 1, PostgresBytes(extended), Digest.hex(try Digest.sha256(extended)), tsa.certificate.notAfter])
                try await AuditLog.append(
                    .init("letter.pdf_timestamp_renewed", objectType: "letter", objectID: id.uuidString, actorUserID: nil,
                          details: ["version": String(version + 1)]),
                    request: .local, on: tx)
            }
            renewed += 1
        }
        return renewed
    }
}

/// Renews the letters' document time-stamps (B-LTA) once a day, in `serve`. Any number of
/// replicas may run it: a renewal adds version n+1 once (ON CONFLICT DO NOTHING).
public struct TimestampRenewal: Service {
    let pdfs: LetterPDFService
    let interval: Duration
    let logger: Logger

    public init(pdfs: LetterPDFService, interval: Duration = .seconds(86_400), logger: Logger) {
        self.pdfs = pdfs
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: logger, failure: "renewing the PDFs' document time-stamps failed") {
            let renewed = try await pdfs.renewTimestamps()
            if renewed > 0 { logger.info("renewed PDF document time-stamps", metadata: ["count": "\(renewed)"]) }
        }
    }
}
