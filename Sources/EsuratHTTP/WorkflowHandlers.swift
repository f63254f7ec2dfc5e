import EsuratDomain
import EsuratServices
import EsuratPostgres
import Foundation
import OpenAPIRuntime

/// Workflow definitions.
struct WorkflowHandlers: Sendable {
    let workflows: WorkflowService

    func listWorkflows(_ input: Operations.ListWorkflows.Input) async throws -> Operations.ListWorkflows.Output {
        _ = try RequestScope.caller()
        return .ok(.init(body: .json(.init(items: try await workflows.list().map(Self.workflow)))))
    }

    func createWorkflow(_ input: Operations.CreateWorkflow.Input) async throws -> Operations.CreateWorkflow.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let steps = try body.steps.enumerated().map { index, step -> WorkflowStep in
            let actor: StepActor = switch step.actor {
            case .position:
                .position(try Wire.uuid(step.positionId ?? "", field: "steps[\(index)].positionId"))
            case .superiorOfDrafter: .superiorOfDrafter
            case .headOfDrafterUnit: .headOfDrafterUnit
            }
            return WorkflowStep(
                kind: WorkflowStep.Kind(rawValue: step.kind.rawValue)!, actor: actor, deadlineHours: step.deadlineHours,
                capacity: step.capacity.map { SigningCapacity(rawValue: $0.rawValue)! })
        }
        let stored = try await workflows.create(
            WorkflowDefinition(name: body.name, steps: steps, minimumReviewers: body.minimumReviewers), letterType: body.letterType,
            unitID: try Wire.optionalUUID(body.unitId, field: "unitId"), actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.workflow(stored))))
    }

    static func workflow(_ stored: WorkflowService.StoredDefinition) -> Components.Schemas.Workflow {
        .init(
            id: Wire.id(stored.id), name: stored.name, version: stored.version, letterType: stored.letterType?.rawValue,
            unitId: stored.unitID.map(Wire.id),
            steps: stored.definition.steps.map { step in
                let (actor, position): (Components.Schemas.WorkflowStep.ActorPayload, String?) = switch step.actor {
                case .position(let id): (.position, Wire.id(id))
                case .superiorOfDrafter: (.superiorOfDrafter, nil)
                case .headOfDrafterUnit: (.headOfDrafterUnit, nil)
                }
                return .init(kind: .init(rawValue: step.kind.rawValue)!, actor: actor, positionId: position, deadlineHours: step.deadlineHours,
                             capacity: step.capacity.map { .init(rawValue: $0.rawValue)! })
            },
            minimumReviewers: stored.definition.minimumReviewers, createdAt: stored.createdAt)
    }
}

/// The KKA classification table.
struct ClassificationHandlers: Sendable {
    let classifications: ClassificationService

    func listClassifications(_ input: Operations.ListClassifications.Input) async throws -> Operations.ListClassifications.Output {
        _ = try RequestScope.caller()
        let items = try await classifications.list().map { Components.Schemas.Classification(code: $0.code, title: $0.title, active: $0.active) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func saveClassification(_ input: Operations.SaveClassification.Input) async throws -> Operations.SaveClassification.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let saved = try await classifications.put(
            code: body.code, title: body.title, active: body.active ?? true, actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .ok(.init(body: .json(.init(code: saved.code, title: saved.title, active: saved.active))))
    }
}

/// Dead deliveries and their requeue.
struct DeliveryHandlers: Sendable {
    let pool: PostgresPool

    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        let dead = try await DispatchWorker.deadDeliveries(pool: pool, actor: try RequestScope.caller().actor)
        return .ok(.init(body: .json(.init(items: dead.map {
            .init(id: Wire.id($0.id), letterId: Wire.id($0.letterID), unitId: Wire.id($0.unitID), attempts: $0.attempts, lastError: $0.lastError)
        }))))
    }

    func requeueDelivery(_ input: Operations.RequeueDelivery.Input) async throws -> Operations.RequeueDelivery.Output {
        try await DispatchWorker.requeue(
            try Wire.uuid(input.path.deliveryId, field: "deliveryId"), pool: pool, actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .noContent(.init())
    }
}

/// The inbox.
struct InboxHandlers: Sendable {
    let inbox: InboxService
    let dispositions: DispositionService

    static func item(_ entry: InboxService.Entry) -> Components.Schemas.InboxItem {
        .init(
            id: Wire.id(entry.id), letterId: Wire.id(entry.letterID), number: entry.number, subject: entry.subject,
            fromUnit: .init(id: Wire.id(entry.fromUnitID), name: entry.fromUnitName), receivedAt: entry.receivedAt,
            agendaNumber: entry.agendaNumber, state: .init(rawValue: entry.state) ?? .new, role: .init(rawValue: entry.role) ?? .to,
            urgency: entry.urgency.rawValue, securityLevel: entry.securityLevel.rawValue, readAt: entry.readAt)
    }

    func markInboxEntryRead(_ input: Operations.MarkInboxEntryRead.Input) async throws -> Operations.MarkInboxEntryRead.Output {
        .ok(.init(body: .json(Self.item(try await inbox.markRead(
            try Wire.uuid(input.path.entryId, field: "entryId"), caller: try RequestScope.caller(), request: RequestScope.info)))))
    }

    func listInbox(_ input: Operations.ListInbox.Input) async throws -> Operations.ListInbox.Output {
        let page = try await inbox.list(
            caller: try RequestScope.caller(), state: input.query.state?.rawValue ?? "all", urgency: input.query.urgency, search: input.query.q,
            page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.item), nextCursor: page.nextCursor))))
    }

    func getInboxEntry(_ input: Operations.GetInboxEntry.Input) async throws -> Operations.GetInboxEntry.Output {
        let caller = try RequestScope.caller()
        let view = try await inbox.view(try Wire.uuid(input.path.entryId, field: "entryId"), caller: caller)
        let nodes = try await dispositions.visible(entry: view.entry.id, caller: caller)
        let document = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(view.document))
        return .ok(.init(body: .json(.init(
            value1: Self.item(view.entry),
            value2: .init(
                document: .init(additionalProperties: document), documentSha256: view.documentSHA256,
                signatureUrl: "/api/v1/letters/\(Wire.id(view.entry.letterID))/signature",
                attachments: view.attachments.map(LetterHandlers.attachment), dispositions: nodes.map(DispositionHandlers.node))))))
    }

    func registerInboxEntry(_ input: Operations.RegisterInboxEntry.Input) async throws -> Operations.RegisterInboxEntry.Output {
        .ok(.init(body: .json(Self.item(try await inbox.register(
            try Wire.uuid(input.path.entryId, field: "entryId"), caller: try RequestScope.caller(), request: RequestScope.info)))))
    }
}

