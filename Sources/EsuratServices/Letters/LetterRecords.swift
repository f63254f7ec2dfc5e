public import EsuratDomain
public import Foundation

/// A letter as the API shows it.
public struct LetterRecord: Sendable {
    public struct Recipient: Sendable, Hashable {
        public var unitID: UUID
        public var role: String
    }

    public struct HistoryEntry: Sendable, Hashable {
        public var at: Date
        public var action: String
        public var actorUserID: UUID?
        public var actingPositionID: UUID?
        public var actingCapacity: String?
        public var note: String?
    }

    public var id: UUID
    public var unitID: UUID
    public var drafterUserID: UUID
    public var type: LetterType
    public var subject: String
    public var classificationCode: String
    public var securityLevel: SecurityLevel
    public var urgency: Urgency
    public var body: String
    public var status: LetterStatus
    public var version: Int
    public var number: String?
    public var signedAt: Date?
    public var recipients: [Recipient]
    public var attachments: [LetterService.AttachmentRecord]
    public var route: [RouteStep]
    public var currentStep: Int?
    public var history: [HistoryEntry]
    /// Where the signed letter stands in its KKA code's retention schedule (JRA); nil for
    /// drafts and for codes no schedule covers.
    public var retention: RetentionStatus? = nil
}

/// What a drafter writes.
public struct LetterDraft: Sendable {
    public var type: String
    public var subject: String
    public var classificationCode: String
    public var securityLevel: String
    public var urgency: String
    public var body: String
    public var recipients: [(unitID: UUID, role: String)]
    public var signerPositionID: UUID?
    public var reviewerPositionIDs: [UUID]?
    /// With a named signer: "direct" (the default) or "an" (atas nama, under the signer's
    /// recorded mandate).
    public var signingCapacity: String?

    public init(type: String, subject: String, classificationCode: String, securityLevel: String, urgency: String, body: String,
                recipients: [(unitID: UUID, role: String)], signerPositionID: UUID?, reviewerPositionIDs: [UUID]?, signingCapacity: String? = nil) {
        self.type = type
        self.subject = subject
        self.classificationCode = classificationCode
        self.securityLevel = securityLevel
        self.urgency = urgency
        self.body = body
        self.recipients = recipients
        self.signerPositionID = signerPositionID
        self.reviewerPositionIDs = reviewerPositionIDs
        self.signingCapacity = signingCapacity
    }
}
