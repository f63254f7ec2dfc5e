internal import COpenSSL

/// An OpenSSL failure: what esurat was doing and the text of OpenSSL's error queue.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    /// What esurat was doing, such as "EVP_DigestInit_ex".
    public var operation: String
    /// OpenSSL's queued errors, oldest first, as `ERR_error_string_n` prints them.
    public var queue: [String]

    public var description: String {
        queue.isEmpty ? "\(operation) failed" : "\(operation) failed: \(queue.joined(separator: "; "))"
    }

    /// Drains this thread's OpenSSL error queue. OpenSSL keeps the queue per thread, so this
    /// must run before any suspension point after the failing call.
    static func drain(_ operation: String) -> OpenSSLError {
        var lines: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return OpenSSLError(operation: operation, queue: lines)
    }
}

/// Throws an ``OpenSSLError`` when an OpenSSL call returned its failure value (`<= 0`).
@discardableResult
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard result > 0 else { throw OpenSSLError.drain(operation()) }
    return result
}
