import EsuratDomain
public import EsuratPostgres
import EsuratSigning
import Foundation
import Synchronization

/// Writes the audit archive: a BagIt bag (RFC 8493) as one ustar stream, in a single pass
/// with flat memory. Letters are read in keyset pages; every payload file's SHA-256 and
/// SHA-512 are computed as it is written, and its manifest lines go to temporary files that
/// are copied into the archive at the end (BagIt does not care where in a tar the tag files
/// are; readers extract before validating).
///
/// Layout, under one top directory `<bag>/`:
/// `data/pki/` (ca.pem, crl.der, root-crl.der, tsa.pem, evidence.pem), `data/letters/<id>/`
/// (letter.json, document.json, document.p7s, document.tst, document.sigvalue, document.pdf,
/// attachments/, history.jsonl, deliveries.json, evidence/, dispositions.json),
/// `data/audit/` (events-NNNNNN.jsonl, checkpoints/, segment.json), `data/README.txt`, then
/// bagit.txt, bag-info.txt, the manifests and the tag manifests.
public final class ArchiveExporter: Sendable {
    /// The detached signature of tagmanifest-sha256.txt, a tag file of its own.
    public static let bagSignatureName = "tagmanifest-sha256.txt.p7s"

    let pool: PostgresPool
    let pki: PKIService
    let chain: AuditChain
    /// Letters per keyset page: a page of documents and signatures is a few MB.
    let pageSize: Int

    public init(pool: PostgresPool, pki: PKIService, chain: AuditChain, pageSize: Int = 250) {
        self.pool = pool
        self.pki = pki
        self.chain = chain
        self.pageSize = pageSize
    }

    public struct Progress: Sendable {
        public var letters: Int
        public var totalLetters: Int
        public var bytes: Int
    }

    public struct Result: Sendable {
        public var letters: Int
        public var bytes: Int
        public var sha256: String
        public var auditEvents: Int
        public var checkpoints: Int
    }

    /// How many letters the selection holds (for progress).
    public func count(_ selection: ArchiveSelection) async throws -> Int {
        let units = try await unitScope(selection.unitID)
        return try await pool.query(
            """
            SELECT count(*) AS n FROM letter_documents ld JOIN letters l ON l.id = ld.letter_id
            WHERE ld.signed_at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Jakarta'
              AND ld.signed_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Jakarta'
              AND ($3::uuid[] IS NULL OR l.unit_id = ANY($3))
              AND ($4::text IS NULL OR l.classification_code = $4 OR l.classification_code LIKE $4 || '.%')
            """, [selection.from, selection.to, units, selection.classification]).single().decode("n")
    }

    /// The unit and every unit below it.
    func unitScope(_ unit: UUID?) async throws -> [UUID]? {
        guard let unit else { return nil }
        return try await pool.query(
            """
            WITH RECURSIVE tree AS (SELECT id FROM units WHERE id = $1 UNION ALL SELECT u.id FROM units u JOIN tree t ON u.parent_id = t.id)
            SELECT id FROM tree
            """, [unit]).map { try $0.decode("id") }
    }

