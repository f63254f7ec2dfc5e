internal import COpenSSL
public import Foundation
import Synchronization

/// What a verifier trusts: anchors (roots, ours or a national CA's), intermediates that
/// may complete a path, and CRLs.
public struct TrustStore: Sendable {
    public var anchors: [Certificate]
    public var intermediates: [Certificate]
    public var crls: [RevocationList]

    public init(anchors: [Certificate], intermediates: [Certificate] = [], crls: [RevocationList] = []) {
        self.anchors = anchors
        self.intermediates = intermediates
        self.crls = crls
    }

    /// Splits a PEM bundle: self-issued certificates become anchors, the rest intermediates.
    public init(pemBundle: String, crls: [RevocationList] = []) throws {
        let certificates = try Certificate.chain(pem: pemBundle)
        self.init(anchors: certificates.filter(\.isSelfIssued), intermediates: certificates.filter { !$0.isSelfIssued }, crls: crls)
    }
}

/// Validates detached CMS signatures and says why, as a ``VerificationReport``. It never
/// throws and never crashes on malformed input: anything unreadable is FORMAT_FAILURE.
public struct SignatureVerifier: Sendable {
    public let trust: TrustStore
    /// CRLs whose signature was checked once, by the serial of the certificate that signed
    /// them: a CRL's signature does not change between verifications.
    let crlsByIssuer: [String: [RevocationList]]
    /// Paths already built and checked, by the SHA-256 of the signer certificate: their
    /// signatures do not change either, only the time they are judged at.
    let paths = PathCache()
    /// Certificates embedded in signatures, parsed once, by the SHA-256 of their DER.
    let knownCertificates = CertificateCache()

    public init(trust: TrustStore) {
        self.trust = trust
        var byIssuer: [String: [RevocationList]] = [:]
        for crl in trust.crls {
            for issuer in trust.anchors + trust.intermediates where crl.isSigned(by: issuer) {
                byIssuer[issuer.serialHex, default: []].append(crl)
            }
        }
        self.crlsByIssuer = byIssuer
    }

