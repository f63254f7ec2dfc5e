import EsuratDomain
import Foundation
import Testing

@Suite struct LetterWorkflowTests {
    let unit = UUID()
    let drafterPosition = UUID()
    let kabid = UUID()
    let sekretaris = UUID()
    let kadis = UUID()
    let drafter = UUID()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    var route: [RouteStep] {
        [
            RouteStep(kind: .reviewHierarchy, positionID: kabid, escalationPositionID: sekretaris, deadlineHours: 24),
            RouteStep(kind: .reviewHierarchy, positionID: sekretaris, escalationPositionID: kadis, deadlineHours: 24),
            RouteStep(kind: .sign, positionID: kadis, escalationPositionID: nil, deadlineHours: 48, capacity: .direct),
        ]
    }

    func holder(_ position: UUID, capacity: DelegationCapacity? = nil, user: UUID = UUID()) -> WorkflowActor {
        WorkflowActor(userID: user, positions: [ActingPosition(positionID: position, unitID: unit, capacity: capacity)])
    }

    var drafterActor: WorkflowActor { holder(drafterPosition, user: drafter) }

    func state(_ status: LetterStatus, step: Int? = nil) -> LetterWorkflowState {
        var state = LetterWorkflowState(route: route, drafterUserID: drafter, drafterPositionID: drafterPosition)
        state.status = status
        state.currentStep = step ?? (status == .inReview ? 0 : status == .awaitingSignature ? 2 : nil)
        state.stepStartedAt = state.currentStep == nil ? nil : now
        return state
    }

    /// The right actor for an event in a state.
    func actor(for event: LetterEvent, in state: LetterWorkflowState) -> WorkflowActor? {
        switch event {
        case .edit, .submit, .withdraw: drafterActor
        case .approve, .returnToDrafter, .sign: state.waitingStep.map { holder($0.positionID) }
        case .escalate, .dispatchStarted, .allDelivered: nil
        }
    }

    static let events: [LetterEvent] = [.edit, .submit, .approve(note: nil), .returnToDrafter(note: "Perbaiki perihal"), .sign, .withdraw, .escalate, .dispatchStarted, .allDelivered]

    /// The whole transition table: which event moves which status where.
    static let allowed: [LetterStatus: [String: LetterStatus]] = [
        .draft: ["edit": .draft, "submit": .inReview, "withdraw": .withdrawn],
        .returned: ["edit": .returned, "submit": .inReview, "withdraw": .withdrawn],
        .inReview: ["approve": .inReview, "return": .returned, "withdraw": .withdrawn, "escalate": .inReview],
        .awaitingSignature: ["return": .returned, "sign": .signed, "withdraw": .withdrawn, "escalate": .awaitingSignature],
        .signed: ["dispatch": .dispatching],
        .dispatching: ["delivered": .delivered],
        .delivered: [:],
        .withdrawn: [:],
    ]

    static func name(_ event: LetterEvent) -> String {
        switch event {
        case .edit: "edit"
        case .submit: "submit"
        case .approve: "approve"
        case .returnToDrafter: "return"
        case .sign: "sign"
        case .withdraw: "withdraw"
        case .escalate: "escalate"
        case .dispatchStarted: "dispatch"
        case .allDelivered: "delivered"
        }
    }

    @Test(arguments: LetterStatus.allCases)
    func everyEventInEveryStatus(status: LetterStatus) {
        for event in Self.events {
            var current = state(status)
            if case .escalate = event { current.stepStartedAt = now.addingTimeInterval(-49 * 3600) }
            let result = LetterWorkflow.apply(event, to: current, by: actor(for: event, in: current), at: now)
            if let expected = Self.allowed[status]?[Self.name(event)] {
                guard case .success(let (next, actions)) = result else {
                    Issue.record("\(Self.name(event)) in \(status) was refused: \(result)")
                    continue
                }
                #expect(next.status == expected, "\(Self.name(event)) in \(status)")
                #expect(actions.contains { if case .audit = $0 { true } else { false } }, "every transition is audited")
            } else {
                #expect(result == .failure(.wrongState(current: status)), "\(Self.name(event)) in \(status) should be refused as the wrong state")
            }
        }
    }

    @Test func theWrongActorIsRefusedAtEveryStep() {
        let stranger = holder(UUID())
        for (status, events) in [(LetterStatus.draft, [LetterEvent.edit, .submit, .withdraw]),
                                 (.inReview, [.approve(note: nil), .returnToDrafter(note: "x"), .withdraw]),
                                 (.awaitingSignature, [.sign, .returnToDrafter(note: "x")])] {
            for event in events {
                #expect(LetterWorkflow.apply(event, to: state(status), by: stranger, at: now) == .failure(.notYourStep), "\(event) in \(status)")
            }
        }
        // A reviewer cannot sign for the signer, nor the signer approve for a reviewer.
        #expect(LetterWorkflow.apply(.approve(note: nil), to: state(.inReview), by: holder(kadis), at: now) == .failure(.notYourStep))
    }

