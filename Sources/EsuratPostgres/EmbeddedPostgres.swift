import Foundation
public import Logging

/// A private PostgreSQL cluster under a directory of esurat's: made with `initdb` on first
/// start, started and stopped with `pg_ctl`. `esurat serve` uses it when no database URL is
/// given, and the tests use it for their throwaway cluster.
///
/// PostgreSQL refuses to run as root, so when esurat runs as root the cluster belongs to the
/// `postgres` OS user and every PostgreSQL program runs through `runuser -u postgres --`.
/// The server listens on a Unix socket inside the directory when the path is short enough
/// (sockets are limited to 107 bytes), otherwise on a free loopback port; either way it
/// asks for a SCRAM password that only the directory's owner can read.
public struct EmbeddedPostgres: Sendable {
    public struct Configuration: Sendable {
        /// The cluster's directory; `<data-dir>/pg` for `esurat serve`.
        public var directory: String
        /// Where `initdb`, `pg_ctl` and `postgres` live; found under /usr/lib/postgresql when nil.
        public var binDirectory: String?
        /// The database esurat uses inside the cluster.
        public var database = "esurat"
        /// `max_connections` of the server.
        public var maxConnections = 200

        public init(directory: String, binDirectory: String? = nil) {
            self.directory = directory
            self.binDirectory = binDirectory
        }
    }

    /// Why the cluster could not be made, started or stopped.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    static let superuser = "esurat"
    var dataPath: String { configuration.directory + "/data" }
    var socketDirectory: String { configuration.directory + "/run" }
    var logPath: String { configuration.directory + "/postgres.log" }
    var passwordPath: String { configuration.directory + "/superuser-password" }
    var settingsPath: String { dataPath + "/esurat.conf" }

    /// Makes the cluster if needed, starts it (or adopts one left running) and returns the
    /// connection URL of esurat's database.
    public func start() async throws -> String {
        let thread = ConnectionThread(name: "esurat-pg-launcher")
        defer { thread.stop() }
        return try await thread.run { try self.startBlocking() }
    }

    /// Stops the server (fast shutdown: open sessions are rolled back). Safe to call when it
    /// is not running.
    public func stop() async throws {
        let thread = ConnectionThread(name: "esurat-pg-launcher")
        defer { thread.stop() }
        try await thread.run { try self.stopBlocking() }
    }

    /// Restarts the server, as a crash or an operator would.
    public func restart() async throws {
        try await stop()
        _ = try await start()
    }

    /// ``stop()`` without `async`, for exit handlers.
    public func stopBlocking() throws {
        guard FileManager.default.fileExists(atPath: dataPath + "/postmaster.pid") else { return }
        let outcome = try ChildProcess.run(try asOwner([try binary("pg_ctl"), "-D", dataPath, "-m", "fast", "-w", "-t", "60", "stop"]))
        if outcome.status != 0 && !outcome.output.contains("Is server running?") {
            throw Failure(description: "pg_ctl stop failed: \(outcome.output)")
        }
        logger.info("embedded PostgreSQL stopped", metadata: ["directory": "\(configuration.directory)"])
    }

    func startBlocking() throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        let owner = try clusterOwner()
        if let owner {
            try chown(configuration.directory, owner)
            try checkTraversable(configuration.directory, owner)
        }
        chmod(configuration.directory, 0o700)

        let password = try superuserPassword()
        if !fm.fileExists(atPath: dataPath + "/PG_VERSION") {
            try initialise(password: password, owner: owner)
        }
        let endpoint = try chooseEndpoint()
        try writeSettings(endpoint)

