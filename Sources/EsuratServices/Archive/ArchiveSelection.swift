import EsuratDomain
import EsuratPostgres
public import Foundation

/// What an export takes: letters signed in [from, to] (calendar days in WIB, Asia/Jakarta,
/// the days letters are dated in), optionally of one unit and the units under it, and of one
/// KKA code and the codes under it.
public struct ArchiveSelection: Sendable, Hashable {
    public var from: String
    public var to: String
    public var unitID: UUID?
    public var classification: String?

    public init(from: String, to: String, unitID: UUID? = nil, classification: String? = nil) {
        self.from = from
        self.to = to
        self.unitID = unitID
        self.classification = classification
    }

    /// Checks the fields a client sends; every problem names its field.
    public static func validated(from: String, to: String, unitID: UUID?, classification: String?) throws -> ArchiveSelection {
        var check = Validator()
        let fromDay = Self.day(from), toDay = Self.day(to)
        check.check(fromDay != nil, "from", "must be a date, YYYY-MM-DD")
        check.check(toDay != nil, "to", "must be a date, YYYY-MM-DD")
        if let fromDay, let toDay { check.check(toDay >= fromDay, "to", "must not be before from (\(from))") }
        if let classification { check.check(ClassificationCode(classification) != nil, "classification", "must be a KKA code such as 000.1") }
        try check.throwIfInvalid()
        return ArchiveSelection(from: from, to: to, unitID: unitID, classification: classification)
    }

    /// `YYYY-MM-DD` as a comparable number, or nil.
    static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1900...9999).contains(y), (1...12).contains(m), (1...31).contains(d),
              PostgresDate(year: y, month: m, day: d) != nil
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
              calendar.component(.day, from: date) == d
        else { return nil }
        return y * 10_000 + m * 100 + d
    }
}
