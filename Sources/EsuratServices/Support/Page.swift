public import Foundation
import EsuratDomain

/// One page of a list, with the cursor of the next page (nil on the last).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A list request's limit and cursor, checked.
public struct PageRequest: Sendable {
    public static let defaultLimit = 50
    public static let maxLimit = 200
    public let limit: Int
    /// The sort key of the last item of the previous page.
    public let after: String?

    /// - Throws: ``ServiceError`` naming `limit` or `cursor`.
    public init(limit: Int?, cursor: String?) throws {
        let limit = limit ?? Self.defaultLimit
        guard (1...Self.maxLimit).contains(limit) else { throw ServiceError.invalid("limit", "must be between 1 and \(Self.maxLimit)") }
        self.limit = limit
        if let cursor {
            guard let data = Data(base64Encoded: cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/").padding(toLength: (cursor.count + 3) / 4 * 4, withPad: "=", startingAt: 0)),
                  let key = String(data: data, encoding: .utf8), !key.isEmpty
            else { throw ServiceError.invalid("cursor", "is not a cursor this server issued") }
            self.after = key
        } else {
            self.after = nil
        }
    }

    /// Makes the page: fetch `limit + 1` rows; the extra one says there is a next page.
    func page<Item>(_ rows: [Item], key: (Item) -> String) -> Page<Item> {
        guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
        let items = Array(rows.prefix(limit))
        let encoded = Data(key(items[items.count - 1]).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return Page(items: items, nextCursor: encoded)
    }
}

/// The position in a list ordered newest first by (time, id): the opaque cursor text is
/// microseconds since 1970 and the id.
struct TimeCursor {
    let time: Date
    let id: UUID

    /// The cursor of `page`, if it carries one; a cursor this server did not issue is a 400.
    static func after(_ page: PageRequest) throws -> TimeCursor? {
        guard let cursor = page.after else { return nil }
        let parts = cursor.split(separator: "_")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw ServiceError.invalid("cursor", "is not a cursor this server issued")
        }
        return TimeCursor(time: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    static func key(time: Date, id: UUID) -> String {
        "\(Int64((time.timeIntervalSince1970 * 1_000_000).rounded()))_\(id.lowercasedString)"
    }
}
