public import EsuratDomain
public import EsuratPostgres
public import EsuratSigning
public import Foundation
import Synchronization

/// The installation's internal CA, kept in PostgreSQL so every replica shares it: issues
/// officials' signing certificates, revokes them, publishes CRLs, and lends the TSA and the
/// trust store to signing and verification.
///
/// The issuing CA's and the TSA's keys are unlocked once with the PKI passphrase the server
/// is given and then held in memory: the TSA signs a time-stamp for every letter, and
/// unlocking an scrypt-protected key per time-stamp would cost 30 ms each. Officials' keys
/// are unlocked only for the one signature their passphrase was given for.
public final class PKIService: Sendable {
    struct Authority: Sendable {
        var root: Certificate
        /// The root's (empty) CRL, so verifiers can judge the issuing CA; signed at start with
        /// the root key, which is then dropped.
        var rootCRL: RevocationList
        var issuing: Certificate
        var issuingKey: PrivateKey
        var tsa: TimestampAuthority
        /// Signs delivery evidence as the server.
        var evidence: CMSSigner
    }

    let pool: PostgresPool
    let blocking: BlockingWork
    let passphrase: String
    let organization: String
    private let loaded = Mutex<Authority?>(nil)
    /// A new CRL is published when the newest is older than this.
    let crlLifetime: TimeInterval = 86_400

    public init(pool: PostgresPool, blocking: BlockingWork, passphrase: String, organization: String) {
        self.pool = pool
        self.blocking = blocking
        self.passphrase = passphrase
        self.organization = organization
    }

    /// A key for `purpose` derived from the PKI passphrase: the same on every replica and
    /// across restarts, and never in the database.
    public func derivedSecret(_ purpose: String) throws -> [UInt8] {
        try Digest.hmacSHA256(key: Array(passphrase.utf8), Array("esurat derived secret: \(purpose)".utf8))
    }

