internal import COpenSSL
public import Foundation

/// The installation's RFC 3161 time-stamping authority: it signs a time-stamp token over a
/// SHA-256 digest with the TSA certificate (extendedKeyUsage timeStamping, critical).
public final class TimestampAuthority: @unchecked Sendable {
    public let certificate: Certificate
    let key: PrivateKey
    /// Certificates sent along in each token so verifiers can build the path.
    let chain: [Certificate]
    /// The TSA policy OID stated in every token.
    public let policy: String

    public init(certificate: Certificate, key: PrivateKey, chain: [Certificate], policy: String = "1.3.6.1.4.1.59999.1.1") {
        self.certificate = certificate
        self.key = key
        self.chain = chain
        self.policy = policy
    }

    /// The same authority sending `chain` in its tokens: a PDF's time-stamps carry the
    /// issuing CA so a verifier can build the TSA's path from the file alone.
    public func sendingChain(_ chain: [Certificate]) -> TimestampAuthority {
        TimestampAuthority(certificate: certificate, key: key, chain: chain, policy: policy)
    }

    /// A DER time-stamp token (a CMS SignedData over TSTInfo) for `digest`, a SHA-256 value.
    public func token(forSHA256 digest: [UInt8]) throws -> [UInt8] {
        ERR_clear_error()
        guard digest.count == 32 else { throw OpenSSLError(operation: "timestamp", queue: ["the imprint must be a SHA-256 digest"]) }
        let request = try Self.request(digest)
        defer { TS_REQ_free(request) }
        let requestDER = try derEncode({ i2d_TS_REQ(request, $0) }, "i2d_TS_REQ")
        let requestBIO = try MemoryBIO(requestDER)

        guard let context = TS_RESP_CTX_new() else { throw OpenSSLError.drain("TS_RESP_CTX_new") }
        defer { TS_RESP_CTX_free(context) }
        try check(TS_RESP_CTX_set_signer_cert(context, certificate.pointer), "TS_RESP_CTX_set_signer_cert")
        try check(TS_RESP_CTX_set_signer_key(context, key.pointer), "TS_RESP_CTX_set_signer_key")
        try check(TS_RESP_CTX_set_signer_digest(context, EVP_sha256()), "TS_RESP_CTX_set_signer_digest")
        try check(TS_RESP_CTX_set_ess_cert_id_digest(context, EVP_sha256()), "TS_RESP_CTX_set_ess_cert_id_digest")
        guard let policyObject = OBJ_txt2obj(policy, 1) else { throw OpenSSLError.drain("OBJ_txt2obj") }
        defer { ASN1_OBJECT_free(policyObject) }
        try check(TS_RESP_CTX_set_def_policy(context, policyObject), "TS_RESP_CTX_set_def_policy")
        try check(TS_RESP_CTX_add_md(context, EVP_sha256()), "TS_RESP_CTX_add_md")
        if let stack = COpenSSL_sk_X509_new_null() {
            defer { COpenSSL_sk_X509_free(stack) }
            for cert in chain { _ = COpenSSL_sk_X509_push(stack, cert.pointer) }
            try check(TS_RESP_CTX_set_certs(context, stack), "TS_RESP_CTX_set_certs")
        }
        _ = TS_RESP_CTX_set_accuracy(context, 1, 0, 0)
        COpenSSL_useRandomTSASerials(context)
        guard let response = TS_RESP_create_response(context, requestBIO.pointer) else { throw OpenSSLError.drain("TS_RESP_create_response") }
        defer { TS_RESP_free(response) }
        let status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response)))
        guard status == TS_STATUS_GRANTED || status == TS_STATUS_GRANTED_WITH_MODS, let token = TS_RESP_get_token(response) else {
            throw OpenSSLError(operation: "TS_RESP_create_response", queue: ["the TSA refused the request (status \(status))"] + OpenSSLError.drain("").queue)
        }
        return try derEncode({ i2d_PKCS7(token, $0) }, "i2d_PKCS7")
    }

    static func request(_ digest: [UInt8]) throws -> OpaquePointer {
        guard let request = TS_REQ_new(), let imprint = TS_MSG_IMPRINT_new(), let algorithm = X509_ALGOR_new() else {
            throw OpenSSLError.drain("TS_REQ_new")
        }
        defer {
            TS_MSG_IMPRINT_free(imprint)
            X509_ALGOR_free(algorithm)
        }
        X509_ALGOR_set_md(algorithm, EVP_sha256())
        var digestCopy = digest
        guard TS_MSG_IMPRINT_set_algo(imprint, algorithm) == 1, TS_MSG_IMPRINT_set_msg(imprint, &digestCopy, Int32(digest.count)) == 1,
              TS_REQ_set_version(request, 1) == 1, TS_REQ_set_msg_imprint(request, imprint) == 1, TS_REQ_set_cert_req(request, 1) == 1
        else {
            TS_REQ_free(request)
            throw OpenSSLError.drain("TS_REQ")
        }
        var nonceBytes = try SecureRandom.bytes(8)
        nonceBytes[0] &= 0x7f
        if let bn = BN_bin2bn(nonceBytes, 8, nil) {
            if let nonce = BN_to_ASN1_INTEGER(bn, nil) {
                _ = TS_REQ_set_nonce(request, nonce)
                ASN1_INTEGER_free(nonce)
            }
            BN_free(bn)
        }
        return request
    }
}
