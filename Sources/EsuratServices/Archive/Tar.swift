import EsuratSigning
import Foundation

/// Where an archive's bytes go: a file, or the database (chunks of an export job).
public protocol ArchiveSink: AnyObject {
    func write(_ bytes: [UInt8]) async throws
    func finish() async throws
}

/// A file on disk (the CLI's `--out`).
public final class FileArchiveSink: ArchiveSink {
    let handle: FileHandle

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
            throw ServiceError.invalid("out", "cannot create \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    public func write(_ bytes: [UInt8]) async throws { try handle.write(contentsOf: bytes) }
    public func finish() async throws { try handle.close() }
}

/// Writes a POSIX ustar archive front to back, never seeking: each member's size is known
/// when its header is written (members are either small and in memory, or spooled files,
/// or attachments whose size the database holds). Output is buffered in 256 KiB pieces and
/// the SHA-256 of the whole archive is computed on the way.
final class TarWriter {
    let sink: any ArchiveSink
    let mtime: Int
    private var buffer: [UInt8] = []
    private let whole: SHA256Hasher
    private(set) var bytesWritten = 0
    static let flushSize = 256 * 1024

    init(sink: any ArchiveSink, mtime: Date) throws {
        self.sink = sink
        self.mtime = Int(mtime.timeIntervalSince1970)
        self.whole = try SHA256Hasher()
        buffer.reserveCapacity(Self.flushSize + 512)
    }

    struct NameTooLong: Error, CustomStringConvertible {
        var path: String
        var description: String { "the archive path \(path) does not fit a ustar header" }
    }

    /// The 512-byte ustar header of a regular file.
    static func header(path: String, size: Int, mtime: Int) throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        let utf8 = Array(path.utf8)
        var name = utf8, prefix: [UInt8] = []
        if utf8.count > 100 {
            // Split at a slash so that the prefix has at most 155 bytes and the name 100.
            guard let split = utf8.indices.reversed().first(where: { utf8[$0] == UInt8(ascii: "/") && $0 <= 155 && utf8.count - $0 - 1 <= 100 }) else {
                throw NameTooLong(path: path)
            }
            prefix = Array(utf8[..<split])
            name = Array(utf8[(split + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { header[offset + i] = b } }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("esurat".utf8), at: 265)
        put(Array("esurat".utf8), at: 297)
        put(prefix, at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        let digits = String(checksum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, UInt8(ascii: " ")], at: 148)
        return header
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) async throws {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= Self.flushSize { try await flush() }
    }

    private func emit(_ bytes: [UInt8]) async throws {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= Self.flushSize { try await flush() }
    }

    private func flush() async throws {
        guard !buffer.isEmpty else { return }
        try whole.update(buffer)
        let out = buffer
        buffer.removeAll(keepingCapacity: true)
        try await sink.write(out)
    }

    /// A member whose bytes are in hand; returns their digests.
    @discardableResult
    func add(path: String, bytes: [UInt8]) async throws -> (sha256: String, sha512: String) {
        try await begin(path: path, size: bytes.count)
        let digest = try StreamingDigest()
        try digest.update(bytes)
        try await emit(bytes)
        try await end(size: bytes.count)
        return try digest.finalize()
    }

    /// A member written in pieces (`size` must be its exact total).
    func begin(path: String, size: Int) async throws {
        try await emit(try Self.header(path: path, size: size, mtime: mtime))
    }

    func content(_ bytes: [UInt8]) async throws { try await emit(bytes) }

    func end(size: Int) async throws {
        let padding = (512 - size % 512) % 512
        if padding > 0 { try await emit([UInt8](repeating: 0, count: padding)) }
    }

    /// A member copied from a file on disk in 64 KiB pieces; returns its digests.
    func add(path: String, file: String) async throws -> (sha256: String, sha512: String) {
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
        try await begin(path: path, size: size)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        let digest = try StreamingDigest()
        var copied = 0
        while let piece = try handle.read(upToCount: 64 * 1024), !piece.isEmpty {
            let bytes = [UInt8](piece)
            try digest.update(bytes)
            try await emit(bytes)
            copied += bytes.count
        }
        guard copied == size else { throw ServiceError(.conflict, "\(file) changed while it was archived") }
        try await end(size: size)
        return try digest.finalize()
    }

    /// The two zero blocks that end an archive; flushes everything and returns the archive's
    /// SHA-256.
    func close() async throws -> String {
        try await emit([UInt8](repeating: 0, count: 1024))
        try await flush()
        try await sink.finish()
        return try whole.finalizeHex()
    }
}

/// Appends text lines to a temporary file (a BagIt manifest growing with every payload file)
/// so that memory stays flat however many files the bag has.
final class SpoolFile {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(name: String) throws {
        path = NSTemporaryDirectory() + "esurat-spool-\(UUID().uuidString)-\(name)"
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ServiceError(.conflict, "cannot create a temporary file in \(NSTemporaryDirectory())")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    func append(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        if buffer.count >= 64 * 1024 { try flush() }
    }

