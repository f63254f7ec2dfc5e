import EsuratDomain
import Foundation
import Testing

@Suite struct NIPTests {
    @Test func acceptsRealNIPs() throws {
        let nip = try NIP("19800101 200501 1 001")
        #expect(nip.digits == "198001012005011001")
        #expect(nip.birthDate == CalendarDay(year: 1980, month: 1, day: 1))
        #expect(try NIP("197602292000122002").birthDate.day == 29)  // 1976 is a leap year
    }

    @Test(arguments: [
        ("12345", NIP.Invalid.length(5)),
        ("19800101200501100A", .notDigits),
        ("198002302005011001", .birthDate("19800230")),
        ("197702292000122002", .birthDate("19770229")),
        ("198013012005011001", .birthDate("19801301")),
        ("198001012005131001", .appointment("200513")),
        ("198001012005013001", .sex("3")),
        ("198001011979011001", .appointedBeforeBirth),
    ])
    func refusesWhatIsNotANIP(text: String, expected: NIP.Invalid) {
        #expect(throws: expected) { try NIP(text) }
    }
}

@Suite struct ValidityWindowTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func invertedAndEmptyWindowsAreRefused() {
        #expect(throws: ValidityWindow.Invalid.inverted) { try ValidityWindow(from: now, until: now) }
        #expect(throws: ValidityWindow.Invalid.inverted) { try ValidityWindow(from: now, until: now - 1) }
    }

    @Test func windowsAreHalfOpen() throws {
        let a = try ValidityWindow(from: now, until: now + 3600)
        let b = try ValidityWindow(from: now + 3600, until: now + 7200)
        #expect(!a.overlaps(b) && !b.overlaps(a))
        #expect(a.overlaps(try ValidityWindow(from: now + 3599, until: now + 4000)))
        #expect(a.contains(now) && !a.contains(now + 3600))
    }
}

@Suite struct AccessPolicyTests {
    let ownUnit = UUID()
    let otherUnit = UUID()

    func actor(_ roles: Role...) -> Actor {
        Actor(userID: UUID(), roles: Set(roles), unitID: ownUnit, positions: [])
    }

    @Test(arguments: Role.allCases)
    func everyRoleOverOwnAndOtherUnit(role: Role) {
        let subject = actor(role)
        let seesAll = role == .admin || role == .auditor
        #expect(AccessPolicy.decide(subject, .listUnits) == .allow)
        #expect(AccessPolicy.decide(subject, .viewUser, .inUnit(ownUnit)) == .allow)
        #expect(AccessPolicy.decide(subject, .viewUser, .inUnit(otherUnit)) == (seesAll ? .allow : .notVisible))
        #expect(AccessPolicy.decide(subject, .viewUser, .ownAccount) == .allow)
        for action in [Action.manageUnits, .managePositions, .manageUsers, .manageDelegations, .managePKI, .manageLetterTemplate] {
            if role == .admin {
                #expect(AccessPolicy.decide(subject, action) == .allow)
            } else if case .forbidden = AccessPolicy.decide(subject, action) {
            } else {
                Issue.record("\(role) may \(action)")
            }
        }
        #expect(AccessPolicy.userListScope(subject) == (seesAll ? .all : .unit(ownUnit)))
        let audit = AccessPolicy.decide(subject, .readAudit)
        #expect((audit == .allow) == seesAll)
    }
}
