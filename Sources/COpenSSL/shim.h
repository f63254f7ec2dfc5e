#ifndef ESURAT_COPENSSL_SHIM_H
#define ESURAT_COPENSSL_SHIM_H

#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/cms.h>
#include <openssl/ts.h>
#include <openssl/kdf.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/ess.h>
#include <openssl/pkcs12.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/bn.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "esurat needs OpenSSL 3"
#endif

/* Function-like macros Swift cannot import, as static inline functions named
 * COpenSSL_<original>. */
static inline void COpenSSL_OPENSSL_free(void *p) { OPENSSL_free(p); }

static inline long COpenSSL_BIO_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}

static inline STACK_OF(X509) *COpenSSL_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int COpenSSL_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) {
    return sk_X509_push(stack, cert);
}
static inline int COpenSSL_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *COpenSSL_sk_X509_value(const STACK_OF(X509) *stack, int i) {
    return sk_X509_value(stack, i);
}
static inline void COpenSSL_sk_X509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
static inline void COpenSSL_sk_X509_pop_free(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

static inline int COpenSSL_sk_CMS_SignerInfo_num(STACK_OF(CMS_SignerInfo) *stack) { return sk_CMS_SignerInfo_num(stack); }
static inline CMS_SignerInfo *COpenSSL_sk_CMS_SignerInfo_value(STACK_OF(CMS_SignerInfo) *stack, int i) {
    return sk_CMS_SignerInfo_value(stack, i);
}
/* RFC 2253 names with UTF-8 kept as is (not escaped). */
/* The dotted OIDs of `cert`'s extendedKeyUsage, joined by commas, into `buffer`; returns their
   length, -1 when the certificate has no such extension, -2 when they do not fit. */
static inline int COpenSSL_X509_extendedKeyUsages(X509 *cert, char *buffer, int size) {
    EXTENDED_KEY_USAGE *usages = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
    if (usages == NULL) return -1;
    int length = 0;
    if (size > 0) buffer[0] = 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages); i++) {
        char oid[128];
        int n = OBJ_obj2txt(oid, (int)sizeof oid, sk_ASN1_OBJECT_value(usages, i), 1);
        if (n <= 0 || n >= (int)sizeof oid || length + n + 2 > size) { length = -2; break; }
        if (length > 0) buffer[length++] = ',';
        for (int j = 0; j < n; j++) buffer[length + j] = oid[j];
        length += n;
        buffer[length] = 0;
    }
    EXTENDED_KEY_USAGE_free(usages);
    return length;
}
static inline unsigned long COpenSSL_nameFlagsRFC2253UTF8(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }
static inline void COpenSSL_ESS_SIGNING_CERT_V2_free(ESS_SIGNING_CERT_V2 *value) { ESS_SIGNING_CERT_V2_free(value); }

/* The serial number callback of the internal TSA: 128 random bits. */
static inline ASN1_INTEGER *COpenSSL_tsaSerial(TS_RESP_CTX *ctx, void *data) {
    (void)data;
    unsigned char bytes[16];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    if (RAND_bytes(bytes, sizeof bytes) != 1) goto fail;
    bytes[0] &= 0x7f;
    bn = BN_bin2bn(bytes, sizeof bytes, NULL);
    if (bn == NULL) goto fail;
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    if (serial != NULL) return serial;
fail:
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "cannot make a serial number");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    return NULL;
}
static inline void COpenSSL_useRandomTSASerials(TS_RESP_CTX *ctx) { TS_RESP_CTX_set_serial_cb(ctx, COpenSSL_tsaSerial, NULL); }

#endif