/// Dispositions.
struct DispositionHandlers: Sendable {
    let dispositions: DispositionService

    static func node(_ node: DispositionService.Node) -> Components.Schemas.Disposition {
        .init(
            id: Wire.id(node.id), inboxEntryId: Wire.id(node.inboxEntryID), parentId: node.parentID.map(Wire.id),
            fromPositionId: Wire.id(node.fromPositionID), fromUserId: Wire.id(node.fromUserID), actingCapacity: node.actingCapacity,
            instructions: node.instructions, note: node.note, dueDate: node.dueDate, overdue: node.overdue,
            recipients: node.recipients.map {
                .init(positionId: Wire.id($0.positionID), state: .init(rawValue: $0.state) ?? .belumDibaca, readAt: $0.readAt,
                      completedAt: $0.completedAt, report: $0.report, escalatedAt: $0.escalatedAt)
            })
    }

    static func order(_ body: Components.Schemas.DispositionOrder) throws -> DispositionService.Order {
        .init(
            toPositionIDs: try body.toPositionIds.enumerated().map { try Wire.uuid($1, field: "toPositionIds[\($0)]") },
            instructions: body.instructions, note: body.note, dueDate: body.dueDate)
    }

    func createDisposition(_ input: Operations.CreateDisposition.Input) async throws -> Operations.CreateDisposition.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let node = try await dispositions.dispose(
            entry: try Wire.uuid(input.path.entryId, field: "entryId"), try Self.order(body), caller: try RequestScope.caller(), request: RequestScope.info)
        return .created(.init(body: .json(Self.node(node))))
    }

    func getDispositionTree(_ input: Operations.GetDispositionTree.Input) async throws -> Operations.GetDispositionTree.Output {
        let nodes = try await dispositions.tree(entry: try Wire.uuid(input.path.entryId, field: "entryId"), caller: try RequestScope.caller())
        return .ok(.init(body: .json(.init(items: nodes.map(Self.node)))))
    }

    func listDispositions(_ input: Operations.ListDispositions.Input) async throws -> Operations.ListDispositions.Output {
        let nodes = try await dispositions.assigned(caller: try RequestScope.caller(), state: input.query.state?.rawValue ?? "open")
        return .ok(.init(body: .json(.init(items: nodes.map(Self.node)))))
    }

    func getDisposition(_ input: Operations.GetDisposition.Input) async throws -> Operations.GetDisposition.Output {
        let node = try await dispositions.open(try Wire.uuid(input.path.dispositionId, field: "dispositionId"), caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.node(node))))
    }

    func forwardDisposition(_ input: Operations.ForwardDisposition.Input) async throws -> Operations.ForwardDisposition.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let node = try await dispositions.forward(
            try Wire.uuid(input.path.dispositionId, field: "dispositionId"), try Self.order(body), caller: try RequestScope.caller(), request: RequestScope.info)
        return .created(.init(body: .json(Self.node(node))))
    }

    func listDispositionInstructions(_ input: Operations.ListDispositionInstructions.Input) async throws -> Operations.ListDispositionInstructions.Output {
        _ = try RequestScope.caller()
        return .ok(.init(body: .json(.init(items: try await dispositions.instructions().map { .init(code: $0.code, title: $0.title, active: $0.active) }))))
    }

    func cancelDisposition(_ input: Operations.CancelDisposition.Input) async throws -> Operations.CancelDisposition.Output {
        try await dispositions.cancel(try Wire.uuid(input.path.dispositionId, field: "dispositionId"), caller: try RequestScope.caller(), request: RequestScope.info)
        return .noContent(.init())
    }

    func completeDisposition(_ input: Operations.CompleteDisposition.Input) async throws -> Operations.CompleteDisposition.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let node = try await dispositions.complete(
            try Wire.uuid(input.path.dispositionId, field: "dispositionId"), report: body.report, caller: try RequestScope.caller(), request: RequestScope.info)
        return .ok(.init(body: .json(Self.node(node))))
    }
}