    /// Writes the bag for `selection` into `sink`.
    public func export(
        _ selection: ArchiveSelection, identifier: String, sink: any ArchiveSink,
        progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Result {
        // Everything committed so far is chained and a checkpoint signs the head, so the
        // period's events are all covered by a signed checkpoint.
        try await chain.sealAll()
        _ = try await chain.checkpoint()
        let now = Date()
        let units = try await unitScope(selection.unitID)
        let unitCode: String? = try await selection.unitID.asyncMap { id in
            try await pool.query("SELECT code FROM units WHERE id = $1", [id]).single().decode("code", as: String.self)
        }
        let total = try await count(selection)
        let schedules = try await RetentionService(pool: pool).schedules()

        let bagName = "esurat-arsip-\(selection.from.replacingOccurrences(of: "-", with: ""))-\(selection.to.replacingOccurrences(of: "-", with: ""))"
        let bag = try BagOutput(tar: try TarWriter(sink: sink, mtime: now), name: bagName)
        defer { bag.removeSpools() }
        let tar = bag.tar
        let payload = bag.payload

        // PKI first: a verifier reading the stream holds the trust anchors before the first
        // signature.
        try await payload("data/pki/ca.pem", Array(try pki.chainPEM().utf8))
        // A CRL issued now, after every signature and checkpoint of the period: a list older
        // than a signature's time-stamp could not vouch for it once it expired.
        try await payload("data/pki/crl.der", try await pki.publishCRL())
        try await payload("data/pki/root-crl.der", try await pki.rootCRLIssuedNow())
        try await payload("data/pki/tsa.pem", Array(try pemBundle(try await pki.timestampCertificates()).utf8))
        try await payload("data/pki/evidence.pem", Array(try pki.evidenceSigner().certificate.pem.utf8))

        // Letters, in keyset pages of (signed_at, id).
        // The keyset is the only lower bound of the scan, starting just before the first day
        // of the period: with a separate `signed_at >= from` (or a `$5 IS NULL OR …`), the
        // index scan of every page would start at the period's beginning and step over every
        // row already exported, quadratic in the period's size.
        var afterMicros: Int64 = try await pool.query(
            "SELECT (extract(epoch FROM ($1::date)::timestamp AT TIME ZONE 'Asia/Jakarta') * 1000000)::bigint - 1 AS start",
            [selection.from]).single().decode("start")
        var afterID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        var letters = 0
        while true {
            let rows = try await pool.query(
                """
                SELECT l.id, l.number, l.subject, l.type, l.classification_code, l.security_level, l.urgency, l.status, l.unit_id,
                       u.code AS unit_code, ld.document, ld.signature, ld.certificate_serial, ld.signer_capacity, ld.signed_at,
                       (extract(epoch FROM ld.signed_at) * 1000000)::bigint AS signed_us,
                       (SELECT p.pdf FROM letter_pdfs p WHERE p.letter_id = ld.letter_id ORDER BY p.version DESC LIMIT 1) AS pdf
                FROM letter_documents ld JOIN letters l ON l.id = ld.letter_id JOIN units u ON u.id = l.unit_id
                WHERE (ld.signed_at, ld.letter_id) > (to_timestamp(0) + $4::bigint * interval '1 microsecond', $5::uuid)
                  AND ld.signed_at < ($1::date + 1)::timestamp AT TIME ZONE 'Asia/Jakarta'
                  AND ($2::uuid[] IS NULL OR l.unit_id = ANY($2))
                  AND ($3::text IS NULL OR l.classification_code = $3 OR l.classification_code LIKE $3 || '.%')
                ORDER BY ld.signed_at, ld.letter_id LIMIT $6
                """, [selection.to, units, selection.classification, afterMicros, afterID, pageSize])
            if rows.isEmpty { break }
            let ids: [UUID] = try rows.map { try $0.decode("id") }
            let related = try await Related.load(ids, on: pool)
            for row in rows {
                try await writeLetter(row, related: related, schedules: schedules, now: now, bag: bag)
                letters += 1
            }
            afterMicros = try rows.last!.decode("signed_us")
            afterID = ids.last!
            progress(Progress(letters: letters, totalLetters: total, bytes: tar.bytesWritten))
        }

        // The audit segment: from the period's first chained event to the first checkpoint at
        // or after its last one, so every event of the period is linked to a signed head.
        let audit = try await writeAudit(selection, payload: payload)

        try await payload("data/README.txt", Array(ArchiveReadme.text(bag: bagName).utf8))

        // Tag files.
        var tags: [(String, String, String)] = []
        func tag(_ name: String, _ bytes: [UInt8]) async throws {
            let digests = try await tar.add(path: "\(bagName)/\(name)", bytes: bytes)
            tags.append((name, digests.sha256, digests.sha512))
        }
        try await tag("bagit.txt", Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8))
        let bagDate = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "Asia/Jakarta") ?? .gmt, formatOptions: [.withFullDate])
        var info = """
            Source-Organization: \(pki.organization)
            Bagging-Date: \(bagDate)
            Payload-Oxum: \(bag.payloadBytes).\(bag.payloadFiles)
            External-Identifier: \(identifier)
            Bag-Software-Agent: esurat
            Esurat-Period: \(selection.from)/\(selection.to)
            Esurat-Letters: \(letters)
            Esurat-Audit-Events: \(audit.events)

            """
        if let unitCode { info += "Esurat-Unit: \(unitCode)\n" }
        if let classification = selection.classification { info += "Esurat-Classification: \(classification)\n" }
        try await tag("bag-info.txt", Array(info.utf8))
        try bag.manifest256.close()
        try bag.manifest512.close()
        let m256 = try await tar.add(path: "\(bagName)/manifest-sha256.txt", file: bag.manifest256.path)
        tags.append(("manifest-sha256.txt", m256.sha256, m256.sha512))
        let m512 = try await tar.add(path: "\(bagName)/manifest-sha512.txt", file: bag.manifest512.path)
        tags.append(("manifest-sha512.txt", m512.sha256, m512.sha512))
        let tagManifest = Array(tags.map { "\($0.1)  \($0.0)\n" }.joined().utf8)
        try await tar.add(path: "\(bagName)/tagmanifest-sha256.txt", bytes: tagManifest)
        try await tar.add(path: "\(bagName)/tagmanifest-sha512.txt", bytes: Array(tags.map { "\($0.2)  \($0.0)\n" }.joined().utf8))
        // The bag as a whole, signed: the tag manifest covers bagit.txt, bag-info.txt and both
        // payload manifests, which cover every payload file, so this one signature (the
        // server's evidence key, time-stamped) makes any change anywhere show — an edited,
        // added or removed file, an audit segment cut short at either end — where the
        // manifests alone can simply be recomputed by whoever edits the bag.
        let signer = try pki.evidenceSigner(timestamped: true)
        let bagSignature = try await chain.blocking.run { try signer.sign(tagManifest, at: Date()) }
        try await tar.add(path: "\(bagName)/\(ArchiveExporter.bagSignatureName)", bytes: bagSignature)
        let sha256 = try await tar.close()
        progress(Progress(letters: letters, totalLetters: total, bytes: tar.bytesWritten))
        return Result(letters: letters, bytes: tar.bytesWritten, sha256: sha256, auditEvents: audit.events, checkpoints: audit.checkpoints)
    }

    /// A payload file name from a user's file name: ASCII letters, digits, dot, dash and
    /// underscore (BagIt manifests, ustar headers and every OS's file system take them).
    static func safeName(_ name: String, index: Int) -> String {
        let cleaned = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        }.prefix(60))
        let trimmed = cleaned.drop { $0 == "." }
        return String(format: "%02d-", index + 1) + (trimmed.isEmpty ? "lampiran" : String(trimmed))
    }

    /// 0001-01-01 in microseconds since 1970: before every row, as a keyset start.
    static let beforeEverything: Int64 = -62_135_596_800 * 1_000_000

    /// One formatter for every letter: making an ISO8601DateFormatter costs more than
    /// formatting with it, and an export formats three dates per letter.
    static let isoFormatter: Mutex<ISO8601DateFormatter> = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Mutex(formatter)
    }()

    static func iso(_ date: Date) -> String {
        isoFormatter.withLock { $0.string(from: date) }
    }

    private func writeLetter(
        _ row: PostgresRow, related: Related, schedules: [String: RetentionSchedule], now: Date, bag: BagOutput
    ) async throws {
        let payload = bag.payload
        let tar = bag.tar
        let id: UUID = try row.decode("id")
        let dir = "data/letters/\(id.lowercasedString)"
        let signedAt: Date = try row.decode("signed_at")
        let code: String = try row.decode("classification_code")
        let attachments = related.attachments[id] ?? []
        var meta: [String: JSONValue] = [
            "format": .string("esurat/archived-letter/1"),
            "id": .string(id.lowercasedString),
            "number": (try row.decode("number", as: String?.self)).map(JSONValue.string) ?? .null,
            "subject": .string(try row.decode("subject")),
            "type": .string(try row.decode("type")),
            "classificationCode": .string(code),
            "securityLevel": .string(try row.decode("security_level")),
            "urgency": .string(try row.decode("urgency")),
            "status": .string(try row.decode("status")),
            "unitId": .string(try row.decode("unit_id", as: UUID.self).lowercasedString),
            "unitCode": .string(try row.decode("unit_code")),
            "signedAt": .string(Self.iso(signedAt)),
            "certificateSerial": .string(try row.decode("certificate_serial")),
            "signerCapacity": .string(try row.decode("signer_capacity")),
            "attachments": .array(attachments.enumerated().map { index, a in
                .object([
                    "file": .string("attachments/" + Self.safeName(a.filename, index: index)), "name": .string(a.filename),
                    "mediaType": .string(a.mediaType), "size": .number(Double(a.size)), "sha256": .string(a.sha256),
                ])
            }),
        ]
        if let schedule = RetentionSchedule.applicable(to: code, in: schedules) {
            let status = RetentionStatus(schedule: schedule, recordDate: signedAt, now: now)
            meta["retention"] = .object([
                "scheduleCode": .string(schedule.code), "activeYears": .number(Double(schedule.activeYears)),
                "inactiveYears": .number(Double(schedule.inactiveYears)), "finalDisposition": .string(schedule.finalDisposition.rawValue),
                "activeUntil": .string(Self.iso(status.activeUntil)), "inactiveUntil": .string(Self.iso(status.inactiveUntil)),
                "state": .string(status.phase.rawValue),
            ])
        }
        try await payload("\(dir)/letter.json", try CanonicalJSON.encode(.object(meta)))
        try await payload("\(dir)/document.json", try row.decode("document", as: PostgresBytes.self).bytes)
        let signature = try row.decode("signature", as: PostgresBytes.self).bytes
        try await payload("\(dir)/document.p7s", signature)
        // The signature value and its time-stamp token as separate files, for `openssl ts -verify`.
        if let parts = try? SignatureParts(der: signature), let token = parts.timestampToken {
            try await payload("\(dir)/document.sigvalue", parts.signatureValue)
            try await payload("\(dir)/document.tst", token)
        }
        // The signed PDF (PAdES B-LTA, newest renewal), for people and for PDF validators.
        if let pdf = try row.decode("pdf", as: PostgresBytes?.self)?.bytes {
            try await payload("\(dir)/document.pdf", pdf)
        }
        // Attachments stream from the database in 1 MiB pieces.
        for (index, attachment) in attachments.enumerated() {
            let path = "\(dir)/attachments/\(Self.safeName(attachment.filename, index: index))"
            try await tar.begin(path: "\(bag.name)/\(path)", size: attachment.size)
            let digest = try StreamingDigest()
            var offset = 0
            let piece = 1 << 20
            while offset < attachment.size {
                let bytes = try await pool.query(
                    "SELECT substring(content FROM $2::int FOR $3::int) AS part FROM attachments WHERE id = $1",
                    [attachment.id, offset + 1, piece]).single().decode("part", as: PostgresBytes.self).bytes
                guard !bytes.isEmpty else { throw ServiceError(.conflict, "attachment \(attachment.id) is shorter than its recorded size") }
                try digest.update(bytes)
                try await tar.content(bytes)
                offset += bytes.count
            }
            try await tar.end(size: attachment.size)
            let digests = try digest.finalize()
            try bag.record(path, digests, size: attachment.size)
        }
        let history = related.history[id] ?? []
        try await payload("\(dir)/history.jsonl", Array(try history.map { String(decoding: try CanonicalJSON.encode(.object($0)), as: UTF8.self) + "\n" }.joined().utf8))
        try await payload("\(dir)/deliveries.json", try related.deliveries[id].map { try CanonicalJSON.canonicalize($0) } ?? Array("[]".utf8))
        for evidence in related.evidence[id] ?? [] {
            let name = "\(dir)/evidence/\(evidence.deliveryID.lowercasedString)-\(evidence.kind)"
            try await payload(name + ".json", evidence.record)
            try await payload(name + ".p7s", evidence.signature)
        }
        try await payload("\(dir)/dispositions.json", try related.dispositions[id].map { try CanonicalJSON.canonicalize($0) } ?? Array("[]".utf8))
    }

    // MARK: Audit segment

    private func writeAudit(_ selection: ArchiveSelection, payload: (String, [UInt8]) async throws -> Void) async throws -> (events: Int, checkpoints: Int) {
        let bounds = try await pool.query(
            """
            WITH newest AS (SELECT max(chain_seq) AS head FROM audit_checkpoints)
            SELECT min(e.chain_seq) AS first, max(e.chain_seq) AS last FROM audit_events e, newest
            WHERE e.occurred_at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Jakarta'
              AND e.occurred_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Jakarta'
              AND e.chain_seq <= newest.head
            """, [selection.from, selection.to]).single()
        var segment: [String: JSONValue] = [
            "format": .string("esurat/audit-segment/1"), "periodFrom": .string(selection.from), "periodTo": .string(selection.to),
        ]
        guard let first = try bounds.decode("first", as: Int64?.self), let last = try bounds.decode("last", as: Int64?.self) else {
            segment["events"] = .number(0)
            try await payload("data/audit/segment.json", try CanonicalJSON.encode(.object(segment)))
            return (0, 0)
        }
        let end: Int64 = try await pool.query("SELECT min(chain_seq) AS e FROM audit_checkpoints WHERE chain_seq >= $1", [last]).single().decode("e")
        // The checkpoints before the events: a verifier reading the tar front to back then
        // knows which events' hashes it must keep for them, and keeps only those (an archive
        // of a busy year holds millions of events). Keyset pages: one every 15 minutes is
        // 35,000 a year.
        var checkpointCount = 0
        var after = first - 1
        while true {
            let page = try await pool.query(
                """
                SELECT id, chain_seq, encode(head_hash, 'hex') AS head_hash, statement, signature, created_at
                FROM audit_checkpoints WHERE chain_seq > $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT 500
                """, [after, end]).map(AuditChain.checkpoint)
            guard let last = page.last else { break }
            for checkpoint in page {
                let name = String(format: "data/audit/checkpoints/%012lld", checkpoint.sequence)
                try await payload(name + ".json", checkpoint.statement)
                try await payload(name + ".p7s", checkpoint.signature)
                if let parts = try? SignatureParts(der: checkpoint.signature), let token = parts.timestampToken {
                    try await payload(name + ".sigvalue", parts.signatureValue)
                    try await payload(name + ".tst", token)
                }
            }
            checkpointCount += page.count
            after = last.sequence
        }
        var written = 0
        var file = 0
        var cursor = first - 1
        while cursor < end {
            let rows = try await pool.query(
                """
                SELECT seq, chain_seq, id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
                       actor_user_id, acting_position_id, acting_capacity, action, object_type, object_id, client_address, request_id,
                       details::text AS details, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
                FROM audit_events WHERE chain_seq > $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT 5000
                """, [cursor, end])
            if rows.isEmpty { break }
            var text: [UInt8] = []
            for row in rows {
                text += try CanonicalJSON.encode(.object(try AuditChain.sealedEvent(row)))
                text.append(UInt8(ascii: "\n"))
            }
            file += 1
            try await payload(String(format: "data/audit/events-%06d.jsonl", file), text)
            written += rows.count
            cursor = try rows.last!.decode("chain_seq")
        }
        segment["firstSequence"] = .number(Double(first))
        segment["lastSequence"] = .number(Double(end))
        segment["events"] = .number(Double(written))
        segment["eventFiles"] = .number(Double(file))
        segment["checkpoints"] = .number(Double(checkpointCount))
        try await payload("data/audit/segment.json", try CanonicalJSON.encode(.object(segment)))
        return (written, checkpointCount)
    }
}
