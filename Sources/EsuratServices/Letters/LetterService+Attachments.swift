public import EsuratDomain
public import EsuratPostgres
import EsuratSigning
public import Foundation

extension LetterService {
    /// Media types an attachment may have.
    public static let allowedAttachmentTypes: Set<String> = [
        "application/pdf", "image/png", "image/jpeg", "text/plain",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    ]
    /// The largest attachment, and the most all of a letter's attachments may hold.
    public static let maxAttachmentBytes = 20 << 20
    public static let maxLetterAttachmentBytes = 50 << 20

    public struct AttachmentRecord: Sendable {
        public var id: UUID
        public var filename: String
        public var mediaType: String
        public var size: Int
        public var sha256: String
    }

    /// Stores an attachment of a draft, reading the body piece by piece and hashing as it
    /// comes; refused past the size limits (413) or with a media type not on the list (415).
    public func addAttachment<Body: AsyncSequence>(
        to id: UUID, filename rawName: String?, mediaType rawType: String?, body: Body,
        caller: IdentityService.Authenticated, request: RequestInfo
    ) async throws -> AttachmentRecord where Body.Element == [UInt8] {
        let filename = (rawName ?? "").trimmingCharacters(in: .whitespaces)
        var check = Validator()
        check.text(filename, "filename", length: 1...200)
        check.check(!filename.contains("/") && !filename.contains("\\"), "filename", "must not contain path separators")
        try check.throwIfInvalid()
        let mediaType = (rawType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard Self.allowedAttachmentTypes.contains(mediaType) else {
            throw ServiceError(.unsupportedMediaType, "Attachments may be \(Self.allowedAttachmentTypes.sorted().joined(separator: ", ")).",
                               fields: [.init("Content-Type", "\(mediaType.isEmpty ? "missing" : mediaType) is not accepted")])
        }
        // Only the drafter, while the letter may be edited.
        try await pool.withTransaction { tx in
            let (state, _) = try await self.lockedState(id, caller: caller, on: tx)
            _ = try Self.transition(LetterWorkflow.apply(.edit, to: state, by: Self.workflowActor(caller), at: Date()))
        }
        let hasher = try SHA256Hasher()
        var content: [UInt8] = []
        for try await chunk in body {
            guard content.count + chunk.count <= Self.maxAttachmentBytes else {
                throw ServiceError(.payloadTooLarge, "An attachment may be at most \(Self.maxAttachmentBytes >> 20) MB.", fields: [.init("body", "too large")])
            }
            try hasher.update(chunk)
            content.append(contentsOf: chunk)
        }
        guard !content.isEmpty else { throw ServiceError.invalid("body", "the attachment is empty") }
        let sha256 = try hasher.finalizeHex()
        let record: AttachmentRecord = try await pool.withTransaction { tx in
            let (state, _) = try await self.lockedState(id, caller: caller, on: tx)
            let (next, _) = try Self.transition(LetterWorkflow.apply(.edit, to: state, by: Self.workflowActor(caller), at: Date()))
            let stored: Int = try await tx.query("SELECT coalesce(sum(size), 0)::int8 AS total FROM attachments WHERE letter_id = $1", [id]).single().decode("total")
            guard stored + content.count <= Self.maxLetterAttachmentBytes else {
                throw ServiceError(.payloadTooLarge, "A letter's attachments may hold at most \(Self.maxLetterAttachmentBytes >> 20) MB together.", fields: [.init("body", "too large")])
            }
            let row = try await tx.query(
                "INSERT INTO attachments (letter_id, filename, media_type, size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                [id, filename, mediaType, content.count, sha256, PostgresBytes(content)]).single()
            let attachment = AttachmentRecord(id: try row.decode("id"), filename: filename, mediaType: mediaType, size: content.count, sha256: sha256)
            try await tx.query("UPDATE letters SET version = version + 1 WHERE id = $1", [id])
            try await self.store(id, next, on: tx)
            try await AuditLog.append(
                .init("letter.attachment_added", objectType: "letter", objectID: id.uuidString, actorUserID: caller.user.id,
                      details: ["attachmentId": attachment.id.lowercasedString, "filename": filename, "sha256": sha256]),
                request: request, on: tx)
            return attachment
        }
        return record
    }

    /// An attachment's bytes, when the caller may see its letter.
    public func attachment(_ attachmentID: UUID, of id: UUID, caller: IdentityService.Authenticated) async throws -> (record: AttachmentRecord, content: [UInt8]) {
        _ = try await letter(id, caller: caller)
        guard let row = try await pool.query(
            "SELECT id, filename, media_type, size, sha256, content FROM attachments WHERE id = $1 AND letter_id = $2", [attachmentID, id]).first
        else { throw ServiceError.notFound("The attachment") }
        return (AttachmentRecord(id: try row.decode("id"), filename: try row.decode("filename"), mediaType: try row.decode("media_type"),
                                 size: try row.decode("size"), sha256: try row.decode("sha256")),
                try row.decode("content", as: PostgresBytes.self).bytes)
    }
}
