import EsuratPAdES
import EsuratDomain
import EsuratSigning
import Foundation

/// Checks an esurat archive offline, reading the tar once from front to back: the bag
/// (Payload-Oxum, both manifests, both tag manifests), every signature and time-stamp with
/// a trust store made only from the archive's own `data/pki/`, every attachment hash the
/// signed documents state, every audit event's hash and link, and the signed checkpoints
/// that cover the audit segment.
public struct ArchiveVerifier {
    /// One line of the report.
    public struct Item: Sendable {
        public enum Status: String, Sendable {
            case pass = "PASS", fail = "FAIL"
            /// Not wrong, but not shown to be right: the root nothing outside the archive confirmed.
            case unverified = "UNVERIFIED"
        }
        public var subject: String
        public var status: Status
        public var detail: String
        public var passed: Bool { status == .pass }
    }

    /// What the whole report comes to.
    public enum Verdict: Sendable, Equatable {
        /// Every item passed, against the root whose fingerprint the auditor gave.
        case verified
        /// Every item passed, but against the archive's own root, which nothing outside the
        /// archive confirmed: a forger's archive with a root of their own would read the
        /// same. Not a success.
        case rootUnconfirmed(fingerprint: String)
        case failed
    }

    /// The SHA-256 fingerprint (hex, any case, colons allowed) the archive's root CA must
    /// have, as the issuing government publishes it apart from the archive; nil: report the
    /// fingerprint for the auditor to compare by hand.
    public var expectedRootFingerprint: String?

    public init(expectedRootFingerprint: String? = nil) {
        self.expectedRootFingerprint = expectedRootFingerprint
    }

    /// Verifies the archive at `path`, reporting each item as it is judged.
    public func verify(path: String, report: @escaping (Item) -> Void) throws -> Verdict {
        var state = try State(report: report)
        state.expectedRootFingerprint = expectedRootFingerprint.map(Self.normalisedFingerprint)
        defer { state.removeSpools() }
        // The trust material first: esurat writes it at the front, so this look ends after a
        // few headers; an archive re-packed in another order is read once more to find it.
        let lookahead = try TarReader(path: path)
        let trustFiles = ["ca.pem", "crl.der", "root-crl.der", "evidence.pem"]
        do {
            while state.pki.count < trustFiles.count, let entry = try lookahead.next() {
                for name in trustFiles where entry.path.hasSuffix("/data/pki/" + name) {
                    var bytes: [UInt8] = []
                    try lookahead.read(entry) { bytes.append(contentsOf: $0) }
                    state.pki[name] = bytes
                }
            }
        } catch {
            // Reported by the full read below, at the point where it fails.
        }
        let reader = try TarReader(path: path)
        var root: String?
        // A damaged tar (cut short, a broken header) is a failed item of the report, not a
        // crash: what was read before it is still judged.
        do {
            while let entry = try reader.next() {
                guard entry.type == UInt8(ascii: "0") || entry.type == UInt8(ascii: "7") else { continue }
                let components = entry.path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
                guard components.count == 2 else {
                    state.fail("archive", "\(entry.path) lies outside the bag's directory")
                    try reader.read(entry) { _ in }
                    continue
                }
                if root == nil { root = String(components[0]) }
                guard root == String(components[0]) else {
                    state.fail("archive", "\(entry.path) lies outside the bag \(root ?? "")")
                    try reader.read(entry) { _ in }
                    continue
                }
                let relative = String(components[1])
                let keep = state.wantsContent(relative)
                // The payload manifests list every file (a line each, 1.2 million for 100,000
                // letters): they go to disk, not memory, and are compared at the end.
                let spool = relative.hasPrefix("manifest-") ? try state.manifestSpool(relative) : nil
                let digest = try StreamingDigest()
                var content: [UInt8] = []
                if keep { content.reserveCapacity(entry.size) }
                try reader.read(entry) { piece in
                    try piece.withUnsafeBytes { try digest.update($0) }
                    if keep { content.append(contentsOf: piece) }
                    try spool?.append(bytes: piece)
                }
                let digests = try digest.finalize()
                try state.file(relative, size: entry.size, sha256: digests.sha256, sha512: digests.sha512, content: keep ? content : nil)
            }
        } catch {
            state.fail("archive", "the tar cannot be read to its end: \(error)")
        }
        try state.finish()
        guard state.failures == 0 else { return .failed }
        guard let fingerprint = state.rootFingerprint else { return .failed }
        if expectedRootFingerprint == nil {
            report(Item(
                subject: "trust anchor", status: .unverified,
                detail: "the root CA \(fingerprint) comes from the archive itself; compare it with the fingerprint the issuing government publishes and verify again with --ca-fingerprint"))
            return .rootUnconfirmed(fingerprint: fingerprint)
        }
        return .verified
    }

