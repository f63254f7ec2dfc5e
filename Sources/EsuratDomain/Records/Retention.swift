public import Foundation

/// A KKA code's retention schedule (JRA, jadwal retensi arsip): years the record stays active
/// with its unit, years it stays inactive in the records centre, and what happens after.
public struct RetentionSchedule: Sendable, Hashable {
    public enum FinalDisposition: String, Sendable, Hashable, CaseIterable {
        case musnah, permanen
        case dinilaiKembali = "dinilai_kembali"
    }

    /// The code the schedule was set on (the letter's own code or its nearest ancestor's).
    public var code: String
    public var activeYears: Int
    public var inactiveYears: Int
    public var finalDisposition: FinalDisposition

    public init(code: String, activeYears: Int, inactiveYears: Int, finalDisposition: FinalDisposition) {
        self.code = code
        self.activeYears = activeYears
        self.inactiveYears = inactiveYears
        self.finalDisposition = finalDisposition
    }

    /// The schedule that applies to `code`: its own, else its nearest ancestor's.
    public static func applicable(to code: String, in schedules: [String: RetentionSchedule]) -> RetentionSchedule? {
        if let own = schedules[code] { return own }
        guard let parsed = ClassificationCode(code) else { return nil }
        for ancestor in parsed.ancestors.reversed() {
            if let found = schedules[ancestor] { return found }
        }
        return nil
    }
}

/// Where one record stands in its retention schedule. Periods run from the record's date
/// (the signing date); esurat never deletes anything: a record past both periods is *due*
/// for its final disposition, which the unit kearsipan decides and carries out.
public struct RetentionStatus: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case active, inactive, due
    }

    public var schedule: RetentionSchedule
    public var phase: Phase
    public var activeUntil: Date
    public var inactiveUntil: Date

    public init(schedule: RetentionSchedule, recordDate: Date, now: Date = Date()) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Jakarta") ?? .gmt
        self.schedule = schedule
        activeUntil = calendar.date(byAdding: .year, value: schedule.activeYears, to: recordDate) ?? recordDate
        inactiveUntil = calendar.date(byAdding: .year, value: schedule.inactiveYears, to: activeUntil) ?? activeUntil
        phase = now < activeUntil ? .active : (now < inactiveUntil ? .inactive : .due)
    }
}
