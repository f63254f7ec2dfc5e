import EsuratDomain
import Foundation
import Testing

@Suite struct RetentionTests {
    static let schedules: [String: RetentionSchedule] = [
        "000": .init(code: "000", activeYears: 2, inactiveYears: 3, finalDisposition: .musnah),
        "000.1": .init(code: "000.1", activeYears: 2, inactiveYears: 1, finalDisposition: .musnah),
        "100": .init(code: "100", activeYears: 3, inactiveYears: 7, finalDisposition: .permanen),
    ]

    @Test func aCodeTakesItsOwnScheduleElseItsNearestAncestors() {
        #expect(RetentionSchedule.applicable(to: "000.1", in: Self.schedules)?.code == "000.1")
        #expect(RetentionSchedule.applicable(to: "000.1.2.3", in: Self.schedules)?.code == "000.1")
        #expect(RetentionSchedule.applicable(to: "000.8.3", in: Self.schedules)?.code == "000")
        #expect(RetentionSchedule.applicable(to: "100.2", in: Self.schedules)?.finalDisposition == .permanen)
        #expect(RetentionSchedule.applicable(to: "900", in: Self.schedules) == nil)
        #expect(RetentionSchedule.applicable(to: "bukan-kode", in: Self.schedules) == nil)
    }

    @Test func aRecordIsActiveThenInactiveThenDue() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Jakarta")!
        let signed = calendar.date(from: DateComponents(year: 2020, month: 3, day: 15, hour: 10))!
        let schedule = Self.schedules["000"]!  // 2 active + 3 inactive years
        func at(_ year: Int, _ month: Int) -> Date { calendar.date(from: DateComponents(year: year, month: month, day: 1))! }
        #expect(RetentionStatus(schedule: schedule, recordDate: signed, now: at(2021, 6)).phase == .active)
        #expect(RetentionStatus(schedule: schedule, recordDate: signed, now: at(2022, 6)).phase == .inactive)
        #expect(RetentionStatus(schedule: schedule, recordDate: signed, now: at(2025, 3)).phase == .inactive)
        let due = RetentionStatus(schedule: schedule, recordDate: signed, now: at(2025, 4))
        #expect(due.phase == .due)
        #expect(calendar.component(.year, from: due.activeUntil) == 2022 && calendar.component(.year, from: due.inactiveUntil) == 2025)
        #expect(calendar.component(.day, from: due.inactiveUntil) == 15)
        let permanent = RetentionSchedule(code: "100", activeYears: 0, inactiveYears: 0, finalDisposition: .permanen)
        #expect(RetentionStatus(schedule: permanent, recordDate: signed, now: signed).phase == .due)
    }
}
