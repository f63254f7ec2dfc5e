import EsuratDomain
import Foundation
import Testing

/// A Dinas: Kepala Dinas (head) ← Sekretaris ← Kasubag TU (drafter) and Kepala Bidang ←
/// Kepala Seksi, both under the Sekretaris and the head.
@Suite struct NamedRouteTests {
    let head = UUID(), sekretaris = UUID(), tu = UUID(), kabid = UUID(), kasi = UUID()

    var chains: [UUID: [UUID]] {
        [head: [head], sekretaris: [sekretaris, head], tu: [tu, sekretaris, head], kabid: [kabid, sekretaris, head], kasi: [kasi, kabid, sekretaris, head]]
    }

    func plan(signer: UUID, reviewers: [UUID] = [], drafter: UUID? = nil, holds: Bool = true, minimum: Int = 0)
        throws(WorkflowDefinition.Invalid) -> NamedRoute
    {
        let start = drafter ?? tu
        return try NamedRoute.plan(
            signer: signer, reviewers: reviewers, drafter: .init(chain: chains[start]!, holdsFirst: holds), chains: chains,
            signerIsHead: signer == head, minimumReviewers: minimum)
    }

    func refusal(_ body: () throws(WorkflowDefinition.Invalid) -> NamedRoute) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.field
        }
    }

    @Test func theSignerIsAboveTheDrafter() throws {
        #expect(try plan(signer: head).signer == head)
        #expect(try plan(signer: sekretaris).signer == sekretaris)
        // Their own position, a peer's superior not above them, or someone below them: refused.
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: tu) } == "signerPositionId")
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: kabid) } == "signerPositionId")
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: kasi) } == "signerPositionId")
        // The head may sign what they drafted; a drafter without a position stands below the
        // head of their unit (here the Sekretaris's), who may sign.
        #expect(try plan(signer: head, drafter: head).signer == head)
        #expect(try plan(signer: sekretaris, drafter: sekretaris, holds: false).signer == sekretaris)
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: sekretaris, drafter: sekretaris) } == "signerPositionId")
    }

    @Test func reviewersLieUnderTheSignerAndInitialFromTheLowestRankUp() throws {
        let route = try plan(signer: head, reviewers: [sekretaris, kasi, kabid])
        #expect(route.reviewers == [
            .init(positionID: kasi, kind: .reviewCoordination), .init(positionID: kabid, kind: .reviewCoordination),
            .init(positionID: sekretaris, kind: .reviewHierarchy),
        ])
        // Under the Sekretaris as signer: the Kabid coordinates, the head cannot review.
        #expect(try plan(signer: sekretaris, reviewers: [kabid]).reviewers == [.init(positionID: kabid, kind: .reviewCoordination)])
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: sekretaris, reviewers: [kabid, head]) } == "reviewerPositionIds[1]")
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: head, reviewers: [tu]) } == "reviewerPositionIds[0]")
    }

    @Test func aWorkflowCanDemandAMinimumChain() throws {
        #expect(refusal { () throws(WorkflowDefinition.Invalid) in try plan(signer: head, reviewers: [sekretaris], minimum: 2) } == "reviewerPositionIds")
        #expect(try plan(signer: head, reviewers: [sekretaris, kabid], minimum: 2).reviewers.count == 2)
        #expect(throws: WorkflowDefinition.Invalid(field: "minimumReviewers", message: "must be 0–5 (a named route holds at most five reviewers)")) {
            try WorkflowDefinition(name: "x", steps: WorkflowDefinition.standard.steps, minimumReviewers: 6).validate()
        }
    }

    @Test func aSuperiorSigningAnEscalatedStepSignsInTheirOwnName() throws {
        let signer = UUID(), superior = UUID(), user = UUID(), unit = UUID()
        var state = LetterWorkflowState(
            route: [RouteStep(kind: .sign, positionID: signer, escalationPositionID: superior, deadlineHours: 1, capacity: .an, principalPositionID: superior)],
            drafterUserID: UUID(), drafterPositionID: nil)
        state.status = .awaitingSignature
        state.currentStep = 0
        state.stepStartedAt = Date(timeIntervalSince1970: 0)
        state.escalated = true
        let actor = WorkflowActor(userID: user, positions: [ActingPosition(positionID: superior, unitID: unit, capacity: nil)])
        let (_, actions) = try LetterWorkflow.apply(.sign, to: state, by: actor, at: Date()).get()
        #expect(actions.contains(.signDocument(capacity: .direct, actingPosition: ActingPosition(positionID: superior, unitID: unit, capacity: nil))))
    }
}