    /// Makes the CA on first start (under an advisory lock, so replicas make one) and loads it.
    public func start() async throws {
        let passphrase = self.passphrase
        let organization = self.organization
        let blocking = self.blocking
        try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", [Int64(0x6573_7572_706B)])
            guard try await tx.query("SELECT 1 FROM pki_material").isEmpty else { return }
            let pki = try await blocking.run { try Self.makeAuthority(organization: organization, passphrase: passphrase) }
            for (name, certificate, key) in pki {
                try await tx.query("INSERT INTO pki_material (name, certificate, private_key) VALUES ($1, $2, $3)", [name, certificate, key])
            }
            try await AuditLog.append(.init("pki.initialised", objectType: "pki", actorUserID: nil, details: ["organization": organization]), request: .local, on: tx)
        }
        try await ensureEvidenceKey()
        let rows = try await pool.query("SELECT name, certificate, private_key FROM pki_material")
        var material: [String: (certificate: String, key: String)] = [:]
        for row in rows { material[try row.decode("name")] = (try row.decode("certificate"), try row.decode("private_key")) }
        guard let root = material["root"], let issuing = material["issuing"], let tsa = material["tsa"], let evidence = material["evidence"] else {
            throw ServiceError(.conflict, "the internal CA in the database is incomplete")
        }
        let authority = try await blocking.run {
            let issuingCertificate = try Certificate(pem: issuing.certificate)
            do {
                let rootCertificate = try Certificate(pem: root.certificate)
                let rootKey = try PrivateKey.unlock(pem: root.key, passphrase: passphrase)
                let rootCRL = try CertificateIssuer.crl(issuer: rootCertificate, key: rootKey, revoked: [], number: 1, nextUpdate: Date() + 365 * 86_400)
                return Authority(
                    root: rootCertificate, rootCRL: rootCRL, issuing: issuingCertificate,
                    issuingKey: try PrivateKey.unlock(pem: issuing.key, passphrase: passphrase),
                    // Tokens carry the TSA's certificate but not the intermediates: verifiers
                    // hold the chain (ca.pem), and every embedded certificate costs each
                    // verification a parse (OpenSSL 3.0 decodes keys slowly).
                    tsa: TimestampAuthority(
                        certificate: try Certificate(pem: tsa.certificate), key: try PrivateKey.unlock(pem: tsa.key, passphrase: passphrase),
                        chain: []),
                    evidence: CMSSigner(
                        certificate: try Certificate(pem: evidence.certificate), key: try PrivateKey.unlock(pem: evidence.key, passphrase: passphrase),
                        chain: [], timestampAuthority: nil))
            } catch PrivateKey.UnlockError.wrongPassphrase {
                throw ServiceError(.unauthorized, "ESURAT_PKI_PASSPHRASE does not unlock the internal CA's keys")
            }
        }
        loaded.withLock { $0 = authority }
        _ = try await currentCRL()
    }

    /// Issues the server's evidence certificate once (installations made before evidence
    /// existed get theirs at their next start), and again when the one there lacks the
    /// evidence purpose (made before verifiers required it): verifiers accept server
    /// signatures only from a certificate with that purpose, which officials' never carry.
    func ensureEvidenceKey() async throws {
        let passphrase = self.passphrase
        let organization = self.organization
        let blocking = self.blocking
        try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", [Int64(0x6573_7572_706B)])
            if let existing = try await tx.query("SELECT certificate FROM pki_material WHERE name = 'evidence'").first {
                let certificate = try Certificate(pem: try existing.decode("certificate"))
                guard !certificate.extendedKeyUsages.contains(CertificateProfile.evidencePurpose) else { return }
                try await tx.query("DELETE FROM pki_material WHERE name = 'evidence'")
            }
            let issuing = try await tx.query("SELECT certificate, private_key FROM pki_material WHERE name = 'issuing'").single()
            let issuingPEM: String = try issuing.decode("certificate")
            let issuingKeyPEM: String = try issuing.decode("private_key")
            let (certificate, key) = try await blocking.run { () -> (String, String) in
                let issuingKey = try PrivateKey.unlock(pem: issuingKeyPEM, passphrase: passphrase)
                let key = try PrivateKey.generate()
                let certificate = try CertificateIssuer.issue(
                    subject: .init(commonName: "\(organization) esurat Evidence", organization: organization), publicKeyOf: key,
                    profile: .evidence, issuer: (try Certificate(pem: issuingPEM), issuingKey), notAfter: Date() + 5 * 365 * 86_400)
                return (try certificate.pem, try key.encryptedPEM(passphrase: passphrase))
            }
            try await tx.query("INSERT INTO pki_material (name, certificate, private_key) VALUES ('evidence', $1, $2)", [certificate, key])
        }
    }

    /// The signer of delivery evidence: CAdES-BES with signing time, no time-stamp token. The
    /// record states its own event time (as EN 319 522 evidence does) and is signed by the
    /// server; a token from the server's own TSA would add a second signature by the same
    /// operator and no independent proof of time, at twice the signing cost per delivery.
    /// Audit checkpoints (`timestamped`) do carry a token: what an auditor asks of a checkpoint
    /// is when the chain head existed, and the token states it apart from the signing time.
    func evidenceSigner(timestamped: Bool = false) throws -> CMSSigner {
        let authority = try authority()
        return CMSSigner(certificate: authority.evidence.certificate, key: authority.evidence.key, chain: [], timestampAuthority: timestamped ? authority.tsa : nil)
    }

    static func makeAuthority(organization: String, passphrase: String) throws -> [(String, String, String)] {
        let year: TimeInterval = 365 * 86_400
        let rootKey = try PrivateKey.generate()
        let root = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Root CA", organization: organization), publicKeyOf: rootKey,
            profile: .rootCA, issuer: nil, notAfter: Date() + 20 * year)
        let issuingKey = try PrivateKey.generate()
        let issuing = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Issuing CA", organization: organization), publicKeyOf: issuingKey,
            profile: .issuingCA, issuer: (root, rootKey), notAfter: Date() + 10 * year)
        let tsaKey = try PrivateKey.generate()
        let tsa = try CertificateIssuer.issue(
            subject: .init(commonName: "\(organization) Time-Stamping Authority", organization: organization), publicKeyOf: tsaKey,
            profile: .timestamping, issuer: (issuing, issuingKey), notAfter: Date() + timestampAuthorityLifetime)
        return [
            ("root", try root.pem, try rootKey.encryptedPEM(passphrase: passphrase)),
            ("issuing", try issuing.pem, try issuingKey.encryptedPEM(passphrase: passphrase)),
            ("tsa", try tsa.pem, try tsaKey.encryptedPEM(passphrase: passphrase)),
        ]
    }

    func authority() throws -> Authority {
        guard let authority = loaded.withLock({ $0 }) else { throw ServiceError(.conflict, "the internal CA is not started") }
        return authority
    }

    /// The root's CRL (DER).
    public func rootCRL() throws -> [UInt8] { try authority().rootCRL.der }

    /// A root CRL issued now, for an archive: it must postdate every signature the archive
    /// holds, or it could not vouch for the issuing CA at their times once it expired. The
    /// root key is unlocked for this and let go (the root signs nothing else).
    public func rootCRLIssuedNow() async throws -> [UInt8] {
        let row = try await pool.query("SELECT certificate, private_key FROM pki_material WHERE name = 'root'").single()
        let (pem, keyPEM): (String, String) = (try row.decode("certificate"), try row.decode("private_key"))
        let passphrase = self.passphrase
        return try await blocking.run {
            let root = try Certificate(pem: pem)
            let key = try PrivateKey.unlock(pem: keyPEM, passphrase: passphrase)
            return try CertificateIssuer.crl(issuer: root, key: key, revoked: [], number: 1, nextUpdate: Date() + 365 * 86_400).der
        }
    }

    /// The issuing CA and the root, PEM: the `-CAfile` of `openssl cms -verify`.
    public func chainPEM() throws -> String {
        let authority = try authority()
        return try pemBundle([authority.issuing, authority.root])
    }

    /// The time-stamping authority, for signing.
    public func timestampAuthority() throws -> TimestampAuthority { try authority().tsa }

    public func issuingCertificate() throws -> Certificate { try authority().issuing }

    /// What verifiers of this installation's signatures trust: the root, the issuing CA and
    /// the current CRL.
    public func trustStore() async throws -> TrustStore {
        let authority = try authority()
        let crl = try RevocationList(der: try await currentCRL())
        return TrustStore(anchors: [authority.root], intermediates: [authority.issuing], crls: [crl, authority.rootCRL])
    }

    /// The newest CRL (DER), publishing a new one when it is older than a day.
    public func currentCRL() async throws -> [UInt8] {
        let rows = try await pool.query("SELECT der, this_update FROM crls ORDER BY number DESC LIMIT 1")
        if let row = rows.first, let thisUpdate: Date = try row.decode("this_update"), Date().timeIntervalSince(thisUpdate) < crlLifetime {
            return try row.decode("der", as: PostgresBytes.self).bytes
        }
        return try await publishCRL()
    }

    /// Signs a CRL of every revocation and stores it.
    @discardableResult
    public func publishCRL() async throws -> [UInt8] {
        let authority = try authority()
        return try await pool.withRetryingTransaction(.serializable) { tx in
            let number: Int = try await tx.query("SELECT coalesce(max(number), 0) + 1 AS n FROM crls").single().decode("n")
            let revoked = try await tx.query("SELECT certificate_serial, revoked_at, reason FROM certificate_revocations").map {
                CertificateIssuer.Revocation(serialHex: try $0.decode("certificate_serial"), date: try $0.decode("revoked_at"), reason: try $0.decode("reason"))
            }
            let now = Date()
            let crl = try CertificateIssuer.crl(
                issuer: authority.issuing, key: authority.issuingKey, revoked: revoked, number: number,
                thisUpdate: now, nextUpdate: now + 7 * 86_400)
            let der = try crl.der
            try await tx.query(
                "INSERT INTO crls (number, der, this_update, next_update) VALUES ($1, $2, $3, $4)",
                [number, PostgresBytes(der), now, now + 7 * 86_400])
            return der
        }
    }

    /// The result of ``issueSigningKey(for:passphrase:confirmation:request:)``.
    public struct IssuedKey: Sendable {
        public var certificateSerial: String
        public var subject: String
        public var notAfter: Date
    }

    /// The caller's newest signing certificate, whether it was revoked; nil before they made one.
    public func signingKey(of caller: IdentityService.Authenticated) async throws -> (key: IssuedKey, revoked: Bool)? {
        guard let row = try await pool.query(
            """
            SELECT k.certificate_serial, k.subject, k.not_after, EXISTS (SELECT 1 FROM certificate_revocations r WHERE r.certificate_serial = k.certificate_serial) AS revoked
            FROM signing_keys k WHERE k.user_id = $1 ORDER BY k.created_at DESC LIMIT 1
            """, [caller.user.id]).first
        else { return nil }
        return (IssuedKey(certificateSerial: try row.decode("certificate_serial"), subject: try row.decode("subject"), notAfter: try row.decode("not_after")),
                try row.decode("revoked"))
    }

    /// Makes a key pair for the caller, encrypts it with their passphrase (never stored) and
    /// issues a two-year signing certificate naming them, their NIP and their unit. Signing
    /// uses the newest key, so making one is as strong as the official's signature: it needs
    /// their account password confirmed just now (`confirmation`), and the audit event names
    /// the key it replaces.
    public func issueSigningKey(
        for caller: IdentityService.Authenticated, passphrase: String, confirmation: IdentityService.PasswordConfirmation,
        request: RequestInfo
    ) async throws -> IssuedKey {
        guard caller.actor.roles.contains(.official) else { throw ServiceError(.forbidden, "Only officials (pejabat) receive signing keys.") }
        guard confirmation.stands(for: caller) else {
            throw ServiceError(.forbidden, "Confirm the account password to make a signing key.", fields: [.init("password", "was not confirmed for this account just now")])
        }
        var check = Validator()
        check.check(passphrase.count >= 8, "passphrase", "must be at least 8 characters")
        check.check(passphrase.count <= 1024, "passphrase", "must be at most 1024 characters")
        try check.throwIfInvalid()
        guard let nip = caller.user.nip else {
            throw ServiceError(.unprocessable, "A signing certificate names the signer's NIP; this account has none. Ask the admin to record it.", fields: [.init("nip", "is missing from the account")])
        }
        let unitName: String = try await pool.query("SELECT name FROM units WHERE id = $1", [caller.user.unitID]).single().decode("name")
        let authority = try authority()
        let organization = self.organization
        let fullName = caller.user.fullName
        let (certificate, encrypted) = try await blocking.run {
            let key = try PrivateKey.generate()
            let certificate = try CertificateIssuer.issue(
                subject: .init(commonName: fullName, serialNumber: nip, organizationalUnit: unitName, organization: organization),
                publicKeyOf: key, profile: .signing, issuer: (authority.issuing, authority.issuingKey),
                notAfter: Date() + 2 * 365 * 86_400)
            return (certificate, try key.encryptedPEM(passphrase: passphrase))
        }
        let issued = IssuedKey(certificateSerial: certificate.serialHex, subject: certificate.subject, notAfter: certificate.notAfter)
        try await pool.withTransaction { tx in
            let replaced: String? = try await tx.query(
                "SELECT certificate_serial FROM signing_keys WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1", [caller.user.id]
            ).first?.decode("certificate_serial")
            try await tx.query(
                """
                INSERT INTO signing_keys (user_id, certificate_serial, certificate, private_key, subject, not_after)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [caller.user.id, issued.certificateSerial, try certificate.pem, encrypted, issued.subject, issued.notAfter])
            var details = ["subject": issued.subject]
            if let replaced { details["replaces"] = replaced }
            try await AuditLog.append(
                .init(replaced == nil ? "pki.signing_key_issued" : "pki.signing_key_replaced", objectType: "certificate",
                      objectID: issued.certificateSerial, actorUserID: caller.user.id, details: details),
                request: request, on: tx)
        }
        return issued
    }

    // MARK: Rotating the time-stamping authority

    /// How long a TSA certificate is issued for (capped at the issuing CA's own expiry).
    static let timestampAuthorityLifetime: TimeInterval = 5 * 365 * 86_400

    /// Replaces the TSA with a new key and certificate from the issuing CA: after a suspected
    /// compromise, or to stamp with a new key before the old one's algorithm ages (the
    /// operator's `esurat timestamps rotate-tsa`). The renewal of the PDFs' document
    /// time-stamps also rotates by itself when the TSA expires within its horizon.
    ///
    /// With `horizon`, rotates only while the current certificate expires
    /// before it, so replicas racing here make one new TSA; and refuses when the issuing CA
    /// would cap the new certificate before the horizon too (rotating daily would not help:
    /// the CA needs its own renewal, a key ceremony).
    ///
    /// The old certificate is kept in `retired_timestamp_authorities` (its tokens are checked
    /// against it, archives carry it) and its key is dropped, so nothing can be stamped with
    /// it any more. Other replicas take the new TSA up at their next renewal pass
    /// (``refreshTimestampAuthority()``, daily); until then they stamp with the old one,
    /// which is still valid.
    ///
    /// Public for the operator's command line (`esurat timestamps rotate-tsa`), whose user
    /// holds the database and the PKI passphrase already; the audit row names no user.
    @discardableResult
    public func rotateTimestampAuthority(ifExpiringBefore horizon: Date?, actorUserID: UUID?, request: RequestInfo) async throws -> Certificate {
        let authority = try authority()
        let notAfter = min(Date() + Self.timestampAuthorityLifetime, authority.issuing.notAfter)
        if let horizon, notAfter <= horizon {
            throw ServiceError(
                .conflict,
                "The issuing CA expires on \(authority.issuing.notAfter), before the renewal horizon \(horizon): a new TSA certificate could not outlive it. Renew the CA first.")
        }
        let passphrase = self.passphrase
        let organization = self.organization
        let blocking = self.blocking
        try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", [Int64(0x6573_7572_706B)])
            let current = try Certificate(pem: try await tx.query("SELECT certificate FROM pki_material WHERE name = 'tsa'").single().decode("certificate"))
            if let horizon, current.notAfter > horizon { return }
            let (certificate, key) = try await blocking.run { () -> (Certificate, String) in
                let key = try PrivateKey.generate()
                let certificate = try CertificateIssuer.issue(
                    subject: .init(commonName: "\(organization) Time-Stamping Authority", organization: organization), publicKeyOf: key,
                    profile: .timestamping, issuer: (authority.issuing, authority.issuingKey), notAfter: notAfter)
                return (certificate, try key.encryptedPEM(passphrase: passphrase))
            }
            try await tx.query(
                "INSERT INTO retired_timestamp_authorities (certificate_serial, certificate, not_after) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                [current.serialHex, try current.pem, current.notAfter])
            try await tx.query("UPDATE pki_material SET certificate = $1, private_key = $2, created_at = now() WHERE name = 'tsa'", [try certificate.pem, key])
            try await AuditLog.append(
                .init("pki.tsa_rotated", objectType: "certificate", objectID: certificate.serialHex, actorUserID: actorUserID,
                      details: ["retired": current.serialHex, "notAfter": ISO8601DateFormatter().string(from: certificate.notAfter)]),
                request: request, on: tx)
        }
        try await refreshTimestampAuthority()
        return try self.authority().tsa.certificate
    }

    /// Loads the TSA from the database when another replica (or an admin) rotated it.
    public func refreshTimestampAuthority() async throws {
        let row = try await pool.query("SELECT certificate, private_key FROM pki_material WHERE name = 'tsa'").single()
        let certificatePEM: String = try row.decode("certificate")
        let keyPEM: String = try row.decode("private_key")
        let stored = try Certificate(pem: certificatePEM)
        guard stored.serialHex != (try authority().tsa.certificate.serialHex) else { return }
        let passphrase = self.passphrase
        let tsa = try await blocking.run {
            TimestampAuthority(certificate: stored, key: try PrivateKey.unlock(pem: keyPEM, passphrase: passphrase), chain: [])
        }
        loaded.withLock { $0?.tsa = tsa }
    }

    /// Every TSA certificate this installation has stamped with: the current one first, then
    /// the retired ones, newest first (an archive's `tsa.pem`).
    public func timestampCertificates() async throws -> [Certificate] {
        let retired = try await pool.query("SELECT certificate FROM retired_timestamp_authorities ORDER BY retired_at DESC")
        return [try authority().tsa.certificate] + (try retired.map { try Certificate(pem: try $0.decode("certificate")) })
    }

    /// Revokes a certificate this CA issued and publishes a new CRL (admin).
    public func revoke(serial rawSerial: String, reason: String, actor: Actor, request: RequestInfo) async throws {
        switch AccessPolicy.decide(actor, .managePKI) {
        case .allow: break
        case .forbidden(let why): throw ServiceError(.forbidden, why)
        case .notVisible: throw ServiceError.notFound("The certificate")
        }
        let reasons = ["unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5]
        guard let code = reasons[reason] else {
            throw ServiceError.invalid("reason", "must be one of \(reasons.keys.sorted().joined(separator: ", "))")
        }
        let serial = rawSerial.uppercased()
        guard !serial.isEmpty, serial.count <= 64, serial.allSatisfy(\.isHexDigit) else {
            throw ServiceError.invalid("serial", "must be the certificate's serial number in hexadecimal")
        }
        try await pool.withTransaction { tx in
            guard try await !tx.query("SELECT 1 FROM signing_keys WHERE certificate_serial = $1", [serial]).isEmpty else {
                throw ServiceError.notFound("The certificate")
            }
            do {
                try await tx.query("INSERT INTO certificate_revocations (certificate_serial, reason, revoked_by) VALUES ($1, $2, $3)", [serial, code, actor.userID])
            } catch let error as PostgresError where error.isUniqueViolation {
                throw ServiceError.conflict("serial", "the certificate is already revoked")
            }
            try await AuditLog.append(
                .init("pki.certificate_revoked", objectType: "certificate", objectID: serial, actorUserID: actor.userID, details: ["reason": reason]),
                request: request, on: tx)
        }
        try await publishCRL()
    }
}
