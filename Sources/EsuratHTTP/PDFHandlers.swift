import EsuratDomain
import EsuratRender
import EsuratServices
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The operations on letters' PDFs, their public verification and the print template. They
/// are served by plain handlers: PDFs go out byte for byte, an uploaded PDF is read as the
/// raw body, and the template carries a logo.
struct PDFRoutes {
    let services: HTTPServices

    var routes: [String: @Sendable (Request, HTTPServer.Context) async throws -> Response] {
        let pdfs = services.pdfs
        let limiter = services.publicLimiter
        let organisation = services.organisation
        return [
            "GET /api/v1/letters/{letterId}/pdf": { _, context in
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                return Self.pdf(try await pdfs.pdf(id, caller: try RequestScope.caller()), name: "naskah-\(id.lowercasedString).pdf")
            },
            "GET /api/v1/inbox/{entryId}/pdf": { _, context in
                let id = try Wire.uuid(context.parameters.get("entryId") ?? "", field: "entryId")
                return Self.pdf(try await pdfs.pdf(entry: id, caller: try RequestScope.caller()), name: "naskah-masuk-\(id.lowercasedString).pdf")
            },
            "GET /api/v1/public/letters/{letterId}": { request, context in
                try limiter.take(RequestScope.info.clientAddress)
                let id = try Wire.uuid(context.parameters.get("letterId") ?? "", field: "letterId")
                guard let hash = request.uri.queryParameters.get("h") else { throw ServiceError.invalid("h", "is required") }
                return try Self.json(PublicLetterCheck(try await pdfs.publicCheck(letter: id, hash: hash)))
            },
            "POST /api/v1/public/verify": { request, _ in
                // An upload costs more than a look-up: three tokens.
                try limiter.take(RequestScope.info.clientAddress, cost: 3)
                guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/pdf") else {
                    throw ServiceError(.unsupportedMediaType, "Send the PDF as the body with Content-Type: application/pdf.")
                }
                var body = try await request.body.collect(upTo: LetterPDFService.maxUpload)
                let bytes = body.readBytes(length: body.readableBytes) ?? []
                return try Self.json(PDFVerificationReport(try await pdfs.verifyUpload(bytes)))
            },
            "GET /api/v1/letter-template": { _, _ in
                try Self.json(LetterTemplateBody(try await pdfs.template(actor: try RequestScope.caller().actor)))
            },
            "PUT /api/v1/letter-template": { request, _ in
                let body = try await Self.decode(LetterTemplateBody.self, request)
                let updated = try await pdfs.updateTemplate(try body.settings(), actor: try RequestScope.caller().actor, request: RequestScope.info)
                return try Self.json(LetterTemplateBody(updated))
            },
            "PUT /api/v1/units/{unitId}/letterhead": { request, context in
                let id = try Wire.uuid(context.parameters.get("unitId") ?? "", field: "unitId")
                let body = try await Self.decode(LetterheadBody.self, request)
                let actor = try RequestScope.caller().actor
                _ = try await organisation.unit(id, actor: actor)
                try await pdfs.updateLetterhead(unit: id, address: body.address, contacts: body.contacts, actor: actor, request: RequestScope.info)
                let (address, contacts) = try await pdfs.letterhead(unit: id)
                return try Self.json(LetterheadBody(address: address, contacts: contacts))
            },
        ]
    }

    static func pdf(_ bytes: [UInt8], name: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/pdf"]
        headers[.contentDisposition] = "inline; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The JSON body, or a 400 naming what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var buffer = try await request.body.collect(upTo: 2 * 1024 * 1024)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch DecodingError.keyNotFound(let key, _) {
            throw ServiceError.invalid(key.stringValue, "is required")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw ServiceError.invalid(context.codingPath.map(\.stringValue).joined(separator: ".").nonEmptyOr("body"), "has the wrong type")
        } catch DecodingError.dataCorrupted(let context) {
            throw ServiceError.invalid(context.codingPath.map(\.stringValue).joined(separator: ".").nonEmptyOr("body"), "is not valid JSON here")
        } catch {
            throw ServiceError.invalid("body", "must be a JSON object")
        }
    }
}

extension String {
    fileprivate func nonEmptyOr(_ fallback: String) -> String { isEmpty ? fallback : self }
}

struct PublicLetterCheck: Encodable {
    var exists: Bool
    var hashMatches: Bool
    var restricted: Bool
    var number, date, subject, signerName, signerPosition, sender: String?
    var signedAt: Date?
    var certificateRevokedAt: Date?

    init(_ check: LetterPDFService.PublicCheck) {
        exists = check.exists
        hashMatches = check.hashMatches
        restricted = check.restricted
        number = check.number
        date = check.date
        subject = check.subject
        signerName = check.signerName
        signerPosition = check.signerPosition
        sender = check.sender
        // The time of signing says nothing of a restricted letter's content, but a wrong
        // hash learns nothing at all.
        signedAt = check.hashMatches ? check.signedAt : nil
        certificateRevokedAt = check.hashMatches ? check.certificateRevokedAt : nil
    }
}

struct PDFVerificationReport: Encodable {
    var valid: Bool
    var level: String?
    var matchesStoredVersion: Bool
    var letterId: String?
    var letter: PublicLetterCheck?
    var findings: [String]

    init(_ report: LetterPDFService.UploadReport) {
        valid = report.valid
        level = report.level
        matchesStoredVersion = report.matchesStoredVersion
        letterId = report.letterID?.lowercasedString
        letter = report.public_.map(PublicLetterCheck.init)
        findings = report.findings
    }
}

struct LetterTemplateBody: Codable {
    var government: String
    var place: String
    var pageSize: String
    var font: String
    var fontSize: Double
    var marginTop, marginRight, marginBottom, marginLeft: Double
    var logoPng: String?

    init(_ settings: LetterPDFService.TemplateSettings) {
        government = settings.government
        place = settings.place
        pageSize = settings.template.pageSize.rawValue
        font = settings.template.font.rawValue
        fontSize = settings.template.fontSize
        (marginTop, marginRight, marginBottom, marginLeft) = settings.template.margins
        logoPng = settings.template.logoPNG.map { Data($0).base64EncodedString() }
    }

    func settings() throws -> LetterPDFService.TemplateSettings {
        guard let size = LetterTemplate.PageSize(rawValue: pageSize) else { throw ServiceError.invalid("pageSize", "must be A4 or F4") }
        guard let font = LetterTemplate.Font(rawValue: font) else { throw ServiceError.invalid("font", "must be TeX Gyre Bonum or Liberation Sans") }
        var logo: [UInt8]?
        if let logoPng {
            guard let data = Data(base64Encoded: logoPng) else { throw ServiceError.invalid("logoPng", "must be base64") }
            logo = Array(data)
        }
        return .init(
            government: government, place: place,
            template: LetterTemplate(pageSize: size, margins: (marginTop, marginRight, marginBottom, marginLeft), font: font, fontSize: fontSize, logoPNG: logo))
    }
}

struct LetterheadBody: Codable {
    var address: String
    var contacts: String
}
