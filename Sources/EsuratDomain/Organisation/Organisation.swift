public import Foundation

/// The roles a user account can hold; a user may hold several.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    /// Manages the organisation, accounts and the PKI.
    case admin
    /// TU / pencatat surat: drafts letters, takes numbers, registers incoming letters.
    case clerk
    /// Holds a position (jabatan): reviews, signs and writes dispositions.
    case official
    /// Works on dispositions addressed to them.
    case staff
    /// Reads everything, changes nothing (inspectors, archivists).
    case auditor
}

/// Kinds of organisational units; OPD-level ones issue letters under their own code.
public enum UnitKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The regional government as a whole (Pemerintah Kabupaten/Kota), the root.
    case pemda
    /// Organisasi Perangkat Daerah: Dinas, Badan, Sekretariat, Inspektorat.
    case opd
    case bagian
    case bidang
    case subbagian
    case seksi
    case kecamatan
    case kelurahan
    /// Unit Pelaksana Teknis.
    case upt
}

/// Plt. (Pelaksana Tugas: the position is vacant) or Plh. (Pelaksana Harian: the holder is
/// away).
public enum DelegationCapacity: String, Sendable, Hashable, CaseIterable, Codable {
    case plt
    case plh

    /// As printed before the position's title: "Plt. Kepala Dinas …".
    public var printed: String {
        switch self {
        case .plt: "Plt."
        case .plh: "Plh."
        }
    }
}

/// A delegation's validity window, `[from, until)`.
public struct ValidityWindow: Sendable, Hashable {
    public let from: Date
    public let until: Date

    public enum Invalid: Error, Sendable, Equatable {
        case inverted
    }

    public init(from: Date, until: Date) throws(Invalid) {
        guard until > from else { throw .inverted }
        self.from = from
        self.until = until
    }

    public func contains(_ instant: Date) -> Bool { instant >= from && instant < until }

    public func overlaps(_ other: ValidityWindow) -> Bool { from < other.until && other.from < until }
}

/// A position a user may act in right now: the one they hold, or one delegated to them.
public struct ActingPosition: Sendable, Hashable {
    public let positionID: UUID
    public let unitID: UUID
    /// nil when the user holds the position; Plt./Plh. when it was delegated.
    public let capacity: DelegationCapacity?

    public init(positionID: UUID, unitID: UUID, capacity: DelegationCapacity?) {
        self.positionID = positionID
        self.unitID = unitID
        self.capacity = capacity
    }
}
