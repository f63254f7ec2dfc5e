public import Foundation

/// What an official signs: the letter as data, serialised once with RFC 8785 and stored as
/// those exact bytes, never rebuilt. Its signature block states the capacity and delegation
/// as printed ("a.n. Sekretaris Daerah", "Plt. Kepala Dinas …").
public struct CanonicalLetterDocument: Sendable, Hashable {
    /// Names the shape of this document, so later versions stay verifiable.
    /// Version 2 added the letterhead (kop) and the signer's rank (pangkat/golongan): the PDF
    /// prints them, and it prints nothing the signed document does not state.
    public static let format = "esurat/naskah-dinas/2"

    /// The kop surat as the sending unit's admins set it, stated in the document because the
    /// rendered letter shows it.
    public struct Letterhead: Sendable, Hashable {
        /// "PEMERINTAH KABUPATEN BANGKALAN".
        public var government: String
        /// The unit as its kop names it ("DINAS KOMUNIKASI DAN INFORMATIKA").
        public var unit: String
        /// Street address, one line.
        public var address: String
        /// Telephone, website, e-mail: one line.
        public var contacts: String
        /// The place the letter is dated at ("Bangkalan").
        public var place: String

        public init(government: String, unit: String, address: String, contacts: String, place: String) {
            self.government = government
            self.unit = unit
            self.address = address
            self.contacts = contacts
            self.place = place
        }
    }

    public struct UnitReference: Sendable, Hashable {
        public var id: UUID
        public var code: String
        public var name: String
        public init(id: UUID, code: String, name: String) {
            self.id = id
            self.code = code
            self.name = name
        }
    }

    public struct Signer: Sendable, Hashable {
        public var name: String
        public var nip: String
        /// The signer's own position.
        public var positionTitle: String
        /// Pangkat/golongan ("Pembina Tingkat I (IV/b)"); nil when the signer has none recorded.
        public var rank: String?
        public var capacity: SigningCapacity
        /// For a.n. and u.b.: the principal the signature is given for (e.g. "Sekretaris Daerah").
        public var principalTitle: String?
        /// For u.b.: the official between the principal and the signer.
        public var intermediateTitle: String?
        /// The position acted in and the person acting: both are recorded for delegations.
        public var positionID: UUID
        public var userID: UUID

        public init(name: String, nip: String, positionTitle: String, rank: String? = nil, capacity: SigningCapacity, principalTitle: String? = nil,
                    intermediateTitle: String? = nil, positionID: UUID, userID: UUID) {
            self.name = name
            self.nip = nip
            self.positionTitle = positionTitle
            self.rank = rank
            self.capacity = capacity
            self.principalTitle = principalTitle
            self.intermediateTitle = intermediateTitle
            self.positionID = positionID
            self.userID = userID
        }

        /// The signature block's lines above the name, as printed.
        public var printedBlock: [String] {
            switch capacity {
            case .direct: [positionTitle]
            case .plt, .plh: ["\(capacity.printedPrefix!) \(positionTitle)"]
            case .an: ["a.n. \(principalTitle ?? positionTitle)", positionTitle]
            case .ub: ["a.n. \(principalTitle ?? positionTitle)", intermediateTitle ?? "", "u.b.", positionTitle].filter { !$0.isEmpty }
            }
        }
    }

    public struct Attachment: Sendable, Hashable {
        public var name: String
        public var mediaType: String
        public var size: Int
        /// Lower-case hex SHA-256 of the bytes.
        public var sha256: String
        public init(name: String, mediaType: String, size: Int, sha256: String) {
            self.name = name
            self.mediaType = mediaType
            self.size = size
            self.sha256 = sha256
        }
    }

