public import Foundation

/// How a letter travels from its drafter to its signer: data, stored as JSON and versioned,
/// chosen by letter type and unit. A running letter keeps the version it started with.
public struct WorkflowDefinition: Codable, Sendable, Hashable {
    public var name: String
    /// Reviewers in order, then exactly one signer, last.
    public var steps: [WorkflowStep]
    /// How many reviewers a route the drafter names must have at least (``NamedRoute``), for
    /// the letters this definition is chosen for; nil or 0: none required.
    public var minimumReviewers: Int?

    public init(name: String, steps: [WorkflowStep], minimumReviewers: Int? = nil) {
        self.name = name
        self.steps = steps
        self.minimumReviewers = minimumReviewers
    }

    /// Why a definition is refused; each names the offending step.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// Checks the shape: 1–10 steps, a minimum of 0–5 reviewers, the signer last and only last, capacities only on the
    /// signer, positive deadlines.
    public func validate() throws(Invalid) {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw Invalid(field: "name", message: "is required") }
        guard (1...10).contains(steps.count) else { throw Invalid(field: "steps", message: "must hold 1–10 steps") }
        if let minimumReviewers, !(0...5).contains(minimumReviewers) {
            throw Invalid(field: "minimumReviewers", message: "must be 0–5 (a named route holds at most five reviewers)")
        }
        for (index, step) in steps.enumerated() {
            let isLast = index == steps.count - 1
            if step.kind == .sign && !isLast { throw Invalid(field: "steps[\(index)].kind", message: "only the last step signs") }
            if isLast && step.kind != .sign { throw Invalid(field: "steps[\(index)].kind", message: "the last step must be the signer") }
            if step.kind != .sign && step.capacity != nil { throw Invalid(field: "steps[\(index)].capacity", message: "only the signer has a capacity") }
            if let hours = step.deadlineHours, !(1...24 * 90).contains(hours) { throw Invalid(field: "steps[\(index)].deadlineHours", message: "must be 1–2160 hours") }
        }
    }

    /// The usual route: the drafter's superior initials, the head of the drafter's OPD signs.
    public static let standard = WorkflowDefinition(name: "standard", steps: [
        WorkflowStep(kind: .reviewHierarchy, actor: .superiorOfDrafter, deadlineHours: 24),
        WorkflowStep(kind: .sign, actor: .headOfDrafterUnit, deadlineHours: 48, capacity: .direct),
    ])
}

/// One step of a route.
public struct WorkflowStep: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Paraf hierarki: up the drafter's chain.
        case reviewHierarchy
        /// Paraf koordinasi: from a peer unit.
        case reviewCoordination
        /// Tanda tangan: the signer.
        case sign
    }

    public var kind: Kind
    public var actor: StepActor
    /// Hours after the step starts before it is overdue and escalates.
    public var deadlineHours: Int?
    /// For the signer: how the signature is given.
    public var capacity: SigningCapacity?

    public init(kind: Kind, actor: StepActor, deadlineHours: Int? = nil, capacity: SigningCapacity? = nil) {
        self.kind = kind
        self.actor = actor
        self.deadlineHours = deadlineHours
        self.capacity = capacity
    }
}

/// Who acts in a step: a named position, or one found from the drafter.
public enum StepActor: Codable, Sendable, Hashable {
    case position(UUID)
    case superiorOfDrafter
    case headOfDrafterUnit
}

/// How a signer signs (Permendagri 1/2023): directly, on behalf of (a.n.), for him (u.b.,
/// one level further), or as an acting official (Plt./Plh.).
public enum SigningCapacity: String, Codable, Sendable, CaseIterable {
    case direct
    case an
    case ub
    case plt
    case plh

    /// As printed before the signer's title.
    public var printedPrefix: String? {
        switch self {
        case .direct: nil
        case .an: "a.n."
        case .ub: "u.b."
        case .plt: "Plt."
        case .plh: "Plh."
        }
    }
}