        let status = try ChildProcess.run(try asOwner([try binary("pg_ctl"), "-D", dataPath, "status"]))
        if status.status == 0 {
            logger.info("adopting the embedded PostgreSQL that is already running", metadata: ["directory": "\(configuration.directory)"])
            // It may listen elsewhere than we would choose now: restart it on our settings.
            try stopBlocking()
        }
        let started = try ChildProcess.run(try asOwner([
            try binary("pg_ctl"), "-D", dataPath, "-l", logPath, "-w", "-t", "60", "start",
        ]))
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
            throw Failure(description: "pg_ctl start failed: \(started.output)\n\(log)")
        }
        let url = endpoint.url(user: Self.superuser, password: password, database: "postgres")
        let connection = try LibPQConnection.connect(url, connectTimeout: .seconds(10), applicationName: "esurat-launcher")
        // This thread may block; the database name is esurat's own configuration, quoted.
        let exists = try connection.simpleQuery("SELECT 1 FROM pg_database WHERE datname = " + connection.quoteLiteral(configuration.database))
        if exists.isEmpty {
            try connection.simpleQuery("CREATE DATABASE " + connection.quoteIdentifier(configuration.database) + " ENCODING 'UTF8' TEMPLATE template0")
        }
        logger.info("embedded PostgreSQL running", metadata: ["directory": "\(configuration.directory)", "endpoint": "\(endpoint)"])
        return endpoint.url(user: Self.superuser, password: password, database: configuration.database)
    }

    /// Where the server listens.
    enum Endpoint: CustomStringConvertible {
        case socket(directory: String)
        case loopback(port: Int)

        func url(user: String, password: String, database: String) -> String {
            switch self {
            case .socket(let directory):
                let host = directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? directory
                return "postgresql://\(user):\(password)@/\(database)?host=\(host)"
            case .loopback(let port):
                return "postgresql://\(user):\(password)@127.0.0.1:\(port)/\(database)"
            }
        }

        var description: String {
            switch self {
            case .socket(let directory): "unix:\(directory)"
            case .loopback(let port): "127.0.0.1:\(port)"
            }
        }
    }

    private func chooseEndpoint() throws -> Endpoint {
        // sun_path holds 107 bytes; the socket file is named ".s.PGSQL.5432".
        if (socketDirectory + "/.s.PGSQL.5432").utf8.count < 100 {
            return .socket(directory: socketDirectory)
        }
        return .loopback(port: try Self.freeLoopbackPort())
    }

    private func writeSettings(_ endpoint: Endpoint) throws {
        func quoted(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
        var lines = [
            "# Written by esurat at every start; edit postgresql.conf for your own settings.",
            "max_connections = \(configuration.maxConnections)",
            "shared_buffers = '256MB'",
            // The first change to a page after a checkpoint logs the whole page; compressed,
            // those images are a fraction of the WAL a dispatch drain writes.
            "wal_compression = \(walCompression())",
            "log_min_messages = warning",
        ]
        switch endpoint {
        case .socket(let directory):
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let owner = try clusterOwner() { try chown(directory, owner) }
            lines += ["listen_addresses = ''", "unix_socket_directories = \(quoted(directory))", "port = 5432"]
        case .loopback(let port):
            lines += ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "port = \(port)"]
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: settingsPath, atomically: false, encoding: .utf8)
        if let owner = try clusterOwner() { try chown(settingsPath, owner) }
    }

    private func initialise(password: String, owner: (uid: uid_t, gid: gid_t)?) throws {
        // initdb reads the password from a file the cluster owner can read; it is removed
        // right after.
        let passwordFile = configuration.directory + "/initdb-password"
        try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        defer { unlink(passwordFile) }
        if let owner { try chown(passwordFile, owner) }
        chmod(passwordFile, 0o600)
        let outcome = try ChildProcess.run(try asOwner([
            try binary("initdb"), "-D", dataPath, "-U", Self.superuser, "--pwfile=" + passwordFile,
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        ]))
        guard outcome.status == 0 else { throw Failure(description: "initdb failed: \(outcome.output)") }
        let conf = dataPath + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: conf))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\ninclude_if_exists = 'esurat.conf'\n".utf8))
        try handle.close()
        logger.info("initialised a new embedded PostgreSQL cluster", metadata: ["directory": "\(configuration.directory)"])
    }

    /// The superuser's password, made on first use and kept readable by the owner only.
    private func superuserPassword() throws -> String {
        if let existing = try? String(contentsOfFile: passwordPath, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var generator = SystemRandomNumberGenerator()
        let password = (0..<32).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
        guard FileManager.default.createFile(atPath: passwordPath, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "cannot write \(passwordPath)")
        }
        return password
    }

    /// The `postgres` user when running as root; nil otherwise (the cluster is ours).
    private func clusterOwner() throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        guard let entry = getpwnam("postgres") else {
            throw Failure(description: "esurat runs as root, but there is no 'postgres' user to own the embedded cluster; install the postgresql package")
        }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    private func asOwner(_ command: [String]) throws -> [String] {
        guard try clusterOwner() != nil else { return command }
        for runuser in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"] where FileManager.default.isExecutableFile(atPath: runuser) {
            return [runuser, "-u", "postgres", "--"] + command
        }
        throw Failure(description: "runuser (util-linux) is needed to run PostgreSQL as the postgres user")
    }

    private func chown(_ path: String, _ owner: (uid: uid_t, gid: gid_t)) throws {
        guard Glibc.chown(path, owner.uid, owner.gid) == 0 else {
            throw Failure(description: "cannot give \(path) to the postgres user: \(String(cString: strerror(errno)))")
        }
    }

    /// The postgres user must be able to reach the cluster directory through its parents.
    private func checkTraversable(_ path: String, _ owner: (uid: uid_t, gid: gid_t)) throws {
        var current = (path as NSString).deletingLastPathComponent
        while current != "/" && !current.isEmpty {
            var info = stat()
            if stat(current, &info) == 0 {
                let others = info.st_mode & 0o001 != 0
                let group = info.st_gid == owner.gid && info.st_mode & 0o010 != 0
                let user = info.st_uid == owner.uid && info.st_mode & 0o100 != 0
                if !(others || group || user) {
                    throw Failure(description: "the postgres user cannot enter \(current); choose a data directory outside it (--data-dir) or run chmod o+x \(current)")
                }
            }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// lz4 where PostgreSQL takes it (15 and later; Debian builds them with lz4), else `on`
    /// (pglz): 13 and 14 refuse `lz4` and would not start. The version is read from Debian's
    /// layout, /usr/lib/postgresql/N/bin; elsewhere it is unknown and `on` is safe.
    private func walCompression() -> String {
        guard let postgres = try? binary("postgres") else { return "on" }
        let parts = postgres.split(separator: "/")
        guard parts.count >= 3, parts[parts.count - 2] == "bin", let major = Int(parts[parts.count - 3]), major >= 15 else { return "on" }
        return "lz4"
    }

    /// The program `name` from the PostgreSQL installation (the newest under
    /// /usr/lib/postgresql on Debian).
    public func binary(_ name: String) throws -> String {
        let fm = FileManager.default
        if let dir = configuration.binDirectory {
            return dir + "/" + name
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where fm.isExecutableFile(atPath: "\(root)/\(version)/bin/\(name)") {
            return "\(root)/\(version)/bin/\(name)"
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw Failure(description: "PostgreSQL's \(name) was not found; install the postgresql package (apt-get install -y postgresql)")
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "cannot bind a loopback port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