    public func verify(content: [UInt8], signature: [UInt8], now: Date = Date()) -> VerificationReport {
        var report = VerificationReport(
            indication: .totalFailed, subIndication: .formatFailure, signer: nil, chain: [], claimedSigningTime: nil,
            timestamp: nil, revocation: nil, checks: [], validatedAt: now)
        ERR_clear_error()
        defer { ERR_clear_error() }
        // Embedded certificates parsed before are reused instead of decoded again.
        var reused: [Certificate]?
        var parsed = signature
        if let split = CMSCertificateSplit.split(signature), let certificates = knownCertificates.certificates(for: split.certificates) {
            parsed = split.stripped
            reused = certificates
        }
        guard let bio = try? MemoryBIO(parsed), let cms = d2i_CMS_bio(bio.pointer, nil) else {
            report.checks.append(.init(name: "format", passed: false, detail: "not a DER CMS structure"))
            return report
        }
        defer { CMS_ContentInfo_free(cms) }
        guard OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed, CMS_is_detached(cms) == 1,
              let signerInfos = CMS_get0_SignerInfos(cms), COpenSSL_sk_CMS_SignerInfo_num(signerInfos) == 1,
              let signerInfo = COpenSSL_sk_CMS_SignerInfo_value(signerInfos, 0)
        else {
            report.checks.append(.init(name: "format", passed: false, detail: "not a detached SignedData with exactly one signer"))
            return report
        }
        report.checks.append(.init(name: "format", passed: true, detail: "detached CMS SignedData, one signer"))

        // The signer's certificate, from those embedded and those we know.
        var signerCertPointer: OpaquePointer?
        if let reused, let stack = COpenSSL_sk_X509_new_null() {
            for cert in reused { _ = COpenSSL_sk_X509_push(stack, cert.pointer) }
            _ = CMS_set1_signers_certs(cms, stack, 0)
            COpenSSL_sk_X509_free(stack)
        }
        CMS_SignerInfo_get0_algs(signerInfo, nil, &signerCertPointer, nil, nil)
        if signerCertPointer == nil {
            // Not embedded: look among the certificates we know.
            let knownStack = COpenSSL_sk_X509_new_null()
            defer { COpenSSL_sk_X509_free(knownStack) }
            for cert in trust.anchors + trust.intermediates { _ = COpenSSL_sk_X509_push(knownStack, cert.pointer) }
            _ = CMS_set1_signers_certs(cms, knownStack, 0)
            CMS_SignerInfo_get0_algs(signerInfo, nil, &signerCertPointer, nil, nil)
        }
        guard let signerCertPointer else {
            report.indication = .indeterminate
            report.subIndication = .noSigningCertificateFound
            report.checks.append(.init(name: "signer certificate", passed: false, detail: "the signer's certificate is neither embedded nor known"))
            return report
        }
        let signer = Certificate(retaining: signerCertPointer)
        let fingerprint = signer.fingerprint
        let known = paths.entry(for: fingerprint)
        report.signer = known?.signer ?? .init(
            subject: signer.subject, commonName: signer.commonName, nip: signer.subjectSerialNumber,
            certificateSerial: signer.serialHex, notBefore: signer.notBefore, notAfter: signer.notAfter,
            keyPurposes: signer.extendedKeyUsages)
        report.claimedSigningTime = Self.signingTime(signerInfo)

        // Integrity and the signature value, without judging the certificate yet.
        ERR_clear_error()
        if let data = try? MemoryBIO(content),
           CMS_verify(cms, nil, nil, data.pointer, nil, UInt32(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)) == 1 {
            report.checks.append(.init(name: "integrity", passed: true, detail: "message digest and signature value verify"))
        } else {
            let error = OpenSSLError.drain("CMS_verify")
            let hash = error.queue.contains { $0.contains("content verify error") || $0.contains("digest") }
            report.indication = .totalFailed
            report.subIndication = hash ? .hashFailure : .sigCryptoFailure
            report.checks.append(.init(
                name: "integrity", passed: false,
                detail: hash ? "the content's digest differs from the signed message-digest" : "the signature value does not verify: \(error.queue.joined(separator: "; "))"))
            return report
        }

        // The time-stamp: proof the signature existed at its time.
        var validationTime = now
        if let token = Self.timestampToken(signerInfo) {
            let value = Self.signatureValue(signerInfo)
            let result = verifyTimestamp(token: token, imprintOf: value)
            report.timestamp = result.timestamp
            report.checks.append(.init(name: "timestamp", passed: result.timestamp?.valid == true, detail: result.detail))
            if let timestamp = result.timestamp, timestamp.valid {
                validationTime = timestamp.time
            } else {
                report.indication = .indeterminate
                report.subIndication = .timestampFailure
                return report
            }
        } else {
            report.checks.append(.init(name: "timestamp", passed: true, detail: "no time-stamp (CAdES-BES): judged at the time of validation"))
        }

        // The path to a trust anchor, at the validation time.
        let path = buildPath(signer, fingerprint: fingerprint, embedded: { reused ?? Self.embeddedCertificates(cms) }, at: validationTime)
        if let known, path.failure == nil {
            report.chain = known.chainSubjects
        } else {
            report.chain = path.chain.map(\.subject)
            if path.failure == nil, let signerReport = report.signer {
                paths.remember(.init(chain: path.chain, chainSubjects: report.chain, signer: signerReport), for: fingerprint)
            }
        }
        if let failure = path.failure {
            report.indication = .indeterminate
            report.subIndication = failure.0
            report.checks.append(.init(name: "certificate chain", passed: false, detail: failure.1))
            return report
        }
        report.checks.append(.init(name: "certificate chain", passed: true, detail: "valid up to a trust anchor at the validation time"))

        // Revocation from CRLs signed by each certificate's issuer, judged at validation time.
        var revocation = VerificationReport.Revocation(status: "good", revokedAt: nil, judgedAt: validationTime)
        for (index, cert) in path.chain.enumerated() where index + 1 < path.chain.count {
            let issuer = path.chain[index + 1]
            // A CRL dated after now (beyond clock skew) says nothing yet.
            let lists = (crlsByIssuer[issuer.serialHex]?.filter { $0.issuer == issuer.subject } ?? trust.crls.filter { $0.isSigned(by: issuer) })
                .filter { $0.thisUpdate <= now.addingTimeInterval(300) }
            guard !lists.isEmpty else {
                revocation.status = "unknown"
                report.revocation = revocation
                report.indication = .indeterminate
                report.subIndication = .tryLater
                report.checks.append(.init(name: "revocation", passed: false, detail: "no CRL from \(issuer.subject) to judge \(cert.subject)"))
                return report
            }
            // A CRL knows the revocations up to its own date: it vouches for the validation time
            // only when it was issued at or after it, or is still the current list now (its
            // next update not yet due). An expired list older than the signature's time-stamp
            // cannot say the certificate was good then.
            // (CRL dates have whole seconds, time-stamps fractions: one second of slack.)
            guard lists.contains(where: { $0.thisUpdate >= validationTime.addingTimeInterval(-1) || ($0.nextUpdate.map { $0 >= now } ?? false) }) else {
                let newest = lists.map(\.thisUpdate).max() ?? .distantPast
                revocation.status = "unknown"
                report.revocation = revocation
                report.indication = .indeterminate
                report.subIndication = .tryLater
                report.checks.append(.init(
                    name: "revocation", passed: false,
                    detail: "the newest CRL from \(issuer.subject) was issued at \(newest), before \(validationTime), and is no longer current"))
                return report
            }
            if let revokedAt = lists.compactMap({ $0.revocationDate(serialHex: cert.serialHex) }).min() {
                revocation.revokedAt = revokedAt
                if revokedAt <= validationTime {
                    revocation.status = "revoked"
                    report.revocation = revocation
                    report.indication = .totalFailed
                    report.subIndication = .revoked
                    report.checks.append(.init(name: "revocation", passed: false, detail: "\(cert.subject) was revoked at \(revokedAt), before \(validationTime)"))
                    return report
                }
                revocation.status = "revokedAfterValidationTime"
            }
        }
        report.revocation = revocation
        report.checks.append(.init(
            name: "revocation", passed: true,
            detail: revocation.status == "good" ? "not revoked" : "revoked at \(revocation.revokedAt!), after the time-stamp; the signature stands"))
        report.indication = .totalPassed
        report.subIndication = nil
        return report
    }

