public import Foundation

/// What an official signs: the letter as data, serialised once with RFC 8785 and stored as
/// those exact bytes, never rebuilt. Its signature block states the capacity and delegation
/// as printed ("a.n. Sekretaris Daerah", "Plt. Kepala Dinas …").
public struct CanonicalLetterDocument: Sendable, Hashable {
    /// Names the shape of this document, so later versions stay verifiable.
    public static let format = "esurat/naskah-dinas/1"

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
        public var capacity: SigningCapacity
        /// For a.n. and u.b.: the principal the signature is given for (e.g. "Sekretaris Daerah").
        public var principalTitle: String?
        /// For u.b.: the official between the principal and the signer.
        public var intermediateTitle: String?
        /// The position acted in and the person acting: both are recorded for delegations.
        public var positionID: UUID
        public var userID: UUID

        public init(name: String, nip: String, positionTitle: String, capacity: SigningCapacity, principalTitle: String? = nil,
                    intermediateTitle: String? = nil, positionID: UUID, userID: UUID) {
            self.name = name
            self.nip = nip
            self.positionTitle = positionTitle
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

    public init(letterID: UUID, number: String, date: CalendarDay, type: LetterType, subject: String, classification: ClassificationCode,
                securityLevel: SecurityLevel, urgency: Urgency, sender: UnitReference, signer: Signer, recipients: [UnitReference],
                copies: [UnitReference], body: String, attachments: [Attachment]) {
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
        return .object([
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
        ])
    }

    /// The exact bytes that are signed and stored.
    public func canonicalBytes() throws -> [UInt8] {
        try CanonicalJSON.encode(json)
    }
}