    public var letterID: UUID
    public var number: String
    public var date: CalendarDay
    public var type: LetterType
    public var subject: String
    public var classification: ClassificationCode
    public var securityLevel: SecurityLevel
    public var urgency: Urgency
    public var sender: UnitReference
    public var signer: Signer
    public var recipients: [UnitReference]
    public var copies: [UnitReference]
    public var body: String
    public var attachments: [Attachment]
    public var letterhead: Letterhead?

    public init(letterID: UUID, number: String, date: CalendarDay, type: LetterType, subject: String, classification: ClassificationCode,
                securityLevel: SecurityLevel, urgency: Urgency, sender: UnitReference, signer: Signer, recipients: [UnitReference],
                copies: [UnitReference], body: String, attachments: [Attachment], letterhead: Letterhead? = nil) {
        self.letterID = letterID
        self.number = number
        self.date = date
        self.type = type
        self.subject = subject
        self.classification = classification
        self.securityLevel = securityLevel
        self.urgency = urgency
        self.sender = sender
        self.signer = signer
        self.recipients = recipients
        self.copies = copies
        self.body = body
        self.attachments = attachments
        self.letterhead = letterhead
    }

    /// The document as a JSON value; ids as lower-case UUIDs, the date as YYYY-MM-DD.
    public var json: JSONValue {
        func unit(_ reference: UnitReference) -> JSONValue {
            .object(["id": .string(reference.id.lowercasedString), "code": .string(reference.code), "name": .string(reference.name)])
        }
        var signerObject: [String: JSONValue] = [
            "name": .string(signer.name),
            "nip": .string(signer.nip),
            "position": .string(signer.positionTitle),
            "positionId": .string(signer.positionID.lowercasedString),
            "userId": .string(signer.userID.lowercasedString),
            "capacity": .string(signer.capacity.rawValue),
            "printed": .array(signer.printedBlock.map(JSONValue.string)),
        ]
        if let principal = signer.principalTitle { signerObject["principal"] = .string(principal) }
        if let intermediate = signer.intermediateTitle { signerObject["intermediate"] = .string(intermediate) }
        if let rank = signer.rank { signerObject["rank"] = .string(rank) }
        var object: [String: JSONValue] = [
            "format": .string(Self.format),
            "id": .string(letterID.lowercasedString),
            "number": .string(number),
            "date": .string(date.description),
            "type": .string(type.rawValue),
            "typeTitle": .string(type.title),
            "subject": .string(subject),
            "classification": .string(classification.code),
            "securityLevel": .string(securityLevel.rawValue),
            "securityCode": .string(securityLevel.code),
            "urgency": .string(urgency.rawValue),
            "sender": unit(sender),
            "signer": .object(signerObject),
            "recipients": .array(recipients.map(unit)),
            "copies": .array(copies.map(unit)),
            "body": .string(body),
            "attachments": .array(attachments.map {
                .object(["name": .string($0.name), "mediaType": .string($0.mediaType), "size": .number(Double($0.size)), "sha256": .string($0.sha256)])
            }),
        ]
        if let letterhead {
            object["letterhead"] = .object([
                "government": .string(letterhead.government), "unit": .string(letterhead.unit), "address": .string(letterhead.address),
                "contacts": .string(letterhead.contacts), "place": .string(letterhead.place),
            ])
        }
        return .object(object)
    }

    /// The exact bytes that are signed and stored.
    public func canonicalBytes() throws -> [UInt8] {
        try CanonicalJSON.encode(json)
    }

