public import Foundation

/// The statuses of an outgoing letter.
public enum LetterStatus: String, Codable, Sendable, CaseIterable {
    case draft
    case inReview = "in_review"
    case returned
    case awaitingSignature = "awaiting_signature"
    case signed
    case dispatching
    case delivered
    case withdrawn
}

/// A step of one letter's route with its actor resolved to a position.
public struct RouteStep: Sendable, Hashable, Codable {
    public var kind: WorkflowStep.Kind
    public var positionID: UUID
    /// The superior of `positionID`, who may act once the step is overdue.
    public var escalationPositionID: UUID?
    public var deadlineHours: Int?
    public var capacity: SigningCapacity?
    /// For a signer signing a.n.: the principal position of the recorded mandate.
    public var principalPositionID: UUID?

    public init(kind: WorkflowStep.Kind, positionID: UUID, escalationPositionID: UUID?, deadlineHours: Int?, capacity: SigningCapacity? = nil,
                principalPositionID: UUID? = nil) {
        self.kind = kind
        self.positionID = positionID
        self.escalationPositionID = escalationPositionID
        self.deadlineHours = deadlineHours
        self.capacity = capacity
        self.principalPositionID = principalPositionID
    }
}

/// Where a letter is in its route. Pure value: the service loads it, applies one event with
/// ``LetterWorkflow/apply(_:to:by:at:)`` and stores the result and its actions in one
/// transaction.
public struct LetterWorkflowState: Sendable, Hashable, Codable {
    public var status: LetterStatus
    public var route: [RouteStep]
    /// The index in `route` of the step waiting for its actor (in review or awaiting signature).
    public var currentStep: Int?
    /// When the current step started, for its deadline.
    public var stepStartedAt: Date?
    /// Set when the current step was escalated: its actor's superior may act too.
    public var escalated: Bool
    /// The position the drafter drafted in; only it may edit, submit and withdraw.
    public var drafterPositionID: UUID?
    public var drafterUserID: UUID

    public init(route: [RouteStep], drafterUserID: UUID, drafterPositionID: UUID?) {
        self.status = .draft
        self.route = route
        self.currentStep = nil
        self.stepStartedAt = nil
        self.escalated = false
        self.drafterPositionID = drafterPositionID
        self.drafterUserID = drafterUserID
    }

    /// The step waiting now.
    public var waitingStep: RouteStep? { currentStep.map { route[$0] } }

    /// When the waiting step is overdue.
    public var deadline: Date? {
        guard let step = waitingStep, let hours = step.deadlineHours, let started = stepStartedAt else { return nil }
        return started.addingTimeInterval(TimeInterval(hours) * 3600)
    }
}

/// Who is acting: the user and the positions they may act in now (their own and delegated).
public struct WorkflowActor: Sendable, Hashable {
    public var userID: UUID
    public var positions: [ActingPosition]

    public init(userID: UUID, positions: [ActingPosition]) {
        self.userID = userID
        self.positions = positions
    }

    func acting(in positionID: UUID?) -> ActingPosition? {
        guard let positionID else { return nil }
        return positions.first { $0.positionID == positionID }
    }
}

/// What happened to a letter.
public enum LetterEvent: Sendable, Hashable {
    case edit
    case submit
    case approve(note: String?)
    case returnToDrafter(note: String)
    case sign
    case withdraw
    /// The timer found the waiting step past its deadline.
    case escalate
    /// The dispatch worker took the outbox; every recipient got the letter.
    case dispatchStarted
    case allDelivered
}

/// What the service must do, in the same transaction, for a transition.
public enum WorkflowAction: Sendable, Hashable {
    /// Record who did what, in which position and capacity.
    case audit(action: String, actingPosition: ActingPosition?, note: String?)
    /// Take the next number of the unit's gapless yearly sequence.
    case assignNumber
    /// Build the canonical document, sign it with the signer's key, store both.
    case signDocument(capacity: SigningCapacity, actingPosition: ActingPosition)
    /// Write one delivery per recipient (the outbox) and notify the dispatch worker.
    case enqueueDeliveries
    /// Tell a position that a step waits for it.
    case notify(positionID: UUID)
}

/// Why an event was refused: the service turns these into 409 (wrong state) and 403 (not
/// your step).
public enum WorkflowRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case wrongState(current: LetterStatus)
    case notYourStep
    case noteRequired
    case notOverdue

    public var description: String {
        switch self {
        case .wrongState(let current): "the letter is \(current.rawValue); this action does not apply"
        case .notYourStep: "this step is not yours to act on"
        case .noteRequired: "returning a letter needs a note saying why"
        case .notOverdue: "the step is not overdue"
        }
    }
}

