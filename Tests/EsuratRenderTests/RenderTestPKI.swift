import EsuratPAdES
import EsuratSigning
import Foundation

/// A throwaway CA for the PDF tests: root → issuing CA → an official and the TSA.
struct RenderTestPKI {
    let rootKey: PrivateKey
    let root: Certificate
    let issuingKey: PrivateKey
    let issuing: Certificate
    let tsa: TimestampAuthority

    init() throws {
        rootKey = try PrivateKey.generate()
        root = try CertificateIssuer.issue(
            subject: .init(commonName: "Uji Root CA", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: rootKey,
            profile: .rootCA, issuer: nil, notAfter: Date().addingTimeInterval(20 * 365 * 86_400))
        issuingKey = try PrivateKey.generate()
        issuing = try CertificateIssuer.issue(
            subject: .init(commonName: "Uji Issuing CA", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: issuingKey,
            profile: .issuingCA, issuer: (root, rootKey), notAfter: Date().addingTimeInterval(10 * 365 * 86_400))
        let tsaKey = try PrivateKey.generate()
        let tsaCertificate = try CertificateIssuer.issue(
            subject: .init(commonName: "Uji Time-Stamping Authority", organization: "Pemerintah Kabupaten Uji"), publicKeyOf: tsaKey,
            profile: .timestamping, issuer: (issuing, issuingKey), notAfter: Date().addingTimeInterval(5 * 365 * 86_400))
        tsa = TimestampAuthority(certificate: tsaCertificate, key: tsaKey, chain: [issuing])
    }

    func signer(notAfter: Date = Date().addingTimeInterval(2 * 365 * 86_400)) throws -> (PrivateKey, Certificate) {
        let key = try PrivateKey.generate()
        let certificate = try CertificateIssuer.issue(
            subject: .init(commonName: "Siti Nur'aini", serialNumber: "198001012005012001", organizationalUnit: "Dinas Komunikasi dan Informatika",
                           organization: "Pemerintah Kabupaten Uji"),
            publicKeyOf: key, profile: .signing, issuer: (issuing, issuingKey), notAfter: notAfter)
        return (key, certificate)
    }

    func crl(revoking revoked: [CertificateIssuer.Revocation] = [], number: Int = 1) throws -> RevocationList {
        try CertificateIssuer.crl(issuer: issuing, key: issuingKey, revoked: revoked, number: number)
    }

    func rootCRL() throws -> RevocationList { try CertificateIssuer.crl(issuer: root, key: rootKey, revoked: [], number: 1) }

    var material: PAdESLetter.ValidationMaterial {
        get throws { .init(certificates: [issuing, root, tsa.certificate], crls: [try crl(), try rootCRL()]) }
    }

    var trust: TrustStore {
        get throws { TrustStore(anchors: [root], intermediates: [issuing], crls: [try crl(), try rootCRL()]) }
    }
}