    func append(bytes: ArraySlice<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 64 * 1024 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Reads a text file line by line in 64 KiB pieces.
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var done = false

    init(path: String) throws {
        handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    }

    deinit { try? handle.close() }

    /// The next line without its newline; nil at the end.
    func next() throws -> String? {
        while true {
            if let newline = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[position..<newline], as: UTF8.self)
                position = newline + 1
                return line
            }
            if done {
                guard position < buffer.count else { return nil }
                let line = String(decoding: buffer[position...], as: UTF8.self)
                position = buffer.count
                return line
            }
            buffer.removeFirst(position)
            position = 0
            if let data = try handle.read(upToCount: 64 * 1024), !data.isEmpty {
                buffer.append(contentsOf: data)
            } else {
                done = true
            }
        }
    }
}

/// Reads a ustar archive front to back from a file, one member at a time, without holding
/// more than the member being read (and only when asked for it in memory).
public final class TarReader {
    let handle: FileHandle
    private var pending = 0  // bytes of the current member (with padding) not yet consumed
    private var buffer: [UInt8] = []
    private var position = 0

    public struct Entry: Sendable {
        public var path: String
        public var size: Int
        /// "0" regular file, "5" directory, and so on.
        public var type: UInt8
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    public init(path: String) throws {
        handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    }

    deinit { try? handle.close() }

    private func fill(_ count: Int) throws -> Bool {
        while buffer.count - position < count {
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            guard let data = try handle.read(upToCount: max(64 * 1024, count)), !data.isEmpty else { return false }
            buffer.append(contentsOf: data)
        }
        return true
    }

    private func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard try fill(count) else { throw Malformed(description: "the archive ends inside a member") }
        defer { position += count }
        return buffer[position..<position + count]
    }

    /// The next member's header, after skipping what is left of the current one; nil at the
    /// end-of-archive block. A file that stops before that block was cut short, even when the
    /// cut falls exactly between two members.
    public func next() throws -> Entry? {
        if pending > 0 { _ = try skip(pending) }
        guard try fill(512) else { throw Malformed(description: "the archive ends without its end-of-archive blocks") }
        let header = Array(try take(512))
        if header.allSatisfy({ $0 == 0 }) { return nil }
        let stored = Int(Self.string(header[148..<156]).trimmingCharacters(in: .whitespaces), radix: 8) ?? -1
        var copy = header
        for i in 148..<156 { copy[i] = UInt8(ascii: " ") }
        guard stored == copy.reduce(0, { $0 + Int($1) }) else { throw Malformed(description: "a member header's checksum is wrong") }
        let name = Self.string(header[0..<100])
        let prefix = Self.string(header[345..<500])
        guard let size = Int(Self.string(header[124..<136]).trimmingCharacters(in: .whitespaces), radix: 8) else {
            throw Malformed(description: "a member header's size is unreadable")
        }
        pending = size + (512 - size % 512) % 512
        return Entry(path: prefix.isEmpty ? name : prefix + "/" + name, size: size, type: header[156] == 0 ? UInt8(ascii: "0") : header[156])
    }

    /// Passes the current member's content to `body` in pieces.
    public func read(_ entry: Entry, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var left = entry.size
        while left > 0 {
            let n = min(left, 64 * 1024)
            try body(try take(n))
            left -= n
            pending -= n
        }
        _ = try skip(pending)
    }

    private func skip(_ count: Int) throws -> Int {
        var left = count
        while left > 0 {
            let n = min(left, 64 * 1024)
            _ = try take(n)
            left -= n
        }
        pending = 0
        return count
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