    @Test func aFullRouteWithAReturnAndResubmission() throws {
        var current = state(.draft)
        func step(_ event: LetterEvent, _ actor: WorkflowActor?) throws -> [WorkflowAction] {
            let (next, actions) = try LetterWorkflow.apply(event, to: current, by: actor, at: now).get()
            current = next
            return actions
        }
        _ = try step(.submit, drafterActor)
        #expect(current.status == .inReview && current.currentStep == 0)
        _ = try step(.returnToDrafter(note: "Lampiran kurang"), holder(kabid))
        #expect(current.status == .returned && current.currentStep == nil)
        #expect(LetterWorkflow.apply(.returnToDrafter(note: "  "), to: state(.inReview), by: holder(kabid), at: now) == .failure(.noteRequired))
        _ = try step(.edit, drafterActor)
        _ = try step(.submit, drafterActor)
        _ = try step(.approve(note: nil), holder(kabid))
        #expect(current.currentStep == 1)
        let toSigner = try step(.approve(note: "OK"), holder(sekretaris))
        #expect(current.status == .awaitingSignature)
        #expect(toSigner.contains(.notify(positionID: kadis)))
        let signing = try step(.sign, holder(kadis))
        #expect(current.status == .signed)
        #expect(signing.first == .assignNumber)
        #expect(signing.contains(.enqueueDeliveries))
        #expect(signing.contains { if case .signDocument(.direct, _) = $0 { true } else { false } })
        _ = try step(.dispatchStarted, nil)
        _ = try step(.allDelivered, nil)
        #expect(current.status == .delivered)
    }

    @Test func aPltSignsAsPltAndTheRecordKeepsPositionAndPerson() throws {
        let acting = UUID()
        let plt = holder(kadis, capacity: .plt, user: acting)
        let (_, actions) = try LetterWorkflow.apply(.sign, to: state(.awaitingSignature), by: plt, at: now).get()
        let signed = actions.compactMap { action -> (SigningCapacity, ActingPosition)? in
            if case .signDocument(let capacity, let position) = action { return (capacity, position) } else { return nil }
        }.first
        #expect(signed?.0 == .plt)
        #expect(signed?.1.positionID == kadis)
        #expect(signed?.1.capacity == .plt)
    }

    @Test func anOverdueStepEscalatesToTheSuperiorOnce() throws {
        var current = state(.inReview)
        #expect(LetterWorkflow.apply(.escalate, to: current, by: nil, at: now.addingTimeInterval(3600)) == .failure(.notOverdue))
        // The superior may not act before the deadline.
        #expect(LetterWorkflow.apply(.approve(note: nil), to: current, by: holder(sekretaris), at: now) == .failure(.notYourStep))
        let (escalated, actions) = try LetterWorkflow.apply(.escalate, to: current, by: nil, at: now.addingTimeInterval(25 * 3600)).get()
        #expect(escalated.escalated)
        #expect(actions.contains(.notify(positionID: sekretaris)))
        #expect(LetterWorkflow.apply(.escalate, to: escalated, by: nil, at: now.addingTimeInterval(26 * 3600)) == .failure(.notOverdue))
        current = escalated
        let (approved, _) = try LetterWorkflow.apply(.approve(note: "Atas nama Kabid"), to: current, by: holder(sekretaris), at: now).get()
        #expect(approved.currentStep == 1 && !approved.escalated)
    }

    @Test func definitionsAreValidated() {
        #expect(throws: Never.self) { try WorkflowDefinition.standard.validate() }
        let noSigner = WorkflowDefinition(name: "x", steps: [WorkflowStep(kind: .reviewHierarchy, actor: .superiorOfDrafter)])
        #expect(throws: WorkflowDefinition.Invalid(field: "steps[0].kind", message: "the last step must be the signer")) { try noSigner.validate() }
        let signerFirst = WorkflowDefinition(name: "x", steps: [WorkflowStep(kind: .sign, actor: .headOfDrafterUnit), WorkflowStep(kind: .sign, actor: .headOfDrafterUnit)])
        #expect(throws: WorkflowDefinition.Invalid.self) { try signerFirst.validate() }
        let capacityOnReviewer = WorkflowDefinition(name: "x", steps: [
            WorkflowStep(kind: .reviewCoordination, actor: .position(UUID()), capacity: .an), WorkflowStep(kind: .sign, actor: .headOfDrafterUnit),
        ])
        #expect(throws: WorkflowDefinition.Invalid(field: "steps[0].capacity", message: "only the signer has a capacity")) { try capacityOnReviewer.validate() }
        #expect(throws: WorkflowDefinition.Invalid.self) { try WorkflowDefinition(name: "", steps: []).validate() }
    }
}

extension Result where Success == (LetterWorkflowState, [WorkflowAction]), Failure == WorkflowRefusal {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.failure(let a), .failure(let b)): a == b
        case (.success(let a), .success(let b)): a.0 == b.0 && a.1 == b.1
        default: false
        }
    }
}
