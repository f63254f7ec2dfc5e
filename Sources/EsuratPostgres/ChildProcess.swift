import Foundation

/// Runs helper programs (initdb, pg_ctl, pgbench) with `posix_spawn` and `waitpid`.
///
/// Not `Foundation.Process`: the postmaster that `pg_ctl start` leaves running inherits the
/// descriptors of whoever spawned it, and Process's pipes then never reach end-of-file (a
/// measured hang). Here the child's standard output and error go to a file, which nobody
/// waits to see closed.
public enum ChildProcess {
    public struct Outcome: Sendable {
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `arguments[0]` (an absolute path) and waits for it. Blocking: call it from a
    /// dedicated thread or through ``runDetached(_:)``.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        precondition(!arguments.isEmpty)
        let outputPath = NSTemporaryDirectory() + "esurat-child-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // Swift's runtime threads block signals; a child inherits that mask, and pgbench's -T
        // (SIGALRM) or a postmaster's shutdown signals would never arrive. Start the child
        // with an empty mask and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw EmbeddedPostgres.Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { break }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros; decode the wait status by hand.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitCode, output: output)
    }

    /// Runs the program on a thread of its own and awaits it.
    public static func runDetached(_ arguments: [String]) async throws -> Outcome {
        let thread = ConnectionThread(name: "esurat-child")
        defer { thread.stop() }
        return try await thread.run { try run(arguments) }
    }
}
