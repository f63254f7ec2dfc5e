internal import COpenSSL
public import Foundation

/// Makes detached CMS signatures (RFC 5652) in the CAdES baseline shape esurat promises:
/// SHA-256, binary content (CMS_BINARY: the bytes are signed as they are), signed attributes
/// content-type, message-digest, signing-time and ESS signing-certificate-v2 (CAdES-BES),
/// DER; with a TSA, an RFC 3161 time-stamp over the signature value as the unsigned attribute
/// id-aa-signatureTimeStampToken (CAdES-T).
///
/// The result verifies with
/// `openssl cms -verify -binary -inform DER -in SIG -content FILE -CAfile chain.pem`.
public struct CMSSigner: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey
    /// Intermediate certificates to embed so verifiers can build the path.
    public let chain: [Certificate]
    public let timestampAuthority: TimestampAuthority?

    /// The DER of the ESS signing-certificate-v2 attribute: it depends on the certificate
    /// only, so it is computed once.
    let signingCertificateAttribute: [UInt8]?
    /// Whether the key belongs to the certificate, checked once.
    let keyMatchesCertificate: Bool
    /// EC signers sign through a DER template; nil for RSA (CMS_sign).
    let template: CMSSignedDataTemplate?

    public init(certificate: Certificate, key: PrivateKey, chain: [Certificate], timestampAuthority: TimestampAuthority?) {
        self.certificate = certificate
        self.key = key
        self.chain = chain
        self.timestampAuthority = timestampAuthority
        let signingCertificateAttribute = try? Self.essSigningCertificateV2(certificate)
        self.signingCertificateAttribute = signingCertificateAttribute
        ERR_clear_error()
        keyMatchesCertificate = X509_check_private_key(certificate.pointer, key.pointer) == 1
        ERR_clear_error()
        template = signingCertificateAttribute.flatMap {
            try? CMSSignedDataTemplate(certificate: certificate, key: key, chain: chain, signingCertificateV2: $0)
        }
    }

    static func essSigningCertificateV2(_ certificate: Certificate) throws -> [UInt8] {
        guard let ess = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), certificate.pointer, nil, 0) else {
            throw OpenSSLError.drain("OSSL_ESS_signing_cert_v2_new_init")
        }
        defer { COpenSSL_ESS_SIGNING_CERT_V2_free(ess) }
        return try derEncode({ i2d_ESS_SIGNING_CERT_V2(ess, $0) }, "i2d_ESS_SIGNING_CERT_V2")
    }

    /// Why a signature was not made; in words the signer can act on.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case certificateNotYetValid(Date)
        case certificateExpired(Date)
        case keyDoesNotMatchCertificate

        public var description: String {
            switch self {
            case .certificateNotYetValid(let date): "the signing certificate is valid only from \(date)"
            case .certificateExpired(let date): "the signing certificate expired on \(date); request a new one"
            case .keyDoesNotMatchCertificate: "the private key does not belong to the signing certificate"
            }
        }
    }

    /// A PAdES-baseline CMS over content whose SHA-256 is `digest` (the PDF's ByteRange):
    /// content-type, message-digest and ESS signing-certificate-v2 signed, **no**
    /// signing-time (ETSI EN 319 142-1 forbids it; OpenSSL's CMS_sign always adds one, hence
    /// the DER template), the chain embedded, and with a TSA the signature time-stamp (B-T).
    public func signPAdES(digest: [UInt8], at now: Date = Date()) throws -> [UInt8] {
        if now < certificate.notBefore { throw Refusal.certificateNotYetValid(certificate.notBefore) }
        if now > certificate.notAfter { throw Refusal.certificateExpired(certificate.notAfter) }
        guard keyMatchesCertificate else { throw Refusal.keyDoesNotMatchCertificate }
        guard let template else { throw OpenSSLError(operation: "PAdES", queue: ["PAdES signing needs an EC key"]) }
        ERR_clear_error()
        return try template.sign(
            digest: digest, at: now, signingTime: false,
            timestamp: timestampAuthority.map { authority in { try authority.token(forSHA256: $0) } })
    }

    /// The detached signature over `content`, DER.
    public func sign(_ content: [UInt8], at now: Date = Date()) throws -> [UInt8] {
        if now < certificate.notBefore { throw Refusal.certificateNotYetValid(certificate.notBefore) }
        if now > certificate.notAfter { throw Refusal.certificateExpired(certificate.notAfter) }
        guard keyMatchesCertificate else { throw Refusal.keyDoesNotMatchCertificate }
        ERR_clear_error()
        if let template {
            return try template.sign(
                digest: try Digest.sha256(content), at: now,
                timestamp: timestampAuthority.map { authority in { try authority.token(forSHA256: $0) } })
        }
        let flags = UInt32(CMS_BINARY | CMS_DETACHED | CMS_PARTIAL)
        guard let stack = COpenSSL_sk_X509_new_null() else { throw OpenSSLError.drain("sk_X509_new_null") }
        defer { COpenSSL_sk_X509_free(stack) }
        for cert in chain { _ = COpenSSL_sk_X509_push(stack, cert.pointer) }
        guard let cms = CMS_sign(nil, nil, stack, nil, flags) else { throw OpenSSLError.drain("CMS_sign") }
        defer { CMS_ContentInfo_free(cms) }
        guard let signerInfo = CMS_add1_signer(cms, certificate.pointer, key.pointer, EVP_sha256(), flags) else {
            throw OpenSSLError.drain("CMS_add1_signer")
        }
        // ESS signing-certificate-v2 binds the signer's certificate into what is signed.
        let essDER = try signingCertificateAttribute ?? Self.essSigningCertificateV2(certificate)
        try check(CMS_signed_add1_attr_by_NID(signerInfo, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, essDER, Int32(essDER.count)),
                  "CMS_signed_add1_attr_by_NID(signingCertificateV2)")
        let data = try MemoryBIO(content)
        try check(CMS_final(cms, data.pointer, nil, UInt32(CMS_BINARY | CMS_DETACHED)), "CMS_final")

        if let timestampAuthority {
            guard let signature = CMS_SignerInfo_get0_signature(signerInfo) else { throw OpenSSLError.drain("CMS_SignerInfo_get0_signature") }
            let value = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(signature), count: Int(ASN1_STRING_length(signature))))
            let token = try timestampAuthority.token(forSHA256: try Digest.sha256(value))
            try check(CMS_unsigned_add1_attr_by_NID(signerInfo, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token, Int32(token.count)),
                      "CMS_unsigned_add1_attr_by_NID(timeStampToken)")
        }
        return try derEncode({ i2d_CMS_ContentInfo(cms, $0) }, "i2d_CMS_ContentInfo")
    }
}
