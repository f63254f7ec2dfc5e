/// A unit's letter-number template, such as `{kka}/{seq}/{unitCode}/{year}` (the default,
/// giving `000.1/15/433.102/2026`). Governments set their own by regional regulation, so the
/// placeholders can be arranged freely; `{seq}` must appear exactly once.
public struct LetterNumberTemplate: Sendable, Hashable, Codable, CustomStringConvertible {
    public let template: String

    public static let standard = try! LetterNumberTemplate("{kka}/{seq}/{unitCode}/{year}")

    /// The placeholders a template may use.
    public static let placeholders: Set<String> = ["kka", "seq", "unitCode", "year", "month", "romanMonth", "sifat"]

    public enum Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        case unknownPlaceholder(String)
        case unclosedBrace
        case sequenceCount(Int)
        case tooLong

        public var description: String {
            switch self {
            case .unknownPlaceholder(let name): "unknown placeholder {\(name)}; use \(LetterNumberTemplate.placeholders.sorted().map { "{\($0)}" }.joined(separator: ", "))"
            case .unclosedBrace: "a '{' is not closed"
            case .sequenceCount(let n): "{seq} must appear exactly once, not \(n) times"
            case .tooLong: "the template is longer than 100 characters"
            }
        }
    }

    public init(_ template: String) throws(Invalid) {
        guard template.count <= 100 else { throw .tooLong }
        var sequences = 0
        for token in try Self.tokens(template) {
            if case .placeholder(let name) = token {
                guard Self.placeholders.contains(name) else { throw .unknownPlaceholder(name) }
                if name == "seq" { sequences += 1 }
            }
        }
        guard sequences == 1 else { throw .sequenceCount(sequences) }
        self.template = template
    }

    public var description: String { template }

    /// The values a number is made of.
    public struct Values: Sendable, Hashable {
        public var classification: ClassificationCode
        public var sequence: Int
        public var unitCode: String
        public var year: Int
        public var month: Int
        public var securityLevel: SecurityLevel

        public init(classification: ClassificationCode, sequence: Int, unitCode: String, year: Int, month: Int, securityLevel: SecurityLevel) {
            self.classification = classification
            self.sequence = sequence
            self.unitCode = unitCode
            self.year = year
            self.month = month
            self.securityLevel = securityLevel
        }
    }

    /// The number for `values`.
    public func format(_ values: Values) -> String {
        let roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
        var out = ""
        // The template was checked when it was made.
        for token in (try? Self.tokens(template)) ?? [] {
            switch token {
            case .literal(let text): out += text
            case .placeholder(let name):
                switch name {
                case "kka": out += values.classification.code
                case "seq": out += String(values.sequence)
                case "unitCode": out += values.unitCode
                case "year": out += String(values.year)
                case "month": out += (values.month < 10 ? "0" : "") + String(values.month)
                case "romanMonth": out += roman[max(0, min(11, values.month - 1))]
                case "sifat": out += values.securityLevel.code
                default: break
                }
            }
        }
        return out
    }

    enum Token: Equatable {
        case literal(String)
        case placeholder(String)
    }

    static func tokens(_ template: String) throws(Invalid) -> [Token] {
        var tokens: [Token] = []
        var literal = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            if character == "{" {
                guard let close = template[index...].firstIndex(of: "}") else { throw .unclosedBrace }
                if !literal.isEmpty { tokens.append(.literal(literal)); literal = "" }
                tokens.append(.placeholder(String(template[template.index(after: index)..<close])))
                index = template.index(after: close)
            } else {
                literal.append(character)
                index = template.index(after: index)
            }
        }
        if !literal.isEmpty { tokens.append(.literal(literal)) }
        return tokens
    }
}
