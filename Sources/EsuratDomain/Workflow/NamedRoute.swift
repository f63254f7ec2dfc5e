public import Foundation

/// A route the drafter names (a signer and reviewers) instead of taking the one a workflow
/// definition builds. The drafter cannot name just anyone:
/// - the signer is above the drafter: on the drafter's chain of superiors, or the head of the
///   OPD (who may also sign what they drafted themselves; nobody in the OPD is above them);
/// - every reviewer is under the signer and is not the drafter. Reviewers on the drafter's own
///   chain give paraf hierarki, the others paraf koordinasi;
/// - reviewers initial from the lowest rank up, so each paraf comes before the superior who
///   relies on it, whatever order the drafter listed them in;
/// - a workflow definition may demand a minimum number of reviewers.
///
/// Pure: the service reads the chains (each position and its superiors upward, within the OPD)
/// and the planner decides.
public struct NamedRoute: Sendable, Equatable {
    public struct Reviewer: Sendable, Equatable {
        public var positionID: UUID
        public var kind: WorkflowStep.Kind

        public init(positionID: UUID, kind: WorkflowStep.Kind) {
            self.positionID = positionID
            self.kind = kind
        }
    }

    public var reviewers: [Reviewer]
    public var signer: UUID

    /// Where the drafter stands in the hierarchy.
    public struct Drafter: Sendable, Equatable {
        /// The drafter's position and its superiors upward; for a drafter without a position,
        /// the head of the drafter's unit and its superiors (the drafter stands below it).
        public var chain: [UUID]
        /// Whether `chain.first` is the drafter's own position.
        public var holdsFirst: Bool

        public init(chain: [UUID], holdsFirst: Bool) {
            self.chain = chain
            self.holdsFirst = holdsFirst
        }
    }

    /// - Parameters:
    ///   - chains: for each named reviewer, its position and superiors upward within the OPD.
    ///   - signerIsHead: whether the signer is the head of the drafting unit's OPD.
    public static func plan(
        signer: UUID, reviewers: [UUID], drafter: Drafter, chains: [UUID: [UUID]], signerIsHead: Bool, minimumReviewers: Int
    ) throws(WorkflowDefinition.Invalid) -> NamedRoute {
        let drafterPosition = drafter.holdsFirst ? drafter.chain.first : nil
        let signerIndex = drafter.chain.firstIndex(of: signer)
        let signerIsAbove = signerIsHead || signerIndex.map { $0 > 0 || !drafter.holdsFirst } ?? false
        guard signerIsAbove else {
            throw .init(
                field: "signerPositionId",
                message: signer == drafterPosition
                    ? "the drafter cannot sign their own letter; name a superior or the head of the OPD"
                    : "must be above the drafter: a superior on the drafter's chain or the head of the OPD")
        }
        var ranked: [(reviewer: Reviewer, depth: Int, order: Int)] = []
        for (index, reviewer) in reviewers.enumerated() {
            let field = "reviewerPositionIds[\(index)]"
            if reviewer == drafterPosition { throw .init(field: field, message: "the drafter does not initial their own letter") }
            let chain = chains[reviewer] ?? []
            // How far below the signer: where the signer stands on the reviewer's chain; under
            // a head the chain does not reach, the length of the chain.
            let depth: Int
            if let above = chain.firstIndex(of: signer), above > 0 {
                depth = above
            } else if signerIsHead && !chain.contains(signer) {
                depth = chain.count
            } else {
                throw .init(field: field, message: "must be under the signer: reviewers lie between the drafter and the signer")
            }
            let kind: WorkflowStep.Kind = drafter.chain.contains(reviewer) ? .reviewHierarchy : .reviewCoordination
            ranked.append((Reviewer(positionID: reviewer, kind: kind), depth, index))
        }
        guard reviewers.count >= minimumReviewers else {
            throw .init(field: "reviewerPositionIds", message: "the workflow for this letter needs at least \(minimumReviewers) reviewers")
        }
        ranked.sort { ($0.depth, -$0.order) > ($1.depth, -$1.order) }
        return NamedRoute(reviewers: ranked.map(\.reviewer), signer: signer)
    }
}