    /// Upper-case hex pairs joined by colons, as `openssl x509 -fingerprint -sha256` prints.
    static func normalisedFingerprint(_ text: String) -> String {
        let hex = text.uppercased().filter { $0.isHexDigit }
        var pairs: [String] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            pairs.append(String(hex[index..<next]))
            index = next
        }
        return pairs.joined(separator: ":")
    }

    struct State {
        let report: (Item) -> Void
        var failures = 0
        var expectedRootFingerprint: String?
        /// The archive's root, once read: without an expected fingerprint nothing says it is
        /// the government's own rather than a forger's, and the verdict says so.
        var rootFingerprint: String?
        /// Who made the signature ``signature(_:_:byServer:signerNIP:)`` judged last.
        var lastSigner: VerificationReport.Signer?
        /// The serial of data/pki/evidence.pem, for the report. Checkpoints, delivery evidence
        /// and the bag signature must be signed by a certificate of the evidence profile (its
        /// purpose ``CertificateProfile/evidencePurpose``), not merely by any one the CA issued:
        /// every official holds one of those, and could put theirs in evidence.pem.
        var evidenceSerial: String?
        var tagRaw: [String: [UInt8]] = [:]
        /// Every payload file's digests, size and path, one line each in archive order, on disk.
        let payloadRecords: SpoolFile
        var payloadFiles = 0
        var payloadBytes = 0
        var manifests: [String: SpoolFile] = [:]
        var tags: [String: (sha256: String, sha512: String)] = [:]
        var tagText: [String: String] = [:]
        var pki: [String: [UInt8]] = [:]
        var verifier: SignatureVerifier?
        var letter: LetterFiles?
        var letters = 0
        var lettersPassed = 0
        // Audit chain.
        /// Event hashes by chain position, compactly (32 bytes each), for the checkpoints.
        var chainHashes: [Int64: HashValue] = [:]
        /// Whether the checkpoints came before the first events file (as esurat writes them).
        var checkpointsFirst = false
        var eventFiles: [EventFile] = []
        var lastSequence: Int64?
        var firstSequence: Int64?
        var events = 0
        var chainProblems: [String] = []
        /// Each checkpoint's parts until both are read, then only its verdict and head hash:
        /// a year holds some 35,000 checkpoints, too many to keep their signatures.
        var checkpoints: [Int64: CheckpointEntry] = [:]

        struct CheckpointEntry {
            var statement: [UInt8]?
            var signature: [UInt8]?
            /// Once judged: the signature's verdict, and the head hash the statement signs.
            var judged: (problem: String?, detail: String, head: HashValue?)?
        }
        var segment: [String: JSONValue]?

        init(report: @escaping (Item) -> Void) throws {
            self.report = report
            payloadRecords = try SpoolFile(name: "payload-records")
        }

        mutating func manifestSpool(_ name: String) throws -> SpoolFile {
            if let existing = manifests[name] { return existing }
            let spool = try SpoolFile(name: name)
            manifests[name] = spool
            return spool
        }

        func removeSpools() {
            payloadRecords.remove()
            for spool in manifests.values { spool.remove() }
        }

        struct HashValue: Hashable {
            var a: UInt64, b: UInt64, c: UInt64, d: UInt64

            init?(hex: String) {
                let bytes = AuditChain.bytes(hex: hex)
                guard bytes.count == 32, hex.utf8.count == 64 else { return nil }
                func word(_ i: Int) -> UInt64 { bytes[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
                (a, b, c, d) = (word(0), word(8), word(16), word(24))
            }
        }

        struct LetterFiles {
            var id: String
            var files: [String: [UInt8]] = [:]
            var attachments: [(sha256: String, size: Int)] = []
        }

        mutating func fail(_ subject: String, _ detail: String) {
            failures += 1
            report(Item(subject: subject, status: .fail, detail: detail))
        }

        func pass(_ subject: String, _ detail: String) {
            report(Item(subject: subject, status: .pass, detail: detail))
        }

        /// Whether a file's bytes are needed beyond its digests (attachments are not).
        func wantsContent(_ path: String) -> Bool {
            if path.hasPrefix("data/letters/") { return !path.contains("/attachments/") }
            return !path.hasPrefix("manifest-")
        }

        mutating func file(_ path: String, size: Int, sha256: String, sha512: String, content: [UInt8]?) throws {
            if path.hasPrefix("data/") {
                try payloadRecords.append("\(sha256) \(sha512) \(path)\n")
                payloadFiles += 1
                payloadBytes += size
            } else {
                tags[path] = (sha256, sha512)
                if let content {
                    tagText[path] = String(decoding: content, as: UTF8.self)
                    if path.hasPrefix("tagmanifest-sha256.txt") { tagRaw[path] = content }
                }
                return
            }
            // Letters come grouped by directory: judge one when the next begins.
            if path.hasPrefix("data/letters/") {
                let parts = path.split(separator: "/")
                guard parts.count >= 4 else { return }
                let id = String(parts[2])
                if letter?.id != id {
                    try finishLetter()
                    letter = LetterFiles(id: id)
                }
                let name = parts[3...].joined(separator: "/")
                if name.hasPrefix("attachments/") {
                    letter?.attachments.append((sha256, size))
                } else if let content {
                    letter?.files[name] = content
                }
                return
            }
            try finishLetter()
            guard let content else { return }
            if path.hasPrefix("data/pki/") {
                pki[String(path.dropFirst("data/pki/".count))] = content
            } else if path.hasPrefix("data/audit/events-") {
                auditLines(content, file: path)
            } else if path.hasPrefix("data/audit/checkpoints/") {
                let name = String(path.dropFirst("data/audit/checkpoints/".count))
                let stem = name.split(separator: ".").first.map(String.init) ?? name
                guard let sequence = Int64(stem) else { return }
                if name.hasSuffix(".json") { checkpoints[sequence, default: CheckpointEntry()].statement = content }
                if name.hasSuffix(".p7s") { checkpoints[sequence, default: CheckpointEntry()].signature = content }
                judgeCheckpoint(sequence)
            } else if path == "data/audit/segment.json" {
                if case .object(let object) = try? JSONValue.parse(String(decoding: content, as: UTF8.self)) { segment = object }
            }
        }

        /// The trust store from the archive's own PKI files, made once.
        mutating func trust() -> SignatureVerifier? {
            if let verifier { return verifier }
            guard let chain = pki["ca.pem"] else { return nil }
            do {
                var crls: [RevocationList] = []
                for name in ["crl.der", "root-crl.der"] {
                    if let der = pki[name] { crls.append(try RevocationList(der: der)) }
                }
                let store = try TrustStore(pemBundle: String(decoding: chain, as: UTF8.self), crls: crls)
                guard !store.anchors.isEmpty else { return nil }
                // One root only: a second one added to ca.pem would be trusted alongside it.
                guard store.anchors.count == 1 else {
                    fail("pki", "data/pki/ca.pem holds \(store.anchors.count) root certificates; an esurat archive has exactly one")
                    return nil
                }
                let fingerprint = ArchiveVerifier.normalisedFingerprint(Digest.hex(try Digest.sha256(store.anchors[0].der)))
                if let expected = expectedRootFingerprint, expected != fingerprint {
                    fail("pki", "the root CA's SHA-256 fingerprint is \(fingerprint), not the expected \(expected)")
                    return nil
                }
                if let evidence = pki["evidence.pem"] {
                    let certificate = try Certificate(pem: String(decoding: evidence, as: UTF8.self))
                    guard certificate.extendedKeyUsages.contains(CertificateProfile.evidencePurpose) else {
                        fail("pki", "data/pki/evidence.pem (\(certificate.subject)) is not a server evidence certificate: it lacks the evidence purpose")
                        return nil
                    }
                    evidenceSerial = certificate.serialHex
                }
                verifier = SignatureVerifier(trust: store)
                pass("pki", "root CA SHA-256 fingerprint \(fingerprint)\(expectedRootFingerprint == nil ? "" : " as expected"); \(store.intermediates.count) intermediate, \(crls.count) CRLs, server evidence certificate \(evidenceSerial ?? "missing")")
                rootFingerprint = fingerprint
            } catch {
                fail("pki", "data/pki/ca.pem or its CRLs cannot be read: \(error)")
            }
            return verifier
        }

        /// Verifies a detached signature against the archive's CA; `byServer`: it must also be
        /// a server evidence certificate that signed; otherwise an official's signing
        /// certificate, and `signerNIP` (when given) the NIP it names.
        mutating func signature(_ content: [UInt8], _ signature: [UInt8]?, byServer: Bool = false, signerNIP: String? = nil) -> (Bool, String) {
            lastSigner = nil
            guard let signature else { return (false, "no signature file") }
            guard let verifier = trust() else { return (false, "no usable PKI material (data/pki/ca.pem) before the signatures") }
            let result = verifier.verify(content: content, signature: signature)
            lastSigner = result.signer
            if let problem = Self.signerProblem(result.signer, byServer: byServer, nip: signerNIP) { return (false, problem) }
            if result.passed {
                let who = result.signer?.commonName ?? result.signer?.subject ?? "?"
                let when = result.timestamp.map { "time-stamped \(ArchiveExporter.iso($0.time))" } ?? "no time-stamp"
                return (true, "signed by \(who), \(when)")
            }
            let why = result.checks.first { !$0.passed }?.detail ?? ""
            return (false, "\(result.indication.rawValue)/\(result.subIndication?.rawValue ?? "-"): \(why)")
        }

        /// Why `signer` may not have made this signature, or nil: server records only from
        /// the evidence profile, letters only from an official's signing certificate naming the
        /// NIP the document states.
        static func signerProblem(_ signer: VerificationReport.Signer?, byServer: Bool, nip: String?) -> String? {
            guard let signer else { return nil }
            let purposes = signer.keyPurposes ?? []
            let isEvidence = purposes.contains(CertificateProfile.evidencePurpose)
            if byServer {
                return isEvidence ? nil : "signed by \(signer.subject), which is not a server evidence certificate"
            }
            if isEvidence || !purposes.contains(CertificateProfile.signingPurpose) {
                return "signed by \(signer.subject), which is not an official's signing certificate"
            }
            if let nip, signer.nip != nip || nip.isEmpty {
                return "signed by \(signer.subject) (NIP \(signer.nip ?? "none")), not by the signer the document names (NIP \(nip.isEmpty ? "none" : nip))"
            }
            return nil
        }

        mutating func finishLetter() throws {
            guard let current = letter else { return }
            letter = nil
            letters += 1
            var problems: [String] = []
            var notes: [String] = []
            let subject = "letter \(current.id)"
            var documentSHA256: String?
            var letterSigner: String?
            if let document = current.files["document.json"] {
                documentSHA256 = try? Digest.hex(Digest.sha256(document))
                let parsed = try? JSONValue.parse(String(decoding: document, as: UTF8.self))
                var nip = ""
                if case .object(let object)? = parsed, case .object(let signer)? = object["signer"], case .string(let stated)? = signer["nip"] { nip = stated }
                let (ok, detail) = signature(document, current.files["document.p7s"], signerNIP: nip)
                if ok { notes.append(detail) } else { problems.append("signature: \(detail)") }
                letterSigner = lastSigner?.certificateSerial
                // The attachments the signed document states, against the files.
                if case .object(let object)? = parsed {
                    var stated: [String] = []
                    if case .array(let list)? = object["attachments"] {
                        for item in list {
                            if case .object(let a) = item, case .string(let sha)? = a["sha256"], case .number(let size)? = a["size"] {
                                stated.append("\(sha):\(Int(exactly: size).map(String.init) ?? "?")")
                            }
                        }
                    }
                    let present = current.attachments.map { "\($0.sha256):\($0.size)" }
                    if stated.sorted() == present.sorted() {
                        notes.append("\(stated.count) attachments match the signed hashes")
                    } else {
                        problems.append("attachments: the files do not match the \(stated.count) hashes the signed document states")
                    }
                } else {
                    problems.append("document.json is not JSON")
                }
            } else {
                problems.append("document.json is missing")
            }
            // The signed PDF: its PAdES signatures and time-stamps against the archive's CA,
            // nothing but signature maintenance after signing, and the canonical JSON it
            // embeds the very document.json.
            if let pdf = current.files["document.pdf"] {
                if let verifier = trust() {
                    let checked = PAdESLetter.verify(pdf, with: verifier)
                    if !checked.passed {
                        let failures = checked.signatures.filter { !$0.valid }.map(\.detail) + checked.modifications + checked.problems
                        problems.append("document.pdf: \(failures.joined(separator: "; "))")
                    } else if checked.document != current.files["document.json"] {
                        problems.append("document.pdf embeds another document than document.json")
                    } else if let approval = checked.signatures.first(where: { $0.kind == .signature })?.report?.signer,
                              approval.certificateSerial != letterSigner {
                        problems.append("document.pdf is signed by \(approval.subject), not by the signer of document.p7s")
                    } else {
                        notes.append("document.pdf is PAdES \(checked.level ?? "?") and embeds document.json")
                    }
                }
            }
            // Delivery evidence: each record with its signature, by the server, about this very
            // document: an official can sign an edited document.json, but not the server's
            // records of what was sent.
            var evidence = 0
            for (name, record) in current.files where name.hasPrefix("evidence/") && name.hasSuffix(".json") {
                let (ok, detail) = signature(record, current.files[String(name.dropLast(5)) + ".p7s"], byServer: true)
                evidence += 1
                if !ok { problems.append("\(name): \(detail)") }
                if case .object(let stated)? = try? JSONValue.parse(String(decoding: record, as: UTF8.self)) {
                    if case .string(let letterID)? = stated["letterId"], letterID != current.id {
                        problems.append("\(name): the record is about letter \(letterID)")
                    }
                    if let documentSHA256, case .string(let hash)? = stated["documentSha256"], hash != documentSHA256 {
                        problems.append("\(name): the server recorded sending a document with SHA-256 \(hash), not this document.json")
                    }
                } else {
                    problems.append("\(name) is not JSON")
                }
            }
            if evidence > 0 {
                notes.append("\(evidence) evidence records signed, about this document")
            } else if current.files["document.json"] != nil {
                problems.append("evidence: no record of the server's that it sent this document")
            }
            // The letter's history: each event's hash recomputed.
            if let history = current.files["history.jsonl"] {
                for line in history.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                    if let problem = Self.eventProblem(Array(line)).problem { problems.append("history: \(problem)") }
                }
            }
            if problems.isEmpty {
                lettersPassed += 1
                pass(subject, notes.joined(separator: "; "))
            } else {
                fail(subject, problems.joined(separator: "; "))
            }
        }

        /// Parses an exported event line and recomputes its hash.
        static func eventProblem(_ line: [UInt8]) -> (event: [String: JSONValue]?, problem: String?) {
            guard case .object(var object) = try? JSONValue.parse(String(decoding: line, as: UTF8.self)),
                  case .string(let stated)? = object.removeValue(forKey: "hash")
            else { return (nil, "a line is not an audit event") }
            guard let computed = try? AuditChain.hash(of: object) else { return (nil, "an event cannot be canonicalised") }
            object["hash"] = .string(stated)
            if computed != stated {
                let seq: String
                if case .number(let n)? = object["chainSeq"], let whole = Int64(exactly: n) { seq = String(whole) } else { seq = "?" }
                return (object, "event \(seq): its hash does not match its content")
            }
            return (object, nil)
        }

        /// One events file: its lines are linked here; files are linked to each other at the
        /// end in chain order, so the order files come in the tar does not matter.
        struct EventFile {
            var name: String
            var firstSequence: Int64
            var firstPrevHash: String
            var lastSequence: Int64
            var lastHash: String
        }

        /// Verifies a checkpoint once both its files are read, then lets go of them.
        mutating func judgeCheckpoint(_ sequence: Int64) {
            guard let entry = checkpoints[sequence], entry.judged == nil, let statement = entry.statement, entry.signature != nil else { return }
            let (ok, detail) = signature(statement, entry.signature, byServer: true)
            var judged: (problem: String?, detail: String, head: HashValue?)
            if !ok {
                judged = ("signature: \(detail)", detail, nil)
            } else if case .object(let object)? = try? JSONValue.parse(String(decoding: statement, as: UTF8.self)),
                      case .number(let n)? = object["sequence"], Int64(exactly: n) == sequence, case .string(let head)? = object["headHash"],
                      let value = HashValue(hex: head) {
                judged = (nil, detail, value)
            } else {
                judged = ("the statement is not a checkpoint of sequence \(sequence)", detail, nil)
            }
            checkpoints[sequence] = CheckpointEntry(statement: nil, signature: nil, judged: judged)
        }

        mutating func auditLines(_ content: [UInt8], file: String) {
            if events == 0 && eventFiles.isEmpty { checkpointsFirst = !checkpoints.isEmpty }
            var current: EventFile?
            for line in content.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                events += 1
                let (event, problem) = Self.eventProblem(Array(line))
                if let problem { chainProblems.append(problem) }
                guard let event, case .number(let n)? = event["chainSeq"], case .string(let hash)? = event["hash"],
                      case .string(let prev)? = event["prevHash"]
                else { continue }
                guard let sequence = Int64(exactly: n) else { chainProblems.append("an event's chainSeq is not a whole number"); continue }
                if let previous = current {
                    if sequence != previous.lastSequence + 1 {
                        chainProblems.append("event \(sequence) follows event \(previous.lastSequence): the chain has a gap or is out of order")
                    }
                    if prev != previous.lastHash {
                        chainProblems.append("event \(sequence): prevHash does not match the previous event's hash")
                    }
                    current?.lastSequence = sequence
                    current?.lastHash = hash
                } else {
                    current = EventFile(name: file, firstSequence: sequence, firstPrevHash: prev, lastSequence: sequence, lastHash: hash)
                }
                // With the checkpoints read first (esurat writes them first), only their
                // events' hashes are kept; otherwise (a re-packed archive) every one is.
                if !checkpointsFirst || checkpoints[sequence] != nil { chainHashes[sequence] = HashValue(hex: hash) }
            }
            if let current { eventFiles.append(current) }
        }

        /// Links the events files to each other in chain order.
        mutating func linkEventFiles() {
            let files = eventFiles.sorted { $0.firstSequence < $1.firstSequence }
            for (previous, next) in zip(files, files.dropFirst()) {
                if next.firstSequence != previous.lastSequence + 1 {
                    chainProblems.append("\(next.name) starts at event \(next.firstSequence) after event \(previous.lastSequence): the chain has a gap")
                }
                if next.firstPrevHash != previous.lastHash {
                    chainProblems.append("event \(next.firstSequence): prevHash does not match the previous event's hash")
                }
            }
            firstSequence = files.first?.firstSequence
            lastSequence = files.last?.lastSequence
        }

        mutating func finish() throws {
            try finishLetter()
            // The audit chain and its checkpoints.
            linkEventFiles()
            if segment == nil { chainProblems.append("data/audit/segment.json is missing") }
            if let segment, case .number(let stated)? = segment["events"], Int(exactly: stated) != events {
                chainProblems.append("segment.json states \(stated) events, the archive holds \(events)")
            }
            if let segment, case .number(let first)? = segment["firstSequence"], Int64(exactly: first) != firstSequence {
                chainProblems.append("segment.json starts at event \(first), the archive at \(firstSequence.map(String.init) ?? "none")")
            }
            if let segment, case .number(let last)? = segment["lastSequence"], Int64(exactly: last) != lastSequence {
                chainProblems.append("segment.json ends at event \(last), the archive at \(lastSequence.map(String.init) ?? "none")")
            }
            if chainProblems.isEmpty {
                pass("audit chain", events == 0 ? "no audit events in the period" : "\(events) events, \(firstSequence ?? 0)…\(lastSequence ?? 0): every hash and link recomputed")
            } else {
                fail("audit chain", chainProblems.prefix(5).joined(separator: "; ") + (chainProblems.count > 5 ? "; and \(chainProblems.count - 5) more" : ""))
            }
            var covered = false
            for sequence in checkpoints.keys.sorted() {
                let subject = "checkpoint \(sequence)"
                guard let judged = checkpoints[sequence]?.judged else {
                    fail(subject, checkpoints[sequence]?.statement == nil ? "the statement is missing" : "signature: no signature file")
                    continue
                }
                if let problem = judged.problem { fail(subject, problem); continue }
                guard let hash = chainHashes[sequence] else { fail(subject, "the archive holds no event \(sequence) to compare with"); continue }
                guard hash == judged.head else { fail(subject, "the signed head hash differs from event \(sequence)'s hash"); continue }
                if sequence == lastSequence { covered = true }
                pass(subject, "\(judged.detail); head hash matches event \(sequence)")
            }
            if events > 0 && !covered {
                fail("audit checkpoints", "no signed checkpoint states the last event (\(lastSequence ?? 0)) of the segment")
            }

            // The bag.
            if let bagit = tagText["bagit.txt"], bagit.contains("BagIt-Version: 1.0") {
                pass("bagit.txt", "BagIt 1.0")
            } else {
                fail("bagit.txt", "missing or not BagIt 1.0")
            }
            let oxum = "\(payloadBytes).\(payloadFiles)"
            if let info = tagText["bag-info.txt"], let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Payload-Oxum:") }) {
                let stated = line.dropFirst("Payload-Oxum:".count).trimmingCharacters(in: .whitespaces)
                if stated == oxum { pass("Payload-Oxum", oxum) } else { fail("Payload-Oxum", "bag-info.txt states \(stated), the payload is \(oxum)") }
            } else {
                fail("bag-info.txt", "missing, or without Payload-Oxum")
            }
            try payloadRecords.close()
            for algorithm in ["sha256", "sha512"] {
                try checkPayloadManifest("manifest-\(algorithm).txt", field: algorithm == "sha256" ? 0 : 1)
            }
            for algorithm in ["sha256", "sha512"] {
                let files = tags.filter { !$0.key.hasPrefix("tagmanifest-") }.mapValues { algorithm == "sha256" ? $0.sha256 : $0.sha512 }
                checkManifest("tagmanifest-\(algorithm).txt", files: files, complete: true)
            }
            // The bag's signature over the SHA-256 tag manifest, by the server.
            if let manifest = tagRaw["tagmanifest-sha256.txt"] {
                let (ok, detail) = signature(manifest, tagRaw[ArchiveExporter.bagSignatureName], byServer: true)
                if ok { pass("bag signature", "\(ArchiveExporter.bagSignatureName): \(detail)") } else { fail("bag signature", detail) }
            } else {
                fail("bag signature", "tagmanifest-sha256.txt is missing")
            }
            if letters > 0 { pass("letters", "\(lettersPassed) of \(letters) letters verified") }
        }

        /// Compares a payload manifest with the files read, both in archive order, line by line
        /// from disk; when the orders differ (a bag re-packed by another tool) the rest is
        /// compared through a table.
        mutating func checkPayloadManifest(_ name: String, field: Int) throws {
            guard let spool = manifests[name] else { fail(name, "missing"); return }
            try spool.close()
            let manifest = try LineReader(path: spool.path)
            let records = try LineReader(path: payloadRecords.path)
            func record(_ line: String) -> (path: String, digest: String) {
                let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
                return parts.count == 3 ? (String(parts[2]), String(parts[field])) : ("", "")
            }
            var problems: [String] = []
            var table: [String: String]?
            var listed = 0
            while let line = try manifest.next() {
                if line.isEmpty { continue }
                guard let space = line.firstIndex(of: " ") else { problems.append("unreadable line"); continue }
                let digest = String(line[..<space])
                let path = line[space...].trimmingCharacters(in: .whitespaces)
                    .replacingOccurrences(of: "%0A", with: "\n").replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%25", with: "%")
                listed += 1
                if table == nil {
                    guard let next = try records.next() else { problems.append("\(path) is listed but not in the archive"); continue }
                    let actual = record(next)
                    if actual.path == path {
                        if actual.digest != digest { problems.append("\(path): digest differs") }
                        continue
                    }
                    var rest = [actual.path: actual.digest]
                    while let more = try records.next() {
                        let entry = record(more)
                        rest[entry.path] = entry.digest
                    }
                    table = rest
                }
                guard let actual = table?.removeValue(forKey: path) else { problems.append("\(path) is listed but not in the archive"); continue }
                if actual != digest { problems.append("\(path): digest differs") }
            }
            if let table {
                for path in table.keys { problems.append("\(path) is not listed") }
            } else {
                while let more = try records.next() { problems.append("\(record(more).path) is not listed") }
            }
            if problems.isEmpty {
                pass(name, "\(listed) files match")
            } else {
                fail(name, problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))
            }
        }

        mutating func checkManifest(_ name: String, files: [String: String], complete: Bool) {
            guard let text = tagText[name] else { fail(name, "missing"); return }
            var listed = Set<String>()
            var problems: [String] = []
            for line in text.split(separator: "\n") where !line.isEmpty {
                guard let space = line.firstIndex(of: " ") else { problems.append("unreadable line"); continue }
                let digest = String(line[..<space])
                let path = line[space...].trimmingCharacters(in: .whitespaces)
                    .replacingOccurrences(of: "%0A", with: "\n").replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%25", with: "%")
                listed.insert(path)
                guard let actual = files[path] else { problems.append("\(path) is listed but not in the archive"); continue }
                if actual != digest { problems.append("\(path): digest differs") }
            }
            if complete {
                for path in files.keys where !listed.contains(path) { problems.append("\(path) is not listed") }
            }
            if problems.isEmpty {
                pass(name, "\(listed.count) files match")
            } else {
                fail(name, problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))
            }
        }
    }
}
