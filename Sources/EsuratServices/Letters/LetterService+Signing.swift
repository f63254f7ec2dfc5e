public import EsuratDomain
public import EsuratPostgres
public import EsuratSigning
public import Foundation

extension LetterService {
    /// Signs the letter with the caller's key, unlocked by `passphrase` (every signature
    /// needs it; the key cache only spares repeating the scrypt work for the right one). In
    /// one transaction: the state, the next number of the unit's gapless yearly sequence, the
    /// canonical document and its CAdES-T signature, one outbox delivery per
    /// recipient and the audit event. Any failure (a wrong passphrase, a revoked or expired
    /// certificate) leaves the letter and its number untouched.
    ///
    /// Wrong passphrases are limited per official (``SigningLimits``), counted so that
    /// parallel guesses cannot pass the count, and each is audited on the letter as
    /// `letter.sign_passphrase_wrong`.
    public func sign(_ id: UUID, passphrase: String, caller: IdentityService.Authenticated, request: RequestInfo) async throws -> LetterRecord {
        var check = Validator()
        check.check(!passphrase.isEmpty && passphrase.count <= 1024, "passphrase", "is required")
        try check.throwIfInvalid()
        let tsa = try pki.timestampAuthority()
        // The CRL the PDF's DSS carries, read before any lock is taken.
        let crl = try await pki.currentCRL()
        guard try await signed(id, passphrase: passphrase, caller: caller, request: request, tsa: tsa, crl: crl) else {
            throw ServiceError(.unprocessable, "The passphrase does not unlock your signing key.", fields: [.init("passphrase", "does not unlock the signing key")])
        }
        // The view is read after the commit: inside, it would hold the unit's number lock
        // longer and serialise the unit's other signings behind it.
        return try await letter(id, caller: caller)
    }

    /// How many wrong signing passphrases an official may type within a window.
    public struct SigningLimits: Sendable {
        public var perSigner = 5
        public var window: Duration = .seconds(15 * 60)
        public init() {}
    }