/// The rules of a letter's life as a pure state machine: no I/O, every outcome a value.
public enum LetterWorkflow {
    public static func apply(_ event: LetterEvent, to state: LetterWorkflowState, by actor: WorkflowActor?, at now: Date)
        -> Result<(LetterWorkflowState, [WorkflowAction]), WorkflowRefusal>
    {
        var next = state
        switch (event, state.status) {
        case (.edit, .draft), (.edit, .returned):
            guard isDrafter(actor, state) else { return .failure(.notYourStep) }
            return .success((next, [.audit(action: "letter.edited", actingPosition: actor?.acting(in: state.drafterPositionID), note: nil)]))

        case (.submit, .draft), (.submit, .returned):
            guard isDrafter(actor, state) else { return .failure(.notYourStep) }
            next.currentStep = 0
            next.stepStartedAt = now
            next.escalated = false
            next.status = state.route[0].kind == .sign ? .awaitingSignature : .inReview
            return .success((next, [
                .audit(action: "letter.submitted", actingPosition: actor?.acting(in: state.drafterPositionID), note: nil),
                .notify(positionID: state.route[0].positionID),
            ]))

        case (.approve(let note), .inReview):
            guard let index = state.currentStep, let acting = stepActor(actor, state) else { return .failure(.notYourStep) }
            let following = index + 1
            next.currentStep = following
            next.stepStartedAt = now
            next.escalated = false
            next.status = state.route[following].kind == .sign ? .awaitingSignature : .inReview
            return .success((next, [
                .audit(action: "letter.reviewed.approved", actingPosition: acting, note: note),
                .notify(positionID: state.route[following].positionID),
            ]))

        case (.returnToDrafter(let note), .inReview), (.returnToDrafter(let note), .awaitingSignature):
            guard let acting = stepActor(actor, state) else { return .failure(.notYourStep) }
            guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .failure(.noteRequired) }
            next.status = .returned
            next.currentStep = nil
            next.stepStartedAt = nil
            next.escalated = false
            var actions: [WorkflowAction] = [.audit(action: "letter.returned", actingPosition: acting, note: note)]
            if let drafter = state.drafterPositionID { actions.append(.notify(positionID: drafter)) }
            return .success((next, actions))

        case (.sign, .awaitingSignature):
            guard let index = state.currentStep, let acting = stepActor(actor, state) else { return .failure(.notYourStep) }
            let step = state.route[index]
            // Acting through a delegation prints Plt./Plh. whatever the route said; a superior
            // signing an escalated step signs in their own name, not under the step's mandate.
            let capacity: SigningCapacity = switch acting.capacity {
            case .plt: .plt
            case .plh: .plh
            case nil: acting.positionID == step.positionID ? step.capacity ?? .direct : .direct
            }
            next.status = .signed
            next.currentStep = nil
            next.stepStartedAt = nil
            next.escalated = false
            return .success((next, [
                .assignNumber,
                .signDocument(capacity: capacity, actingPosition: acting),
                .enqueueDeliveries,
                .audit(action: "letter.signed", actingPosition: acting, note: nil),
            ]))

        case (.withdraw, .draft), (.withdraw, .returned), (.withdraw, .inReview), (.withdraw, .awaitingSignature):
            guard isDrafter(actor, state) else { return .failure(.notYourStep) }
            next.status = .withdrawn
            next.currentStep = nil
            next.stepStartedAt = nil
            return .success((next, [.audit(action: "letter.withdrawn", actingPosition: actor?.acting(in: state.drafterPositionID), note: nil)]))

        case (.escalate, .inReview), (.escalate, .awaitingSignature):
            guard let deadline = state.deadline, now >= deadline, !state.escalated else { return .failure(.notOverdue) }
            next.escalated = true
            var actions: [WorkflowAction] = [.audit(action: "letter.step_escalated", actingPosition: nil, note: nil)]
            if let superior = state.waitingStep?.escalationPositionID { actions.append(.notify(positionID: superior)) }
            return .success((next, actions))

        case (.dispatchStarted, .signed):
            next.status = .dispatching
            return .success((next, [.audit(action: "letter.dispatching", actingPosition: nil, note: nil)]))

        case (.allDelivered, .dispatching):
            next.status = .delivered
            return .success((next, [.audit(action: "letter.delivered", actingPosition: nil, note: nil)]))

        default:
            return .failure(.wrongState(current: state.status))
        }
    }

    static func isDrafter(_ actor: WorkflowActor?, _ state: LetterWorkflowState) -> Bool {
        actor?.userID == state.drafterUserID
    }

    /// How the actor may act on the waiting step: in its position (held or delegated) or,
    /// once it is escalated, in the superior position.
    static func stepActor(_ actor: WorkflowActor?, _ state: LetterWorkflowState) -> ActingPosition? {
        guard let actor, let step = state.waitingStep else { return nil }
        if let acting = actor.acting(in: step.positionID) { return acting }
        if state.escalated, let acting = actor.acting(in: step.escalationPositionID) { return acting }
        return nil
    }
}