    /// Why stored bytes are not a letter document esurat wrote.
    public struct Unreadable: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "not an esurat letter document: \(reason)" }
    }

    /// Reads a stored document back (format 1 or 2), for rendering and checking: the inverse
    /// of ``json``.
    public init(json value: JSONValue) throws(Unreadable) {
        guard case .object(let o) = value else { throw Unreadable(reason: "not an object") }
        func string(_ object: [String: JSONValue], _ key: String) throws(Unreadable) -> String {
            guard case .string(let text)? = object[key] else { throw Unreadable(reason: "\(key) is missing") }
            return text
        }
        func optional(_ object: [String: JSONValue], _ key: String) -> String? {
            if case .string(let text)? = object[key] { text } else { nil }
        }
        func uuid(_ object: [String: JSONValue], _ key: String) throws(Unreadable) -> UUID {
            guard let id = UUID(uuidString: try string(object, key)) else { throw Unreadable(reason: "\(key) is not a UUID") }
            return id
        }
        func units(_ key: String) throws(Unreadable) -> [UnitReference] {
            guard case .array(let items)? = o[key] else { throw Unreadable(reason: "\(key) is missing") }
            var result: [UnitReference] = []
            for item in items {
                guard case .object(let unit) = item else { throw Unreadable(reason: "\(key) holds a non-object") }
                result.append(.init(id: try uuid(unit, "id"), code: try string(unit, "code"), name: try string(unit, "name")))
            }
            return result
        }
        let format = try string(o, "format")
        guard format == "esurat/naskah-dinas/1" || format == Self.format else { throw Unreadable(reason: "unknown format \(format)") }
        let dateParts = try string(o, "date").split(separator: "-").compactMap { Int($0) }
        guard dateParts.count == 3, let date = CalendarDay(year: dateParts[0], month: dateParts[1], day: dateParts[2]) else {
            throw Unreadable(reason: "date is not YYYY-MM-DD")
        }
        guard let type = LetterType(rawValue: try string(o, "type")), let classification = ClassificationCode(try string(o, "classification")),
              let security = SecurityLevel(rawValue: try string(o, "securityLevel")), let urgency = Urgency(rawValue: try string(o, "urgency"))
        else { throw Unreadable(reason: "type, classification, securityLevel or urgency is unknown") }
        guard case .object(let senderObject)? = o["sender"], case .object(let s)? = o["signer"],
              let capacity = SigningCapacity(rawValue: try string(s, "capacity"))
        else { throw Unreadable(reason: "sender or signer is missing") }
        guard case .array(let attachmentItems)? = o["attachments"] else { throw Unreadable(reason: "attachments is missing") }
        var attachments: [Attachment] = []
        for item in attachmentItems {
            guard case .object(let a) = item, case .number(let size)? = a["size"] else { throw Unreadable(reason: "an attachment is malformed") }
            attachments.append(.init(name: try string(a, "name"), mediaType: try string(a, "mediaType"), size: Int(size), sha256: try string(a, "sha256")))
        }
        var letterhead: Letterhead?
        if case .object(let l)? = o["letterhead"] {
            letterhead = .init(
                government: try string(l, "government"), unit: try string(l, "unit"), address: try string(l, "address"),
                contacts: try string(l, "contacts"), place: try string(l, "place"))
        }
        self.init(
            letterID: try uuid(o, "id"), number: try string(o, "number"), date: date, type: type, subject: try string(o, "subject"),
            classification: classification, securityLevel: security, urgency: urgency,
            sender: .init(id: try uuid(senderObject, "id"), code: try string(senderObject, "code"), name: try string(senderObject, "name")),
            signer: .init(
                name: try string(s, "name"), nip: try string(s, "nip"), positionTitle: try string(s, "position"), rank: optional(s, "rank"),
                capacity: capacity, principalTitle: optional(s, "principal"), intermediateTitle: optional(s, "intermediate"),
                positionID: try uuid(s, "positionId"), userID: try uuid(s, "userId")),
            recipients: try units("recipients"), copies: try units("copies"), body: try string(o, "body"), attachments: attachments,
            letterhead: letterhead)
    }

    /// Reads stored canonical bytes back.
    public init(canonicalBytes bytes: [UInt8]) throws(Unreadable) {
        let value: JSONValue
        do { value = try JSONValue.parse(String(decoding: bytes, as: UTF8.self)) } catch { throw Unreadable(reason: error.description) }
        try self.init(json: value)
    }
}
