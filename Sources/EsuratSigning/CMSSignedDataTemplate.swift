internal import COpenSSL
import Foundation

/// A CMS SignedData (RFC 5652) for one EC signer, assembled from DER pieces that depend on the
/// signer alone and are encoded once: the certificates, the signer identifier and the
/// algorithm identifiers. Per signature only the content digest, the signing time and the
/// ECDSA signature over the signed attributes are new.
///
/// Why not CMS_sign every time: OpenSSL builds and frees a whole CMS_ContentInfo object tree
/// per signature, re-encodes the certificate and matches the key against it, which cost three
/// times the ECDSA signature itself (`esurat bench sign`: 21k CAdES-BES/s beside 69k raw
/// signatures/s). The dispatch worker signs an evidence record for every delivery, so that
/// overhead was a fifth of its CPU. The bytes are the same shape OpenSSL writes — the
/// CAdES-BES attributes content-type, signing-time, message-digest and ESS
/// signing-certificate-v2 in DER order, and with a TSA the RFC 3161 token as
/// id-aa-signatureTimeStampToken — so stock `openssl cms -verify` accepts them (tested).
/// OpenSSL's S/MIME capabilities attribute is left out: it lists ciphers for mail replies
/// and means nothing to a signature.
struct CMSSignedDataTemplate {
    let key: PrivateKey
    /// `[0] IMPLICIT SET OF Certificate`, whole.
    let certificates: [UInt8]
    /// IssuerAndSerialNumber of the signing certificate.
    let signerIdentifier: [UInt8]
    /// The signing-certificate-v2 Attribute, whole.
    let signingCertificateAttribute: [UInt8]
    let oids: ObjectIdentifiers

    /// DER object identifiers, taken from OpenSSL's table rather than typed in; encoded once
    /// per process (a signer, and so a template, is made for every letter signed).
    struct ObjectIdentifiers: Sendable {
        static let shared = Result { try ObjectIdentifiers() }

        let signedData, data, sha256, ecdsaWithSHA256, contentType, messageDigest, signingTime, signingCertificateV2, timeStampToken: [UInt8]

        init() throws {
            func oid(_ nid: Int32) throws -> [UInt8] {
                guard let object = OBJ_nid2obj(nid) else { throw OpenSSLError.drain("OBJ_nid2obj") }
                return try derEncode({ i2d_ASN1_OBJECT(object, $0) }, "i2d_ASN1_OBJECT")
            }
            signedData = try oid(NID_pkcs7_signed)
            data = try oid(NID_pkcs7_data)
            sha256 = try oid(NID_sha256)
            ecdsaWithSHA256 = try oid(NID_ecdsa_with_SHA256)
            contentType = try oid(NID_pkcs9_contentType)
            messageDigest = try oid(NID_pkcs9_messageDigest)
            signingTime = try oid(NID_pkcs9_signingTime)
            signingCertificateV2 = try oid(NID_id_smime_aa_signingCertificateV2)
            timeStampToken = try oid(NID_id_smime_aa_timeStampToken)
        }
    }

    /// nil when the key is not EC (RSA signers go through CMS_sign).
    init?(certificate: Certificate, key: PrivateKey, chain: [Certificate], signingCertificateV2: [UInt8]) throws {
        guard EVP_PKEY_get_base_id(key.pointer) == EVP_PKEY_EC else { return nil }
        self.key = key
        oids = try ObjectIdentifiers.shared.get()
        certificates = DER.set(tag: 0xA0, try ([certificate] + chain).map { try $0.der })
        let issuer = try derEncode({ i2d_X509_NAME(X509_get_issuer_name(certificate.pointer), $0) }, "i2d_X509_NAME")
        let serial = try derEncode({ i2d_ASN1_INTEGER(X509_get0_serialNumber(certificate.pointer), $0) }, "i2d_ASN1_INTEGER")
        signerIdentifier = DER.sequence(issuer, serial)
        signingCertificateAttribute = DER.sequence(oids.signingCertificateV2, DER.set([signingCertificateV2]))
    }

