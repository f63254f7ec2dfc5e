/// A civil servant's NIP (Nomor Induk Pegawai): 18 digits — birth date (yyyymmdd),
/// appointment month (yyyymm), sex (1 male, 2 female) and a three-digit sequence.
public struct NIP: Sendable, Hashable, CustomStringConvertible {
    public let digits: String

    /// Why a text is not a NIP; the message is what a client sees.
    public enum Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        case length(Int)
        case notDigits
        case birthDate(String)
        case appointment(String)
        case sex(Character)
        case appointedBeforeBirth

        public var description: String {
            switch self {
            case .length(let n): "must be 18 digits, got \(n)"
            case .notDigits: "must contain digits only"
            case .birthDate(let text): "birth date part \(text) is not a real date"
            case .appointment(let text): "appointment part \(text) is not a real year and month"
            case .sex(let c): "sex digit must be 1 or 2, got \(c)"
            case .appointedBeforeBirth: "appointment date is before the birth date"
            }
        }
    }

    /// Parses a NIP; spaces (as NIPs are often printed, `19800101 200501 1 001`) are ignored.
    public init(_ text: String) throws(Invalid) {
        let compact = text.filter { $0 != " " }
        guard compact.count == 18 else { throw .length(compact.count) }
        guard compact.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .notDigits }
        let chars = Array(compact)
        func number(_ range: Range<Int>) -> Int { Int(String(chars[range]))! }
        let (by, bm, bd) = (number(0..<4), number(4..<6), number(6..<8))
        guard (1900...2100).contains(by), (1...12).contains(bm), bd >= 1, bd <= CalendarDay.daysIn(month: bm, year: by) else {
            throw .birthDate(String(chars[0..<8]))
        }
        let (ay, am) = (number(8..<12), number(12..<14))
        guard (1900...2100).contains(ay), (1...12).contains(am) else { throw .appointment(String(chars[8..<14])) }
        guard ay * 12 + am > by * 12 + bm else { throw .appointedBeforeBirth }
        guard chars[14] == "1" || chars[14] == "2" else { throw .sex(chars[14]) }
        self.digits = compact
    }

    public var birthDate: CalendarDay {
        let c = Array(digits)
        return CalendarDay(year: Int(String(c[0..<4]))!, month: Int(String(c[4..<6]))!, day: Int(String(c[6..<8]))!)!
    }

    public var description: String { digits }
}

/// A calendar date (year, month, day) in the Gregorian calendar.
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CalendarDay.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (a: CalendarDay, b: CalendarDay) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}
