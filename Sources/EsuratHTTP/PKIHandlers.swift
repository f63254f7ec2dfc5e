import EsuratServices
import Foundation
import OpenAPIRuntime

/// Signing keys, the CA chain, CRLs and revocation.
struct PKIHandlers: Sendable {
    let pki: PKIService
    let identity: IdentityService

    func createSigningKey(_ input: Operations.CreateSigningKey.Input) async throws -> Operations.CreateSigningKey.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let caller = try RequestScope.caller()
        let confirmation = try await identity.confirmPassword(body.password, of: caller, request: RequestScope.info)
        let issued = try await pki.issueSigningKey(for: caller, passphrase: body.passphrase, confirmation: confirmation, request: RequestScope.info)
        return .created(.init(body: .json(.init(certificateSerial: issued.certificateSerial, subject: issued.subject, notAfter: issued.notAfter))))
    }

    func getCAChain(_ input: Operations.GetCAChain.Input) async throws -> Operations.GetCAChain.Output {
        .ok(.init(body: .applicationXPemFile(HTTPBody(try pki.chainPEM()))))
    }

    func getCRL(_ input: Operations.GetCRL.Input) async throws -> Operations.GetCRL.Output {
        .ok(.init(body: .applicationPkixCrl(HTTPBody(try await pki.currentCRL()))))
    }

    func getRootCRL(_ input: Operations.GetRootCRL.Input) async throws -> Operations.GetRootCRL.Output {
        .ok(.init(body: .applicationPkixCrl(HTTPBody(try pki.rootCRL()))))
    }

    func revokeCertificate(_ input: Operations.RevokeCertificate.Input) async throws -> Operations.RevokeCertificate.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        try await pki.revoke(serial: input.path.serial, reason: body.reason.rawValue, actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .noContent(.init())
    }
}