    // MARK: Pieces

    static func signingTime(_ signerInfo: OpaquePointer) -> Date? {
        let index = CMS_signed_get_attr_by_NID(signerInfo, NID_pkcs9_signingTime, -1)
        guard index >= 0, let attribute = CMS_signed_get_attr(signerInfo, index),
              let value = X509_ATTRIBUTE_get0_type(attribute, 0)
        else { return nil }
        guard value.pointee.type == V_ASN1_UTCTIME || value.pointee.type == V_ASN1_GENERALIZEDTIME else { return nil }
        return date(from: UnsafePointer(value.pointee.value.utctime))
    }

    static func signatureValue(_ signerInfo: OpaquePointer) -> [UInt8] {
        guard let signature = CMS_SignerInfo_get0_signature(signerInfo) else { return [] }
        return Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(signature), count: Int(ASN1_STRING_length(signature))))
    }

    static func timestampToken(_ signerInfo: OpaquePointer) -> [UInt8]? {
        let index = CMS_unsigned_get_attr_by_NID(signerInfo, NID_id_smime_aa_timeStampToken, -1)
        guard index >= 0, let attribute = CMS_unsigned_get_attr(signerInfo, index),
              let value = X509_ATTRIBUTE_get0_type(attribute, 0), value.pointee.type == V_ASN1_SEQUENCE,
              let sequence = value.pointee.value.sequence
        else { return nil }
        return Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(sequence), count: Int(ASN1_STRING_length(sequence))))
    }

    static func embeddedCertificates(_ cms: OpaquePointer) -> [Certificate] {
        guard let stack = CMS_get1_certs(cms) else { return [] }
        defer { COpenSSL_sk_X509_pop_free(stack) }
        return (0..<COpenSSL_sk_X509_num(stack)).compactMap { COpenSSL_sk_X509_value(stack, $0).map { Certificate(retaining: $0) } }
    }

    /// Verifies an RFC 3161 document time-stamp (PAdES /DocTimeStamp) over `content`, the
    /// bytes its ByteRange covers.
    public func verifyDocumentTimestamp(token: [UInt8], content: [UInt8]) -> (timestamp: VerificationReport.Timestamp?, detail: String) {
        verifyTimestamp(token: token, imprintOf: content)
    }

    /// Verifies a time-stamp token over the SHA-256 of `value` against the trust store.
    func verifyTimestamp(token: [UInt8], imprintOf value: [UInt8]) -> (timestamp: VerificationReport.Timestamp?, detail: String) {
        ERR_clear_error()
        guard let bio = try? MemoryBIO(token), let pkcs7 = d2i_PKCS7_bio(bio.pointer, nil) else {
            return (nil, "the time-stamp token is not readable")
        }
        defer { PKCS7_free(pkcs7) }
        guard let info = PKCS7_to_TS_TST_INFO(pkcs7) else { return (nil, "the time-stamp token holds no TSTInfo") }
        defer { TS_TST_INFO_free(info) }
        let time = date(from: TS_TST_INFO_get_time(info)) ?? .distantPast
        var tsaName = "unknown TSA"
        if let signers = PKCS7_get0_signers(pkcs7, nil, 0) {
            if COpenSSL_sk_X509_num(signers) > 0, let first = COpenSSL_sk_X509_value(signers, 0) {
                tsaName = Certificate(retaining: first).subject
            }
            COpenSSL_sk_X509_free(signers)
        }
        ERR_clear_error()
        guard let context = TS_VERIFY_CTX_new(), let store = makeStore(at: time) else { return (nil, "cannot set up time-stamp verification") }
        defer { TS_VERIFY_CTX_free(context) }  // frees the store and the data BIO it was given
        guard let data = BIO_new(BIO_s_mem()) else { X509_STORE_free(store); return (nil, "out of memory") }
        _ = value.withUnsafeBytes { BIO_write(data, $0.baseAddress, Int32($0.count)) }
        _ = TS_VERIFY_CTX_set_data(context, data)
        _ = TS_VERIFY_CTX_set_store(context, store)
        if let untrusted = COpenSSL_sk_X509_new_null() {
            for cert in trust.intermediates { X509_up_ref(cert.pointer); _ = COpenSSL_sk_X509_push(untrusted, cert.pointer) }
            _ = TS_VERIFY_CTX_set_certs(context, untrusted)
        }
        _ = TS_VERIFY_CTX_set_flags(context, Int32(TS_VFY_VERSION | TS_VFY_SIGNER | TS_VFY_DATA | TS_VFY_SIGNATURE))
        let ok = TS_RESP_verify_token(context, pkcs7) == 1
        let detail = ok ? "time-stamp of \(time) by \(tsaName) verifies" : "time-stamp does not verify: \(OpenSSLError.drain("TS_RESP_verify_token").queue.joined(separator: "; "))"
        return (.init(time: time, tsa: tsaName, valid: ok), detail)
    }

    /// An X509_STORE of the anchors, verifying at `time` (CRLs are judged separately, with
    /// revocation dates, which OpenSSL's own CRL check ignores).
    func makeStore(at time: Date) -> OpaquePointer? {
        guard let store = X509_STORE_new() else { return nil }
        for anchor in trust.anchors { _ = X509_STORE_add_cert(store, anchor.pointer) }
        if let param = X509_VERIFY_PARAM_new() {
            X509_VERIFY_PARAM_set_time(param, time_t(time.timeIntervalSince1970))
            _ = X509_STORE_set1_param(store, param)
            X509_VERIFY_PARAM_free(param)
        }
        return store
    }

    /// The path from `signer` to an anchor, valid at `time`, or why there is none.
    func buildPath(_ signer: Certificate, fingerprint: [UInt8], embedded: () -> [Certificate], at time: Date)
        -> (chain: [Certificate], failure: (VerificationReport.SubIndication, String)?)
    {
        if let known = paths.entry(for: fingerprint)?.chain {
            if let outside = known.first(where: { time < $0.notBefore || time > $0.notAfter }) {
                return (known, (.outOfBoundsNoPOE, "\(outside.subject) is outside its validity at \(time) and nothing proves the signature existed while it was valid"))
            }
            return (known, nil)
        }
        return buildPathUncached(signer, embedded: embedded(), at: time)
    }

    func buildPathUncached(_ signer: Certificate, embedded: [Certificate], at time: Date)
        -> (chain: [Certificate], failure: (VerificationReport.SubIndication, String)?)
    {
        ERR_clear_error()
        guard let store = makeStore(at: time), let context = X509_STORE_CTX_new() else {
            return ([], (.chainConstraintsFailure, "cannot set up path building"))
        }
        defer {
            X509_STORE_CTX_free(context)
            X509_STORE_free(store)
        }
        let untrusted = COpenSSL_sk_X509_new_null()
        defer { COpenSSL_sk_X509_free(untrusted) }
        for cert in trust.intermediates + embedded { _ = COpenSSL_sk_X509_push(untrusted, cert.pointer) }
        guard X509_STORE_CTX_init(context, store, signer.pointer, untrusted) == 1 else {
            return ([], (.chainConstraintsFailure, "cannot set up path building"))
        }
        X509_STORE_CTX_set_purpose(context, X509_PURPOSE_ANY)
        let ok = X509_verify_cert(context) == 1
        var chain: [Certificate] = []
        if let built = X509_STORE_CTX_get0_chain(context) {
            for index in 0..<COpenSSL_sk_X509_num(built) {
                if let cert = COpenSSL_sk_X509_value(built, index) { chain.append(Certificate(retaining: cert)) }
            }
        }
        if ok { return (chain, nil) }
        let code = X509_STORE_CTX_get_error(context)
        let text = String(cString: X509_verify_cert_error_string(Int(code)))
        switch code {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return (chain, (.noCertificateChainFound, "no path to a trusted anchor: \(text)"))
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            return (chain, (.outOfBoundsNoPOE, "a certificate of the path is outside its validity at \(time) and nothing proves the signature existed while it was valid: \(text)"))
        default:
            return (chain, (.chainConstraintsFailure, text))
        }
    }
}

