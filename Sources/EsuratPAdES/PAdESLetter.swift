public import EsuratSigning
public import Foundation

/// A letter's PDF from rendered page to B-LTA, and its checks.
public enum PAdESLetter {
    /// Certificates and CRLs a verifier needs decades later: the signer's and the TSA's
    /// chains and the CRLs of their issuers.
    public struct ValidationMaterial: Sendable {
        public var certificates: [Certificate]
        public var crls: [RevocationList]
        public init(certificates: [Certificate], crls: [RevocationList]) {
            self.certificates = certificates
            self.crls = crls
        }
    }

    public static let documentName = "naskah.json"
    public static let signatureName = "naskah.json.p7s"

    /// Revision 2: the PAdES signature (B-T) with the canonical JSON and its CAdES
    /// signature embedded; revision 3: the DSS (B-LT); revision 4: a document time-stamp
    /// (B-LTA).
    public static func sign(
        pdf: [UInt8], pageIndex: Int, rect: [Double], document: [UInt8], documentSignature: [UInt8], signer: CMSSigner,
        signerName: String, material: ValidationMaterial, timestampAuthority: TimestampAuthority, at time: Date
    ) throws -> [UInt8] {
        let files = [
            EmbeddedFile(name: documentName, mediaType: "application/json", bytes: document, relationship: "Source",
                         description: "Naskah dinas dalam bentuk data (JSON kanonik RFC 8785) yang ditandatangani"),
            EmbeddedFile(name: signatureName, mediaType: "application/pkcs7-signature", bytes: documentSignature, relationship: "Supplement",
                         description: "Tanda tangan CAdES atas naskah.json"),
        ]
        let signed = try PAdES.sign(
            pdf, pageIndex: pageIndex, rect: rect, fieldName: "Tanda Tangan", signerName: signerName, at: time, embedding: files
        ) { digest in try signer.signPAdES(digest: digest, at: time) }
        return try extend(signed, material: material, timestampAuthority: timestampAuthority)
    }

    /// A DSS for what is in the file now and a new document time-stamp over it: B-LT to
    /// B-LTA at signing, and each renewal of B-LTA later, before the newest time-stamp's
    /// TSA certificate expires or its algorithm weakens.
    public static func extend(_ pdf: [UInt8], material: ValidationMaterial, timestampAuthority: TimestampAuthority) throws -> [UInt8] {
        let withStore = try PAdES.addValidationData(
            pdf, certificates: try material.certificates.map { try $0.der }, crls: try material.crls.map { try $0.der })
        let count = try PDFFile(withStore).signatures().filter { $0.kind == .documentTimestamp }.count
        return try PAdES.addDocumentTimestamp(withStore, fieldName: "Cap Waktu Dokumen \(count + 1)") { digest in
            try timestampAuthority.token(forSHA256: digest)
        }
    }

    /// What a check of a letter's PDF found.
    public struct Verification: Sendable {
        public struct Signature: Sendable {
            public var kind: PDFSignature.Kind
            public var fieldName: String
            public var valid: Bool
            /// For signatures: the CMS report.
            public var report: VerificationReport?
            /// For document time-stamps: the time and TSA.
            public var timestamp: VerificationReport.Timestamp?
            public var detail: String
            /// Whether the signed attributes carry signing-time (PAdES forbids it).
            public var hasSigningTime: Bool
        }

        public var signatures: [Signature]
        /// Changes after the first signature that are not signature maintenance.
        public var modifications: [String]
        /// The embedded canonical JSON and its CAdES signature, when present.
        public var document: [UInt8]?
        public var documentSignature: [UInt8]?
        /// The level reached: B-B, B-T, B-LT or B-LTA; nil when unsigned or broken.
        public var level: String?
        public var problems: [String]

        /// Signed, every signature valid, nothing changed after signing but maintenance.
        public var passed: Bool {
            problems.isEmpty && modifications.isEmpty && !signatures.isEmpty && signatures.allSatisfy(\.valid)
                && signatures.contains { $0.kind == .signature }
        }
    }

    /// Checks every signature and time-stamp in `pdf` against `verifier`'s trust, the
    /// revisions appended after the signature, and the embedded document.
    public static func verify(_ pdf: [UInt8], with verifier: SignatureVerifier, at now: Date = Date()) -> Verification {
        var result = Verification(signatures: [], modifications: [], document: nil, documentSignature: nil, level: nil, problems: [])
        let file: PDFFile
        do { file = try PDFFile(pdf) } catch {
            result.problems.append("berkas bukan PDF yang dapat dibaca (\(error.reason))")
            return result
        }
        let signatures: [PDFSignature]
        do { signatures = try file.signatures() } catch {
            result.problems.append("tanda tangan tidak dapat dibaca (\(error.reason))")
            return result
        }
        guard let first = signatures.first(where: { $0.kind == .signature }) else {
            result.problems.append("berkas tidak memuat tanda tangan elektronik")
            return result
        }
        for signature in signatures {
            switch signature.kind {
            case .signature:
                let report = verifier.verify(content: signature.signedBytes, signature: signature.contents, now: now)
                let subFilterOK = signature.subFilter == "ETSI.CAdES.detached"
                result.signatures.append(.init(
                    kind: .signature, fieldName: signature.fieldName, valid: report.passed && subFilterOK && report.claimedSigningTime == nil,
                    report: report, timestamp: report.timestamp,
                    detail: !subFilterOK ? "SubFilter \(signature.subFilter) is not ETSI.CAdES.detached"
                        : report.claimedSigningTime != nil ? "the signed attributes carry signing-time, which PAdES forbids"
                        : report.checks.map { "\($0.name): \($0.detail)" }.joined(separator: "; "),
                    hasSigningTime: report.claimedSigningTime != nil))
            case .documentTimestamp:
                let checked = verifier.verifyDocumentTimestamp(token: signature.contents, content: signature.signedBytes)
                result.signatures.append(.init(
                    kind: .documentTimestamp, fieldName: signature.fieldName, valid: checked.timestamp?.valid == true, report: nil,
                    timestamp: checked.timestamp, detail: checked.detail, hasSigningTime: false))
            }
        }
        result.modifications = file.modifications(after: first.revision).illegitimate
        if let files = try? file.embeddedFiles() {
            result.document = files[documentName]
            result.documentSignature = files[signatureName]
        }
        do {
            let hasStore = (try? file.rootNumber.flatMap { try file.object($0).value.dictionary?["DSS"] }) != nil
            let timestamped = result.signatures.first { $0.kind == .signature }?.timestamp != nil
            let documentTimestamped = signatures.contains { $0.kind == .documentTimestamp && $0.revision > first.revision }
            result.level = documentTimestamped && hasStore ? "B-LTA" : hasStore ? "B-LT" : timestamped ? "B-T" : "B-B"
        }
        return result
    }
}
