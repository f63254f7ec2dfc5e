import Foundation
import Synchronization

/// Stock tools the archive tests judge exports with: the PyPI `bagit` validator in a
/// virtualenv, `openssl`, `tar`, the `esurat` binary, and a Python rewriter of tar archives
/// that tampers with one member.
public enum ArchiveTools {
    /// Runs a program; returns its exit status and its standard output and error together.
    @discardableResult
    public static func runSync(_ executable: String, _ arguments: [String], in directory: String? = nil, environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardInput = FileHandle.nullDevice
        let output = NSTemporaryDirectory() + "esurat-tool-\(UUID().uuidString).out"
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? FileManager.default.removeItem(atPath: output) }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    // The tools run for seconds (bagit, verify-archive, pip): waiting for them on Swift's
    // cooperative threads (two on this machine) would stall every other test running in
    // parallel, so each waits on a thread of its own.
    public static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Runs a program; returns its exit status and its standard output and error together.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil, environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await offThePool { try runSync(executable, arguments, in: directory, environment: extra) }
    }

    /// A virtualenv with the PyPI `bagit` package, made once per machine (python3-venv).
    public static func bagitPython() async throws -> String { try await offThePool { try bagitPythonSync() } }

    /// Validates the bag in `directory` with `bagit.py --validate`.
    public static func bagitValidate(_ directory: String) async throws -> (status: Int32, output: String) {
        try await offThePool { try bagitValidateSync(directory) }
    }

    /// Extracts `tar` into a new directory and returns the bag's path inside it.
    public static func extract(_ tar: String) async throws -> String { try await offThePool { try extractSync(tar) } }

    /// Rewrites an archive with one change (see ``tamperSync(_:_:mode:environment:)``).
    public static func tamper(_ input: String, _ output: String, mode: String, environment: [String: String] = [:]) async throws {
        try await offThePool { try tamperSync(input, output, mode: mode, environment: environment) }
    }

    /// The `esurat` binary built beside the test bundle.
    public static var esurat: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("esurat").path
    }

    /// Held while a virtualenv is checked or made: tests running in parallel otherwise make
    /// the same one at once, and one of them imports from a half-installed package.
    static let virtualenvs = Mutex(())

    /// A virtualenv with the PyPI `bagit` package, made once per machine (python3-venv).
    static func bagitPythonSync() throws -> String {
        try virtualenvs.withLock { _ in try bagitPythonUnlocked() }
    }

    private static func bagitPythonUnlocked() throws -> String {
        let venv = NSTemporaryDirectory() + "esurat-test-bagit-venv"
        let python = venv + "/bin/python"
        if FileManager.default.fileExists(atPath: python), try runSync(python, ["-c", "import bagit"]).status == 0 { return python }
        let made = try runSync("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.status == 0 else { throw ToolFailure(description: "python3 -m venv failed: \(made.output)") }
        let installed = try runSync(venv + "/bin/pip", ["install", "--quiet", "bagit"])
        guard installed.status == 0 else { throw ToolFailure(description: "pip install bagit failed: \(installed.output)") }
        return python
    }

    public struct ToolFailure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Validates the bag in `directory` with `bagit.py --validate`.
    static func bagitValidateSync(_ directory: String) throws -> (status: Int32, output: String) {
        try runSync(try bagitPythonSync(), ["-m", "bagit", "--validate", directory])
    }

    /// Extracts `tar` into a new directory beside it (so it goes with the test's scratch
    /// directory) and returns the bag's path inside it.
    static func extractSync(_ tar: String) throws -> String {
        let directory = tar + ".extracted-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try runSync("/usr/bin/tar", ["-xf", tar, "-C", directory])
        guard result.status == 0 else { throw ToolFailure(description: "tar -xf failed: \(result.output)") }
        let bags = try FileManager.default.contentsOfDirectory(atPath: directory)
        guard bags.count == 1 else { throw ToolFailure(description: "the archive holds \(bags.count) top directories") }
        return directory + "/" + bags[0]
    }

    /// Every `.p7s` under `bag` with the file it signs (`X.p7s` signs `X.json`, or `X` when
    /// that file exists, as `tagmanifest-sha256.txt.p7s` signs `tagmanifest-sha256.txt`).
    public static func signatures(in bag: String) -> [(signature: String, content: String)] {
        let enumerator = FileManager.default.enumerator(atPath: bag)
        var out: [(String, String)] = []
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".p7s") else { continue }
            let stem = bag + "/" + String(path.dropLast(4))
            out.append((bag + "/" + path, FileManager.default.fileExists(atPath: stem) ? stem : stem + ".json"))
        }
        return out
    }

    /// Rewrites the archive `input` into `output` with one change:
    /// - `flip`: one byte of the first attachment (or, without attachments, of the first
    ///   document.json, or without letters of the audit events) is flipped; manifests are
    ///   left as they were.
    /// - `delete-event`: one audit event from the middle of the first events file is removed;
    /// - `swap-events`: two neighbouring audit events are swapped;
    /// - `truncate-tail`: the last audit event is dropped and segment.json told so;
    /// - `rogue-root`: a self-signed certificate of the tamperer's is added to data/pki/ca.pem;
    /// for these the manifests, tag manifests and Payload-Oxum are recomputed, so the bag
    /// itself stays valid; only the chain, the bag's signature or the PKI checks can tell;
    /// - `reverse`: nothing changes but the order of the members (a re-packed bag).
    /// - `flip-pdf`: one byte inside a letter's signed PDF, the manifests made to agree.
    /// - `forge-official`: what an official of the same CA could do with their own key
    ///   (`FORGE_CERT`, `FORGE_KEY`: PEM files): the first letter's body edited and its
    ///   document.json re-signed, its PDF and time-stamp files dropped, every evidence record,
    ///   checkpoint and the bag re-signed with that key, and with `FORGE_SWAP_EVIDENCE=1`
    ///   data/pki/evidence.pem replaced by the official's certificate; the bag re-made.
    static func tamperSync(_ input: String, _ output: String, mode: String, environment: [String: String] = [:]) throws {
        let script = NSTemporaryDirectory() + "esurat-tamper-\(UUID().uuidString).py"
        try Self.tamperScript.write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let result = try runSync("/usr/bin/env", ["python3", script, input, output, mode], environment: environment)
        guard result.status == 0 else { throw ToolFailure(description: "tamper \(mode) failed: \(result.output)") }
    }

    static let tamperScript = #"""
    import hashlib, io, json, os, subprocess, sys, tarfile, tempfile

    source, target, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    members = []
    with tarfile.open(source) as tar:
        for info in tar.getmembers():
            data = tar.extractfile(info).read() if info.isfile() else b""
            members.append([info, data])
    root = members[0][0].name.split("/")[0]
    def rel(info):
        return info.name[len(root) + 1:]

    if mode == "flip":
        candidates = ([m for m in members if "/attachments/" in rel(m[0])] or [m for m in members if rel(m[0]).endswith("document.json")]
                      or [m for m in members if rel(m[0]).startswith("data/audit/events-")])
        target_member = candidates[0]
        data = bytearray(target_member[1])
        data[len(data) // 2] ^= 0x01
        target_member[1] = bytes(data)
    elif mode == "rogue-root":
        work = tempfile.mkdtemp()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(work, "k.pem"), "-out", os.path.join(work, "c.pem"), "-subj", "/CN=Root CA Palsu",
                        "-days", "30"], check=True, capture_output=True)
        ca = [m for m in members if rel(m[0]) == "data/pki/ca.pem"][0]
        ca[1] = ca[1] + open(os.path.join(work, "c.pem"), "rb").read()
    elif mode == "reverse":
        members.reverse()
    elif mode == "forge-official":
        work = tempfile.mkdtemp()
        def sign(data):
            content, signature = os.path.join(work, "in"), os.path.join(work, "out")
            open(content, "wb").write(data)
            subprocess.run(["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", content, "-signer", os.environ["FORGE_CERT"],
                            "-inkey", os.environ["FORGE_KEY"], "-outform", "DER", "-out", signature], check=True, capture_output=True)
            return open(signature, "rb").read()
        by_name = {rel(m[0]): m for m in members}
        letter = sorted(n for n in by_name if n.startswith("data/letters/") and n.endswith("/document.json"))[0]
        folder = letter[:-len("document.json")]
        document = json.loads(by_name[letter][1])
        document["body"] = "Isi yang dipalsukan: " + document["body"]
        by_name[letter][1] = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        by_name[folder + "document.p7s"][1] = sign(by_name[letter][1])
        members = [m for m in members if rel(m[0]) not in (folder + "document.pdf", folder + "document.tst", folder + "document.sigvalue")]
        for name, member in by_name.items():
            server_signed = (name.startswith(folder + "evidence/") or name.startswith("data/audit/checkpoints/")) and name.endswith(".json")
            if server_signed and name[:-5] + ".p7s" in by_name:
                by_name[name[:-5] + ".p7s"][1] = sign(member[1])
        if os.environ.get("FORGE_SWAP_EVIDENCE") == "1":
            by_name["data/pki/evidence.pem"][1] = open(os.environ["FORGE_CERT"], "rb").read()
    elif mode == "flip-pdf":
        pdf = [m for m in members if rel(m[0]).endswith("document.pdf")][0]
        data = bytearray(pdf[1])
        data[len(data) // 3] ^= 0x01
        pdf[1] = bytes(data)
    else:
        events = [m for m in members if rel(m[0]).startswith("data/audit/events-")][-1]
        lines = events[1].split(b"\n")[:-1]
        if len(lines) < 4:
            sys.exit("too few events to tamper with")
        middle = len(lines) // 2
        if mode == "delete-event":
            del lines[middle]
        elif mode == "swap-events":
            lines[middle], lines[middle + 1] = lines[middle + 1], lines[middle]
        elif mode == "truncate-tail":
            lines = lines[:-1]
            segment = [m for m in members if rel(m[0]) == "data/audit/segment.json"][0]
            stated = json.loads(segment[1])
            stated["events"] -= 1
            stated["lastSequence"] -= 1
            segment[1] = json.dumps(stated, separators=(",", ":"), sort_keys=True).encode()
        else:
            sys.exit("unknown mode " + mode)
        events[1] = b"\n".join(lines) + b"\n"
    if mode not in ("flip", "reverse"):
        # Keep the bag valid: recompute manifests, oxum and tag manifests.
        payload = [m for m in members if rel(m[0]).startswith("data/")]
        by_name = {rel(m[0]): m for m in members}
        for algorithm in ("sha256", "sha512"):
            text = "".join("%s  %s\n" % (hashlib.new(algorithm, m[1]).hexdigest(), rel(m[0])) for m in payload)
            by_name["manifest-%s.txt" % algorithm][1] = text.encode()
        info_member = by_name["bag-info.txt"]
        oxum = "%d.%d" % (sum(len(m[1]) for m in payload), len(payload))
        info_member[1] = b"\n".join(
            (b"Payload-Oxum: " + oxum.encode()) if line.startswith(b"Payload-Oxum:") else line
            for line in info_member[1].split(b"\n"))
        tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt"]
        for algorithm in ("sha256", "sha512"):
            text = "".join("%s  %s\n" % (hashlib.new(algorithm, by_name[t][1]).hexdigest(), t) for t in tags)
            by_name["tagmanifest-%s.txt" % algorithm][1] = text.encode()
        if mode == "forge-official":
            by_name["tagmanifest-sha256.txt.p7s"][1] = sign(by_name["tagmanifest-sha256.txt"][1])

    with tarfile.open(target, "w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    """#
}
