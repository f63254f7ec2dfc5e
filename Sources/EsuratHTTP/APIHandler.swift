import EsuratServices
/// The implementation of the generated `APIProtocol`: each operation forwards to the handler
/// group of its feature.
struct APIHandler: APIProtocol {
    let ops: OpsHandlers
    let identity: IdentityHandlers
    let organisation: OrganisationHandlers
    let pki: PKIHandlers
    let letters: LetterHandlers
    let workflows: WorkflowHandlers
    let classifications: ClassificationHandlers
    let deliveries: DeliveryHandlers
    let inbox: InboxHandlers
    let dispositions: DispositionHandlers
    let audit: AuditHandlers

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        try await ops.getHealth(input)
    }
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        try await ops.getReadiness(input)
    }
    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        try await ops.getMetrics(input)
    }
    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        try await ops.getOpenAPIDocument(input)
    }
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        try await identity.login(input)
    }
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        try await identity.logout(input)
    }
    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        try await identity.getMe(input)
    }
    func listAPITokens(_ input: Operations.ListAPITokens.Input) async throws -> Operations.ListAPITokens.Output {
        try await identity.listAPITokens(input)
    }
    func createAPIToken(_ input: Operations.CreateAPIToken.Input) async throws -> Operations.CreateAPIToken.Output {
        try await identity.createAPIToken(input)
    }
    func revokeAPIToken(_ input: Operations.RevokeAPIToken.Input) async throws -> Operations.RevokeAPIToken.Output {
        try await identity.revokeAPIToken(input)
    }
    func listUnits(_ input: Operations.ListUnits.Input) async throws -> Operations.ListUnits.Output {
        try await organisation.listUnits(input)
    }
    func createUnit(_ input: Operations.CreateUnit.Input) async throws -> Operations.CreateUnit.Output {
        try await organisation.createUnit(input)
    }
    func getUnit(_ input: Operations.GetUnit.Input) async throws -> Operations.GetUnit.Output {
        try await organisation.getUnit(input)
    }
    func updateUnit(_ input: Operations.UpdateUnit.Input) async throws -> Operations.UpdateUnit.Output {
        try await organisation.updateUnit(input)
    }
    func listPositions(_ input: Operations.ListPositions.Input) async throws -> Operations.ListPositions.Output {
        try await organisation.listPositions(input)
    }
    func createPosition(_ input: Operations.CreatePosition.Input) async throws -> Operations.CreatePosition.Output {
        try await organisation.createPosition(input)
    }
    func getPosition(_ input: Operations.GetPosition.Input) async throws -> Operations.GetPosition.Output {
        try await organisation.getPosition(input)
    }
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        try await organisation.listUsers(input)
    }
    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        try await organisation.createUser(input)
    }
    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        try await organisation.getUser(input)
    }
    func listDelegations(_ input: Operations.ListDelegations.Input) async throws -> Operations.ListDelegations.Output {
        try await organisation.listDelegations(input)
    }
    func createDelegation(_ input: Operations.CreateDelegation.Input) async throws -> Operations.CreateDelegation.Output {
        try await organisation.createDelegation(input)
    }
    func listMandates(_ input: Operations.ListMandates.Input) async throws -> Operations.ListMandates.Output {
        try await organisation.listMandates(input)
    }
    func createMandate(_ input: Operations.CreateMandate.Input) async throws -> Operations.CreateMandate.Output {
        try await organisation.createMandate(input)
    }
    func createSigningKey(_ input: Operations.CreateSigningKey.Input) async throws -> Operations.CreateSigningKey.Output {
        try await pki.createSigningKey(input)
    }
    func getCAChain(_ input: Operations.GetCAChain.Input) async throws -> Operations.GetCAChain.Output {
        try await pki.getCAChain(input)
    }
    func getCRL(_ input: Operations.GetCRL.Input) async throws -> Operations.GetCRL.Output {
        try await pki.getCRL(input)
    }
    func getRootCRL(_ input: Operations.GetRootCRL.Input) async throws -> Operations.GetRootCRL.Output {
        try await pki.getRootCRL(input)
    }
    func revokeCertificate(_ input: Operations.RevokeCertificate.Input) async throws -> Operations.RevokeCertificate.Output {
        try await pki.revokeCertificate(input)
    }
    func createLetter(_ input: Operations.CreateLetter.Input) async throws -> Operations.CreateLetter.Output {
        try await letters.createLetter(input)
    }
    func getLetter(_ input: Operations.GetLetter.Input) async throws -> Operations.GetLetter.Output {
        try await letters.getLetter(input)
    }
    func updateLetter(_ input: Operations.UpdateLetter.Input) async throws -> Operations.UpdateLetter.Output {
        try await letters.updateLetter(input)
    }
    func submitLetter(_ input: Operations.SubmitLetter.Input) async throws -> Operations.SubmitLetter.Output {
        try await letters.submitLetter(input)
    }
    func reviewLetter(_ input: Operations.ReviewLetter.Input) async throws -> Operations.ReviewLetter.Output {
        try await letters.reviewLetter(input)
    }
    func signLetter(_ input: Operations.SignLetter.Input) async throws -> Operations.SignLetter.Output {
        try await letters.signLetter(input)
    }
    func withdrawLetter(_ input: Operations.WithdrawLetter.Input) async throws -> Operations.WithdrawLetter.Output {
        try await letters.withdrawLetter(input)
    }
    func getLetterDocument(_ input: Operations.GetLetterDocument.Input) async throws -> Operations.GetLetterDocument.Output {
        try await letters.getLetterDocument(input)
    }
    func getLetterSignature(_ input: Operations.GetLetterSignature.Input) async throws -> Operations.GetLetterSignature.Output {
        try await letters.getLetterSignature(input)
    }
    func getLetterVerification(_ input: Operations.GetLetterVerification.Input) async throws -> Operations.GetLetterVerification.Output {
        try await letters.getLetterVerification(input)
    }
    func listLetters(_ input: Operations.ListLetters.Input) async throws -> Operations.ListLetters.Output {
        try await letters.listLetters(input)
    }
    func addAttachment(_ input: Operations.AddAttachment.Input) async throws -> Operations.AddAttachment.Output {
        try await letters.addAttachment(input)
    }
    func getAttachment(_ input: Operations.GetAttachment.Input) async throws -> Operations.GetAttachment.Output {
        try await letters.getAttachment(input)
    }
    func listWorkflows(_ input: Operations.ListWorkflows.Input) async throws -> Operations.ListWorkflows.Output {
        try await workflows.listWorkflows(input)
    }
    func createWorkflow(_ input: Operations.CreateWorkflow.Input) async throws -> Operations.CreateWorkflow.Output {
        try await workflows.createWorkflow(input)
    }
    func listClassifications(_ input: Operations.ListClassifications.Input) async throws -> Operations.ListClassifications.Output {
        try await classifications.listClassifications(input)
    }
    func saveClassification(_ input: Operations.SaveClassification.Input) async throws -> Operations.SaveClassification.Output {
        try await classifications.saveClassification(input)
    }
    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        try await deliveries.listDeliveries(input)
    }
    func requeueDelivery(_ input: Operations.RequeueDelivery.Input) async throws -> Operations.RequeueDelivery.Output {
        try await deliveries.requeueDelivery(input)
    }
    func listInbox(_ input: Operations.ListInbox.Input) async throws -> Operations.ListInbox.Output {
        try await inbox.listInbox(input)
    }
    func getInboxEntry(_ input: Operations.GetInboxEntry.Input) async throws -> Operations.GetInboxEntry.Output {
        try await inbox.getInboxEntry(input)
    }
    func registerInboxEntry(_ input: Operations.RegisterInboxEntry.Input) async throws -> Operations.RegisterInboxEntry.Output {
        try await inbox.registerInboxEntry(input)
    }
    func markInboxEntryRead(_ input: Operations.MarkInboxEntryRead.Input) async throws -> Operations.MarkInboxEntryRead.Output {
        try await inbox.markInboxEntryRead(input)
    }
    func listDispositionInstructions(_ input: Operations.ListDispositionInstructions.Input) async throws -> Operations.ListDispositionInstructions.Output {
        try await dispositions.listDispositionInstructions(input)
    }
    func cancelDisposition(_ input: Operations.CancelDisposition.Input) async throws -> Operations.CancelDisposition.Output {
        try await dispositions.cancelDisposition(input)
    }
    func getLetterDeliveries(_ input: Operations.GetLetterDeliveries.Input) async throws -> Operations.GetLetterDeliveries.Output {
        try await letters.getLetterDeliveries(input)
    }
    func createDisposition(_ input: Operations.CreateDisposition.Input) async throws -> Operations.CreateDisposition.Output {
        try await dispositions.createDisposition(input)
    }
    func getDispositionTree(_ input: Operations.GetDispositionTree.Input) async throws -> Operations.GetDispositionTree.Output {
        try await dispositions.getDispositionTree(input)
    }
    func listDispositions(_ input: Operations.ListDispositions.Input) async throws -> Operations.ListDispositions.Output {
        try await dispositions.listDispositions(input)
    }
    func getDisposition(_ input: Operations.GetDisposition.Input) async throws -> Operations.GetDisposition.Output {
        try await dispositions.getDisposition(input)
    }
    func forwardDisposition(_ input: Operations.ForwardDisposition.Input) async throws -> Operations.ForwardDisposition.Output {
        try await dispositions.forwardDisposition(input)
    }
    func completeDisposition(_ input: Operations.CompleteDisposition.Input) async throws -> Operations.CompleteDisposition.Output {
        try await dispositions.completeDisposition(input)
    }
    func listLetterEvidence(_ input: Operations.ListLetterEvidence.Input) async throws -> Operations.ListLetterEvidence.Output {
        try await letters.listLetterEvidence(input)
    }
    func getLetterEvidence(_ input: Operations.GetLetterEvidence.Input) async throws -> Operations.GetLetterEvidence.Output {
        try await letters.getLetterEvidence(input)
    }
    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        try await audit.listAuditEvents(input)
    }
    func listAuditCheckpoints(_ input: Operations.ListAuditCheckpoints.Input) async throws -> Operations.ListAuditCheckpoints.Output {
        try await audit.listAuditCheckpoints(input)
    }
    func createAuditCheckpoint(_ input: Operations.CreateAuditCheckpoint.Input) async throws -> Operations.CreateAuditCheckpoint.Output {
        try await audit.createAuditCheckpoint(input)
    }
    func createArchiveExport(_ input: Operations.CreateArchiveExport.Input) async throws -> Operations.CreateArchiveExport.Output {
        try await audit.createArchiveExport(input)
    }
    func getArchiveExport(_ input: Operations.GetArchiveExport.Input) async throws -> Operations.GetArchiveExport.Output {
        try await audit.getArchiveExport(input)
    }
    func downloadArchiveExport(_ input: Operations.DownloadArchiveExport.Input) async throws -> Operations.DownloadArchiveExport.Output {
        try await audit.downloadArchiveExport(input)
    }
    func getRetentionReport(_ input: Operations.GetRetentionReport.Input) async throws -> Operations.GetRetentionReport.Output {
        try await audit.getRetentionReport(input)
    }
    func setRetentionSchedule(_ input: Operations.SetRetentionSchedule.Input) async throws -> Operations.SetRetentionSchedule.Output {
        try await audit.setRetentionSchedule(input)
    }

    // Served by PDFRoutes (plain handlers): PDFs go out byte for byte.
    func getLetterPdf(_ input: Operations.GetLetterPdf.Input) async throws -> Operations.GetLetterPdf.Output { throw Self.raw }
    func getInboxPdf(_ input: Operations.GetInboxPdf.Input) async throws -> Operations.GetInboxPdf.Output { throw Self.raw }
    func publicLetterCheck(_ input: Operations.PublicLetterCheck.Input) async throws -> Operations.PublicLetterCheck.Output { throw Self.raw }
    func publicVerifyPdf(_ input: Operations.PublicVerifyPdf.Input) async throws -> Operations.PublicVerifyPdf.Output { throw Self.raw }
    func getLetterTemplate(_ input: Operations.GetLetterTemplate.Input) async throws -> Operations.GetLetterTemplate.Output { throw Self.raw }
    func updateLetterTemplate(_ input: Operations.UpdateLetterTemplate.Input) async throws -> Operations.UpdateLetterTemplate.Output { throw Self.raw }
    func updateUnitLetterhead(_ input: Operations.UpdateUnitLetterhead.Input) async throws -> Operations.UpdateUnitLetterhead.Output { throw Self.raw }
    static let raw = ServiceError(.conflict, "this operation is served by a plain route")
}