/// Parsed certificates by the SHA-256 of their DER.
final class CertificateCache: Sendable {
    private let entries = Mutex<[[UInt8]: Certificate]>([:])
    private static let limit = 10_000

    /// The certificates for these DER encodings, parsing the new ones; nil when one does not
    /// parse (the caller then leaves the signature to OpenSSL whole).
    func certificates(for encodings: [[UInt8]]) -> [Certificate]? {
        var out: [Certificate] = []
        for der in encodings {
            guard let key = try? Digest.sha256(der) else { return nil }
            if let known = entries.withLock({ $0[key] }) {
                out.append(known)
                continue
            }
            guard let parsed = try? Certificate(der: der) else { return nil }
            entries.withLock { entries in
                if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
                entries[key] = parsed
            }
            out.append(parsed)
        }
        return out
    }
}

/// Certificate paths that were verified, with what the report says of them, by the
/// fingerprint of their end-entity certificate.
final class PathCache: Sendable {
    struct Entry: Sendable {
        var chain: [Certificate]
        var chainSubjects: [String]
        var signer: VerificationReport.Signer
    }

    private let entries = Mutex<[[UInt8]: Entry]>([:])
    private static let limit = 10_000

    func entry(for key: [UInt8]) -> Entry? {
        guard !key.isEmpty else { return nil }
        return entries.withLock { $0[key] }
    }

    func remember(_ entry: Entry, for key: [UInt8]) {
        guard !key.isEmpty else { return }
        entries.withLock { entries in
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
    }
}

/// The pieces of a CMS signature an auditor checks by hand: the signature value and the
/// time-stamp token over it.
public struct SignatureParts: Sendable {
    public let signatureValue: [UInt8]
    public let timestampToken: [UInt8]?

    public init(der: [UInt8]) throws {
        ERR_clear_error()
        let bio = try MemoryBIO(der)
        guard let cms = d2i_CMS_bio(bio.pointer, nil) else { throw OpenSSLError.drain("d2i_CMS_bio") }
        defer { CMS_ContentInfo_free(cms) }
        guard let infos = CMS_get0_SignerInfos(cms), COpenSSL_sk_CMS_SignerInfo_num(infos) > 0,
              let signerInfo = COpenSSL_sk_CMS_SignerInfo_value(infos, 0)
        else { throw OpenSSLError(operation: "CMS", queue: ["no signer"]) }
        signatureValue = SignatureVerifier.signatureValue(signerInfo)
        timestampToken = SignatureVerifier.timestampToken(signerInfo)
    }
}
