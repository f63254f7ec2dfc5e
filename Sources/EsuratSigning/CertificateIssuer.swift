internal import COpenSSL
public import Foundation

/// The subject of a certificate.
public struct DistinguishedName: Sendable, Hashable {
    public var commonName: String
    /// The NIP, for officials' signing certificates.
    public var serialNumber: String?
    /// The unit, such as "Dinas Komunikasi dan Informatika".
    public var organizationalUnit: String?
    public var organization: String?
    public var country: String?

    public init(commonName: String, serialNumber: String? = nil, organizationalUnit: String? = nil, organization: String? = nil, country: String? = "ID") {
        self.commonName = commonName
        self.serialNumber = serialNumber
        self.organizationalUnit = organizationalUnit
        self.organization = organization
        self.country = country
    }
}

/// What a certificate is for, which fixes its extensions.
public enum CertificateProfile: Sendable, Hashable {
    /// A self-signed root CA.
    case rootCA
    /// An intermediate CA that issues end-entity certificates only (pathlen 0).
    case issuingCA
    /// An official's signing certificate: digitalSignature and nonRepudiation.
    case signing
    /// The time-stamping authority: extendedKeyUsage timeStamping, critical (RFC 3161 §2.3).
    case timestamping
    /// The server's evidence key (delivery evidence, audit checkpoints, the archive's bag):
    /// extendedKeyUsage ``evidencePurpose``, which no official's certificate ever carries, so
    /// a verifier tells the server's signatures from any official's; emailProtection beside
    /// it keeps them verifying with a stock `openssl cms -verify`.
    case evidence

    /// The extendedKeyUsage purpose of the evidence profile: an OID derived from a UUID
    /// (ITU-T X.667 arc 2.25), needing no registration.
    public static let evidencePurpose = "2.25.193113322274294660812624502805096562394"
    /// emailProtection, the purpose officials' signing certificates carry.
    public static let signingPurpose = "1.3.6.1.5.5.7.3.4"