    /// The DER ContentInfo of a detached signature over content whose SHA-256 is `digest`.
    /// `signingTime: false` leaves the signing-time attribute out, as PAdES requires (the time
    /// is the PDF's /M and the time-stamp's).
    func sign(digest: [UInt8], at time: Date, signingTime: Bool = true, timestamp: (([UInt8]) throws -> [UInt8])?) throws -> [UInt8] {
        var attributeList = [
            DER.sequence(oids.contentType, DER.set([oids.data])),
            DER.sequence(oids.messageDigest, DER.set([DER.tlv(0x04, digest)])),
            signingCertificateAttribute,
        ]
        if signingTime { attributeList.append(DER.sequence(oids.signingTime, DER.set([DER.time(time)]))) }
        let attributes = DER.set(attributeList)
        // What is signed is the attributes' DER as a SET (tag 0x31); in the SignerInfo the same
        // contents carry the tag [0] IMPLICIT.
        let signature = try ecdsaSHA256(attributes)
        var signedAttributes = attributes
        signedAttributes[0] = 0xA0
        let sha256Algorithm = DER.sequence(oids.sha256)
        var signerInfo = [
            DER.tlv(0x02, [1]), signerIdentifier, sha256Algorithm, signedAttributes, DER.sequence(oids.ecdsaWithSHA256), DER.tlv(0x04, signature),
        ]
        if let timestamp {
            let token = try timestamp(try Digest.sha256(signature))
            signerInfo.append(DER.set(tag: 0xA1, [DER.sequence(oids.timeStampToken, DER.set([token]))]))
        }
        let signedData = DER.sequence(
            DER.tlv(0x02, [1]), DER.set([sha256Algorithm]), DER.sequence(oids.data), certificates, DER.set([DER.sequence(signerInfo)]))
        return DER.sequence(oids.signedData, DER.tlv(0xA0, signedData))
    }

    /// ECDSA with SHA-256 over `message`: the DER Ecdsa-Sig-Value.
    private func ecdsaSHA256(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        try check(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key.pointer), "EVP_DigestSignInit")
        var length = Int(EVP_PKEY_get_size(key.pointer))
        var signature = [UInt8](repeating: 0, count: length)
        try check(EVP_DigestSign(context, &signature, &length, message, message.count), "EVP_DigestSign")
        signature.removeSubrange(length...)
        return signature
    }
}

/// The few DER encodings the template needs (X.690).
enum DER {
    static func tlv(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] { tlv(tag, parts: [contents]) }

    /// Tag, length and `parts` one after another, written into one buffer of the right size
    /// (`Array(parts.joined())` went through a generic flattening copy, the worker's hottest
    /// function of its own when signing evidence).
    static func tlv(_ tag: UInt8, parts: [[UInt8]]) -> [UInt8] {
        let length = parts.reduce(0) { $0 + $1.count }
        var out: [UInt8] = []
        out.reserveCapacity(length + 6)
        out.append(tag)
        if length < 0x80 {
            out.append(UInt8(length))
        } else {
            let byteCount = (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
            out.append(0x80 | UInt8(byteCount))
            for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: length >> shift))
            }
        }
        for part in parts { out.append(contentsOf: part) }
        return out
    }

    static func sequence(_ elements: [UInt8]...) -> [UInt8] { sequence(elements) }
    static func sequence(_ elements: [[UInt8]]) -> [UInt8] { tlv(0x30, parts: elements) }

    /// A SET OF: DER orders the elements by their encodings, the shorter one compared as if
    /// padded with zero bytes.
    static func set(tag: UInt8 = 0x31, _ elements: [[UInt8]]) -> [UInt8] {
        let ordered = elements.sorted { a, b in
            for index in 0..<max(a.count, b.count) {
                let x = index < a.count ? a[index] : 0
                let y = index < b.count ? b[index] : 0
                if x != y { return x < y }
            }
            return false
        }
        return tlv(tag, parts: ordered)
    }

    /// Time as RFC 5280 and RFC 5652 want it for signing-time: UTCTime for 1950–2049,
    /// GeneralizedTime otherwise, whole seconds, UTC.
    static func time(_ date: Date) -> [UInt8] {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        func two(_ value: Int32) -> [UInt8] { [UInt8(ascii: "0") + UInt8(value / 10), UInt8(ascii: "0") + UInt8(value % 10)] }
        let rest = two(parts.tm_mon + 1) + two(parts.tm_mday) + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + [UInt8(ascii: "Z")]
        if (1950..<2050).contains(year) {
            return tlv(0x17, two(Int32(year % 100)) + rest)
        }
        return tlv(0x18, Array(String(format: "%04d", year).utf8) + rest)
    }
}
