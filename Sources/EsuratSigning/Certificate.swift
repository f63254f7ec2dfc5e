internal import COpenSSL
public import Foundation

/// An X.509 certificate, freed with its owner.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Takes a reference of a certificate OpenSSL owns elsewhere.
    init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }

    public convenience init(der: [UInt8]) throws {
        ERR_clear_error()
        let bio = try MemoryBIO(der)
        guard let cert = d2i_X509_bio(bio.pointer, nil) else { throw OpenSSLError.drain("d2i_X509_bio") }
        self.init(taking: cert)
    }

    public convenience init(pem: String) throws {
        guard let first = try Certificate.chain(pem: pem).first else {
            throw OpenSSLError(operation: "PEM_read_bio_X509", queue: ["no certificate in the PEM text"])
        }
        self.init(retaining: first.pointer)
    }

    /// Every certificate in a PEM bundle, in order.
    public static func chain(pem: String) throws -> [Certificate] {
        ERR_clear_error()
        let bio = try MemoryBIO(Array(pem.utf8))
        var out: [Certificate] = []
        while let cert = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            out.append(Certificate(taking: cert))
        }
        ERR_clear_error()  // the loop ends on "no start line"
        return out
    }

    public var der: [UInt8] {
        get throws { try derEncode({ i2d_X509(pointer, $0) }, "i2d_X509") }
    }

    public var pem: String {
        get throws {
            let bio = try MemoryBIO()
            try check(PEM_write_bio_X509(bio.pointer, pointer), "PEM_write_bio_X509")
            return bio.string
        }
    }

    /// The serial number in upper-case hex, as `openssl x509 -serial` prints it.
    public var serialHex: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { COpenSSL_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    /// The subject in RFC 2253 form, e.g. `CN=Ahmad Fauzi,serialNumber=1980…,OU=Dinas…,C=ID`.
    public var subject: String { Self.name(X509_get_subject_name(pointer)) }
    public var issuer: String { Self.name(X509_get_issuer_name(pointer)) }

    /// The subject's commonName.
    public var commonName: String? { Self.entry(X509_get_subject_name(pointer), NID_commonName) }
    /// The issuer's commonName and organisation, as the letter's footer names the CA.
    public var issuerCommonName: String? { Self.entry(X509_get_issuer_name(pointer), NID_commonName) }
    /// The subject's serialNumber attribute: the signer's NIP.
    public var subjectSerialNumber: String? { Self.entry(X509_get_subject_name(pointer), NID_serialNumber) }

    /// The extendedKeyUsage purposes as dotted OIDs (`1.3.6.1.5.5.7.3.4` for
    /// emailProtection); empty without the extension.
    public var extendedKeyUsages: [String] {
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = COpenSSL_X509_extendedKeyUsages(pointer, &buffer, Int32(buffer.count))
        guard length > 0 else { return [] }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: ",").map(String.init)
    }

    public var notBefore: Date { date(from: X509_get0_notBefore(pointer)) ?? .distantPast }
    public var notAfter: Date { date(from: X509_get0_notAfter(pointer)) ?? .distantPast }

    /// A digest identifying the certificate: the SHA-1 OpenSSL computes once when it parses
    /// a certificate and keeps, so asking costs nothing. For caches, not for security
    /// decisions (those compare the certificates themselves).
    var fingerprint: [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha1(), &out, &length) == 1 else { return [] }
        return Array(out.prefix(Int(length)))
    }

    public var isSelfIssued: Bool { X509_NAME_cmp(X509_get_subject_name(pointer), X509_get_issuer_name(pointer)) == 0 }

    public var description: String { subject }

    static func name(_ name: OpaquePointer?) -> String {
        guard let name, let bio = try? MemoryBIO() else { return "" }
        X509_NAME_print_ex(bio.pointer, name, 0, COpenSSL_nameFlagsRFC2253UTF8())
        return bio.string
    }

    static func entry(_ name: OpaquePointer?, _ nid: Int32) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { COpenSSL_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }
}

/// A PEM bundle of certificates.
public func pemBundle(_ certificates: [Certificate]) throws -> String {
    try certificates.map { try $0.pem }.joined()
}