    var extensions: [(Int32, String)] {
        switch self {
        case .rootCA:
            [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign")]
        case .issuingCA:
            [(NID_basic_constraints, "critical,CA:TRUE,pathlen:0"), (NID_key_usage, "critical,keyCertSign,cRLSign")]
        case .signing:
            [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation"),
             (NID_ext_key_usage, "emailProtection")]
        case .timestamping:
            [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation"),
             (NID_ext_key_usage, "critical,timeStamping")]
        case .evidence:
            [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation"),
             (NID_ext_key_usage, "critical,emailProtection," + Self.evidencePurpose)]
        }
    }
}

/// Issues certificates and CRLs with a CA's key.
public enum CertificateIssuer {
    /// Issues a certificate for `subjectKey`'s public key. Without `issuer` it is self-signed
    /// (the root).
    public static func issue(
        subject: DistinguishedName,
        publicKeyOf subjectKey: PrivateKey,
        profile: CertificateProfile,
        issuer: (certificate: Certificate, key: PrivateKey)?,
        notBefore: Date = Date().addingTimeInterval(-300),
        notAfter: Date,
        crlDistributionPoint: String? = nil
    ) throws -> Certificate {
        ERR_clear_error()
        guard let cert = X509_new() else { throw OpenSSLError.drain("X509_new") }
        let owned = Certificate(taking: cert)
        try check(X509_set_version(cert, 2), "X509_set_version")
        // 159 random bits, positive: unique without a counter to coordinate.
        var serialBytes = try SecureRandom.bytes(20)
        serialBytes[0] &= 0x7f
        serialBytes[0] |= 0x01
        guard let bn = BN_bin2bn(serialBytes, Int32(serialBytes.count), nil) else { throw OpenSSLError.drain("BN_bin2bn") }
        defer { BN_free(bn) }
        guard BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nil else { throw OpenSSLError.drain("BN_to_ASN1_INTEGER") }

        guard let name = X509_NAME_new() else { throw OpenSSLError.drain("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        func add(_ field: String, _ value: String?) throws {
            guard let value, !value.isEmpty else { return }
            try check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value, -1, -1, 0), "X509_NAME_add_entry_by_txt(\(field))")
        }
        try add("C", subject.country)
        try add("O", subject.organization)
        try add("OU", subject.organizationalUnit)
        try add("serialNumber", subject.serialNumber)
        try add("CN", subject.commonName)
        try check(X509_set_subject_name(cert, name), "X509_set_subject_name")
        try check(X509_set_issuer_name(cert, issuer.map { X509_get_subject_name($0.certificate.pointer) } ?? name), "X509_set_issuer_name")
        guard ASN1_TIME_set(X509_getm_notBefore(cert), time_t(notBefore.timeIntervalSince1970)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(cert), time_t(notAfter.timeIntervalSince1970)) != nil
        else { throw OpenSSLError.drain("ASN1_TIME_set") }
        try check(X509_set_pubkey(cert, subjectKey.pointer), "X509_set_pubkey")

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.certificate.pointer ?? cert, cert, nil, nil, 0)
        var extensions = profile.extensions
        extensions.append((NID_subject_key_identifier, "hash"))
        extensions.append((NID_authority_key_identifier, "keyid:always"))
        if let crlDistributionPoint, profile != .rootCA {
            extensions.append((NID_crl_distribution_points, "URI:" + crlDistributionPoint))
        }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpenSSLError.drain("X509V3_EXT_conf_nid(\(String(cString: OBJ_nid2sn(nid))), \(value))")
            }
            defer { X509_EXTENSION_free(ext) }
            try check(X509_add_ext(cert, ext, -1), "X509_add_ext")
        }
        let signer = issuer?.key ?? subjectKey
        guard X509_sign(cert, signer.pointer, EVP_sha256()) > 0 else { throw OpenSSLError.drain("X509_sign") }
        return owned
    }

    /// A certificate revoked by a CA.
    public struct Revocation: Sendable, Hashable {
        public var serialHex: String
        public var date: Date
        /// RFC 5280 CRLReason: 0 unspecified, 1 keyCompromise, 3 affiliationChanged,
        /// 4 superseded, 5 cessationOfOperation, 6 certificateHold.
        public var reason: Int

        public init(serialHex: String, date: Date, reason: Int) {
            self.serialHex = serialHex
            self.date = date
            self.reason = reason
        }
    }

    /// Signs a v2 CRL listing `revoked`.
    public static func crl(
        issuer: Certificate, key: PrivateKey, revoked: [Revocation], number: Int,
        thisUpdate: Date = Date(), nextUpdate: Date = Date().addingTimeInterval(7 * 86_400)
    ) throws -> RevocationList {
        ERR_clear_error()
        guard let crl = X509_CRL_new() else { throw OpenSSLError.drain("X509_CRL_new") }
        let owned = RevocationList(taking: crl)
        try check(X509_CRL_set_version(crl, 1), "X509_CRL_set_version")
        try check(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.pointer)), "X509_CRL_set_issuer_name")
        guard let last = ASN1_TIME_set(nil, time_t(thisUpdate.timeIntervalSince1970)),
              let next = ASN1_TIME_set(nil, time_t(nextUpdate.timeIntervalSince1970))
        else { throw OpenSSLError.drain("ASN1_TIME_set") }
        defer {
            ASN1_TIME_free(last)
            ASN1_TIME_free(next)
        }
        try check(X509_CRL_set1_lastUpdate(crl, last), "X509_CRL_set1_lastUpdate")
        try check(X509_CRL_set1_nextUpdate(crl, next), "X509_CRL_set1_nextUpdate")
        for revocation in revoked {
            guard let entry = X509_REVOKED_new() else { throw OpenSSLError.drain("X509_REVOKED_new") }
            guard let serial = try asn1Integer(hex: revocation.serialHex) else {
                X509_REVOKED_free(entry)
                throw OpenSSLError(operation: "CRL entry", queue: ["\(revocation.serialHex) is not a hex serial number"])
            }
            defer { ASN1_INTEGER_free(serial) }
            let when = ASN1_TIME_set(nil, time_t(revocation.date.timeIntervalSince1970))
            defer { ASN1_TIME_free(when) }
            let reason = ASN1_ENUMERATED_new()
            defer { ASN1_ENUMERATED_free(reason) }
            guard X509_REVOKED_set_serialNumber(entry, serial) == 1, X509_REVOKED_set_revocationDate(entry, when) == 1,
                  ASN1_ENUMERATED_set(reason, revocation.reason) == 1,
                  X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, UnsafeMutableRawPointer(reason), 0, 0) == 1,
                  X509_CRL_add0_revoked(crl, entry) == 1
            else {
                X509_REVOKED_free(entry)
                throw OpenSSLError.drain("X509_REVOKED")
            }
        }
        try check(X509_CRL_sort(crl), "X509_CRL_sort")
        let crlNumber = ASN1_INTEGER_new()
        defer { ASN1_INTEGER_free(crlNumber) }
        ASN1_INTEGER_set(crlNumber, number)
        try check(X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(crlNumber), 0, 0), "CRL number")
        guard X509_CRL_sign(crl, key.pointer, EVP_sha256()) > 0 else { throw OpenSSLError.drain("X509_CRL_sign") }
        return owned
    }

    static func asn1Integer(hex: String) throws -> UnsafeMutablePointer<ASN1_INTEGER>? {
        var bn: OpaquePointer?
        guard !hex.isEmpty, BN_hex2bn(&bn, hex) > 0, let bn else { return nil }
        defer { BN_free(bn) }
        return BN_to_ASN1_INTEGER(bn, nil)
    }
}