    /// False when the passphrase was wrong: that transaction commits only the counted failure
    /// and its audit event.
    private func signed(
        _ id: UUID, passphrase: String, caller: IdentityService.Authenticated, request: RequestInfo, tsa: TimestampAuthority, crl: [UInt8]
    ) async throws -> Bool {
        try await pool.withTransaction { tx in
            let (state, _) = try await self.lockedState(id, caller: caller, on: tx)
            let (next, actions) = try Self.transition(LetterWorkflow.apply(.sign, to: state, by: Self.workflowActor(caller), at: Date()))
            guard let (capacity, acting) = actions.lazy.compactMap({ action -> (SigningCapacity, ActingPosition)? in
                if case .signDocument(let capacity, let acting) = action { return (capacity, acting) } else { return nil }
            }).first else { throw ServiceError(.conflict, "The letter cannot be signed now.") }

            // Everything the document states, and the signer's key, in one round trip. The
            // number comes after all of it: a wrong passphrase must not touch the number, and
            // the (unit, year) row lock it takes serialises the unit's signings until commit,
            // so the less that happens under it the better.
            let facts = try await tx.pipelined([
                PostgresStatement(
                    """
                    SELECT k.certificate_serial, k.certificate, k.private_key, r.certificate_serial IS NOT NULL AS revoked
                    FROM signing_keys k LEFT JOIN certificate_revocations r ON r.certificate_serial = k.certificate_serial
                    WHERE k.user_id = $1 ORDER BY k.created_at DESC LIMIT 1
                    """, [caller.user.id]),
                PostgresStatement(
                    """
                    SELECT l.type, l.subject, l.classification_code, l.security_level, l.urgency, l.body, l.unit_id,
                           u.code AS unit_code, u.name AS unit_name, u.number_template, u.letterhead_address, u.letterhead_contacts
                    FROM letters l JOIN units u ON u.id = l.unit_id WHERE l.id = $1
                    """, [id]),
                PostgresStatement("SELECT u.full_name, u.nip, u.rank, p.title FROM users u, positions p WHERE u.id = $1 AND p.id = $2", [caller.user.id, acting.positionID]),
                PostgresStatement(
                    "SELECT r.unit_id, r.role, u.code, u.name FROM letter_recipients r JOIN units u ON u.id = r.unit_id WHERE r.letter_id = $1 ORDER BY r.position",
                    [id]),
                PostgresStatement("SELECT filename, media_type, size, sha256 FROM attachments WHERE letter_id = $1 ORDER BY created_at, id", [id]),
                PostgresStatement(
                    """
                    SELECT page_size, margin_top, margin_right, margin_bottom, margin_left, font, font_size, logo_png, government, place
                    FROM letter_template
                    """, []),
            ] + (capacity == .an ? [
                // a.n.: the mandate must still be in force when the signature is given.
                PostgresStatement(
                    """
                    SELECT p.title FROM signing_mandates m JOIN positions p ON p.id = m.principal_position_id
                    WHERE m.position_id = $1 AND m.principal_position_id = $2 AND m.valid_from <= now() AND m.valid_until > now()
                    """, [acting.positionID, state.waitingStep?.principalPositionID]),
            ] : []))
            var principalTitle: String?
            if capacity == .an {
                guard let principal = facts[6].first else {
                    throw ServiceError(.conflict, "The mandate (a.n.) this letter is to be signed under is no longer in force; return the letter so its route is named again.")
                }
                principalTitle = try principal.decode("title")
            }
            guard let keyRow = facts[0].first else {
                throw ServiceError(.unprocessable, "You have no signing key yet; make one with POST /api/v1/me/signing-key.", fields: [.init("passphrase", "no signing key")])
            }
            guard try !keyRow.decode("revoked", as: Bool.self) else {
                throw ServiceError(.unprocessable, "Your signing certificate was revoked; make a new signing key.", fields: [.init("passphrase", "certificate revoked")])
            }
            let keyPEM: String = try keyRow.decode("private_key")
            let serial: String = try keyRow.decode("certificate_serial")
            let certificate = try Certificate(pem: try keyRow.decode("certificate"))
            // A passphrase the key cache knows is right costs an HMAC and is never counted, so a
            // head signing a morning's batch at once is not slowed. Any other is tried with the
            // full scrypt unlock, one at a time per official across every replica (the lock),
            // after the failures of the window were counted: parallel guesses cannot pass the
            // count, and a wrong one commits its failure before the next guess may look.
            let key: PrivateKey
            if let known = self.keyCache?.cached(keyID: serial, passphrase: passphrase) {
                key = known
            } else {
                let window = Double(self.signingLimits.window.components.seconds)
                let gate = try await tx.pipelined([
                    PostgresStatement("SELECT pg_advisory_xact_lock(3, hashtext($1))", [caller.user.id.uuidString]),
                    PostgresStatement(
                        """
                        SELECT count(*) AS failures, extract(epoch FROM min(at) + make_interval(secs => $2) - now())::int8 AS retry_after
                        FROM signing_passphrase_failures WHERE user_id = $1 AND at > now() - make_interval(secs => $2)
                        """, [caller.user.id, window]),
                ])
                let counted = try gate[1].single()
                if try counted.decode("failures", as: Int.self) >= self.signingLimits.perSigner {
                    let retryAfter = max(1, try counted.decode("retry_after", as: Int?.self) ?? Int(window))
                    throw ServiceError(.rateLimited, "Too many wrong signing passphrases; try again in \(retryAfter) seconds.", retryAfterSeconds: retryAfter)
                }
                do {
                    key = try await self.blocking.run { [keyCache = self.keyCache] in
                        if let keyCache { try keyCache.unlock(keyID: serial, pem: keyPEM, passphrase: passphrase) }
                        else { try PrivateKey.unlock(pem: keyPEM, passphrase: passphrase) }
                    }
                } catch PrivateKey.UnlockError.wrongPassphrase {
                    try await tx.query("INSERT INTO signing_passphrase_failures (user_id) VALUES ($1)", [caller.user.id])
                    try await AuditLog.append(
                        .init("letter.sign_passphrase_wrong", objectType: "letter", objectID: id.uuidString, actorUserID: caller.user.id,
                              actingPosition: acting),
                        request: request, on: tx)
                    return false
                }
            }

            let letter = try facts[1].single()
            let signerRow = try facts[2].single()
            let recipients = facts[3]
            let attachments = try facts[4].map {
                CanonicalLetterDocument.Attachment(name: try $0.decode("filename"), mediaType: try $0.decode("media_type"), size: try $0.decode("size"), sha256: try $0.decode("sha256"))
            }
            let unitID: UUID = try letter.decode("unit_id")
            let unitCode: String = try letter.decode("unit_code")
            let (pdfTemplate, government, place) = try LetterPrinter.template(try facts[5].single())
            let unitName: String = try letter.decode("unit_name")
            let jakarta = TimeZone(identifier: "Asia/Jakarta") ?? .gmt
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = jakarta
            let now = Date()
            let parts = calendar.dateComponents([.year, .month, .day], from: now)
            let year = parts.year!, month = parts.month!, day = parts.day!
            let template = try (try letter.decode("number_template", as: String?.self)).map { try LetterNumberTemplate($0) } ?? .standard
            let classification = ClassificationCode(try letter.decode("classification_code"))!
            let security = SecurityLevel(rawValue: try letter.decode("security_level")) ?? .biasa
            func reference(_ row: PostgresRow) throws -> CanonicalLetterDocument.UnitReference {
                .init(id: try row.decode("unit_id"), code: try row.decode("code"), name: try row.decode("name"))
            }

            // The number: the row lock on (unit, year) orders concurrent signings; a rollback
            // gives the number back.
            let sequence: Int = try await tx.query(
                """
                INSERT INTO letter_number_sequences (unit_id, year, last_value) VALUES ($1, $2, 1)
                ON CONFLICT (unit_id, year) DO UPDATE SET last_value = letter_number_sequences.last_value + 1
                RETURNING last_value
                """, [unitID, year]).single().decode("last_value")
            let number = template.format(.init(
                classification: classification, sequence: sequence, unitCode: unitCode, year: year, month: month, securityLevel: security))
            let document = CanonicalLetterDocument(
                letterID: id, number: number, date: CalendarDay(year: year, month: month, day: day)!,
                type: LetterType(rawValue: try letter.decode("type")) ?? .suratDinas, subject: try letter.decode("subject"),
                classification: classification, securityLevel: security, urgency: Urgency(rawValue: try letter.decode("urgency")) ?? .biasa,
                sender: .init(id: unitID, code: unitCode, name: unitName),
                signer: .init(name: try signerRow.decode("full_name"), nip: try signerRow.decode("nip", as: String?.self) ?? "",
                              positionTitle: try signerRow.decode("title"), rank: try signerRow.decode("rank", as: String?.self),
                              capacity: capacity, principalTitle: principalTitle, positionID: acting.positionID, userID: caller.user.id),
                recipients: try recipients.filter { try $0.decode("role", as: String.self) == "to" }.map(reference),
                copies: try recipients.filter { try $0.decode("role", as: String.self) == "cc" }.map(reference),
                body: try letter.decode("body"), attachments: attachments,
                letterhead: .init(
                    government: government, unit: unitName, address: try letter.decode("letterhead_address"),
                    contacts: try letter.decode("letterhead_contacts"), place: place))
            let bytes = try document.canonicalBytes()
            // One outbox delivery per recipient (ids made here), each with its signed
            // SubmissionAcceptance evidence: signed in the same trip to the blocking pool as the
            // document, as every hop under the number lock keeps the unit's next signing waiting.
            let deliveries = try recipients.map { (id: UUID(), unitID: try $0.decode("unit_id", as: UUID.self), role: try $0.decode("role", as: String.self)) }
            let documentSHA256 = Digest.hex(try Digest.sha256(bytes))
            let subjects = deliveries.map {
                Evidence.Subject(
                    deliveryID: $0.id, letterID: id, letterNumber: number, documentSHA256: documentSHA256, senderUnitID: unitID,
                    recipientUnitID: $0.unitID, attempt: 0)
            }
            let evidenceSigner = try self.pki.evidenceSigner()
            let material = try self.pki.validationMaterial(signer: certificate, crl: crl)
            let printer = self.printer
            let issuing = try self.pki.issuingCertificate()
            let pdfTSA = tsa.sendingChain([issuing])
            // The CAdES signature, the evidence, and the PDF rendered from the signed document
            // and signed PAdES B-LTA with the same key: one trip to the blocking pool.
            let (signed, evidence) = try await self.blocking.run {
                () -> (Result<(cades: [UInt8], pdf: [UInt8]), CMSSigner.Refusal>, Evidence.SignedRecords) in
                let signed: Result<(cades: [UInt8], pdf: [UInt8]), CMSSigner.Refusal>
                do {
                    let signer = CMSSigner(certificate: certificate, key: key, chain: [], timestampAuthority: tsa)
                    let cades = try signer.sign(bytes, at: now)
                    // The PDF carries the issuing CA in its signature and time-stamps, so it
                    // verifies on its own wherever it is forwarded.
                    let pdf = try printer.signedPDF(
                        document: document, bytes: bytes, cades: cades, template: pdfTemplate,
                        signer: CMSSigner(certificate: certificate, key: key, chain: [issuing], timestampAuthority: pdfTSA), material: material,
                        timestampAuthority: pdfTSA, at: now)
                    signed = .success((cades, pdf))
                } catch let refusal as CMSSigner.Refusal {
                    signed = .failure(refusal)
                }
                return (signed, try Evidence.sign(.submissionAcceptance, for: subjects, signer: evidenceSigner, at: now))
            }
            let signature: [UInt8], pdf: [UInt8]
            switch signed {
            case .success(let made): (signature, pdf) = made
            case .failure(let refusal):
                throw ServiceError(.unprocessable, "\(refusal)", fields: [.init("passphrase", "the signing certificate cannot sign")])
            }

            // The writes and the commit in one round trip: number, state, document, deliveries,
            // evidence, audit.
            var writes = [
                PostgresStatement(
                    "UPDATE letters SET number = $2, number_year = $3, number_sequence = $4, signed_at = $5, pending_deliveries = $6 WHERE id = $1",
                    [id, number, year, sequence, now, deliveries.count]),
                try self.storeStatement(id, next),
                PostgresStatement(
                    """
                    INSERT INTO letter_documents (letter_id, document, signature, certificate_serial, signer_user_id, signer_position_id, signer_capacity, signed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    [id, PostgresBytes(bytes), PostgresBytes(signature), certificate.serialHex, caller.user.id, acting.positionID, capacity.rawValue, now]),
            ]
            writes.append(PostgresStatement(
                "INSERT INTO letter_pdfs (letter_id, version, pdf, sha256, timestamp_valid_until) VALUES ($1, 1, $2, $3, $4)",
                [id, PostgresBytes(pdf), Digest.hex(try Digest.sha256(pdf)), tsa.certificate.notAfter]))
            writes += deliveries.map {
                PostgresStatement("INSERT INTO deliveries (id, letter_id, recipient_unit_id, role) VALUES ($1, $2, $3, $4)", [$0.id, id, $0.unitID, $0.role])
            }
            writes += Evidence.statements(.submissionAcceptance, signed: evidence, for: subjects)
            writes += try self.auditStatements(actions, letter: id, caller: caller, request: request)
            writes.append(PostgresStatement("SELECT pg_notify('deliveries', $1)", [id.uuidString]))
            try await tx.pipelinedAndCommit(writes)
            return true
        }
    }
}