/// An X.509 CRL, freed with its owner.
public final class RevocationList: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { X509_CRL_free(pointer) }

    public convenience init(der: [UInt8]) throws {
        ERR_clear_error()
        let bio = try MemoryBIO(der)
        guard let crl = d2i_X509_CRL_bio(bio.pointer, nil) else { throw OpenSSLError.drain("d2i_X509_CRL_bio") }
        self.init(taking: crl)
    }

    public var der: [UInt8] {
        get throws { try derEncode({ i2d_X509_CRL(pointer, $0) }, "i2d_X509_CRL") }
    }

    public var issuer: String { Certificate.name(X509_CRL_get_issuer(pointer)) }
    public var thisUpdate: Date { date(from: X509_CRL_get0_lastUpdate(pointer)) ?? .distantPast }
    /// When the next list is due; nil when the list does not say.
    public var nextUpdate: Date? { X509_CRL_get0_nextUpdate(pointer).flatMap { date(from: $0) } }

    /// When the certificate with this serial was revoked, per this list; nil when it is not
    /// listed.
    public func revocationDate(serialHex: String) -> Date? {
        guard let serial = try? CertificateIssuer.asn1Integer(hex: serialHex) else { return nil }
        defer { ASN1_INTEGER_free(serial) }
        var entry: OpaquePointer?
        guard X509_CRL_get0_by_serial(pointer, &entry, serial) == 1, let entry else { return nil }
        return date(from: X509_REVOKED_get0_revocationDate(entry))
    }

    /// Whether `issuer`'s key signed this list.
    func isSigned(by issuer: Certificate) -> Bool {
        guard X509_NAME_cmp(X509_CRL_get_issuer(pointer), X509_get_subject_name(issuer.pointer)) == 0,
              let key = X509_get0_pubkey(issuer.pointer)
        else { return false }
        let ok = X509_CRL_verify(pointer, key) == 1
        ERR_clear_error()
        return ok
    }
}
