/// Families of official documents (jenis naskah dinas, Permendagri 1/2023) esurat drafts.
public enum LetterType: String, Codable, Sendable, CaseIterable {
    // Korespondensi
    case suratDinas = "surat_dinas"
    case notaDinas = "nota_dinas"
    case undangan
    case memo
    // Penetapan / pengaturan
    case suratKeputusan = "surat_keputusan"
    case suratEdaran = "surat_edaran"
    case instruksi
    // Penugasan
    case suratPerintah = "surat_perintah"
    case suratTugas = "surat_tugas"
    // Lainnya
    case beritaAcara = "berita_acara"
    case suratKeterangan = "surat_keterangan"
    case pengumuman
    case laporan
    case telaahanStaf = "telaahan_staf"
    case notulen

    /// The name printed on the document.
    public var title: String {
        switch self {
        case .suratDinas: "Surat Dinas"
        case .notaDinas: "Nota Dinas"
        case .undangan: "Surat Undangan"
        case .memo: "Memo"
        case .suratKeputusan: "Keputusan"
        case .suratEdaran: "Surat Edaran"
        case .instruksi: "Instruksi"
        case .suratPerintah: "Surat Perintah"
        case .suratTugas: "Surat Tugas"
        case .beritaAcara: "Berita Acara"
        case .suratKeterangan: "Surat Keterangan"
        case .pengumuman: "Pengumuman"
        case .laporan: "Laporan"
        case .telaahanStaf: "Telaahan Staf"
        case .notulen: "Notulen"
        }
    }
}

/// Sifat: who may read a letter. Kept apart from ``Urgency`` (many systems mix them up).
public enum SecurityLevel: String, Codable, Sendable, CaseIterable {
    case biasa
    case terbatas
    case rahasia
    case sangatRahasia = "sangat_rahasia"

    /// As printed in numbers and headers: B, T, R, SR.
    public var code: String {
        switch self {
        case .biasa: "B"
        case .terbatas: "T"
        case .rahasia: "R"
        case .sangatRahasia: "SR"
        }
    }

    /// Rahasia and Sangat Rahasia are read only by the positions they name and their delegates.
    public var restrictedToNamedPositions: Bool { self == .rahasia || self == .sangatRahasia }
}

/// Urgensi: how fast a letter must be handled.
public enum Urgency: String, Codable, Sendable, CaseIterable {
    case biasa
    case segera
    case sangatSegera = "sangat_segera"

    public var title: String {
        switch self {
        case .biasa: "Biasa"
        case .segera: "Segera"
        case .sangatSegera: "Sangat Segera"
        }
    }

    /// Days a disposition has by default: 1 for sangat segera, 2 for segera, 7 otherwise.
    public var defaultDispositionDays: Int {
        switch self {
        case .sangatSegera: 1
        case .segera: 2
        case .biasa: 7
        }
    }
}

/// A KKA classification code (kode klasifikasi arsip, Permendagri 83/2022): three digits,
/// then dotted numeric levels, such as `000.1` or `000.8.3.3`.
public struct ClassificationCode: Sendable, Hashable, Codable, CustomStringConvertible {
    public let code: String

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...6).contains(parts.count), parts[0].count == 3,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        self.code = text
    }

    /// The codes above this one, most general first: `000`, `000.8`, `000.8.3` for `000.8.3.3`.
    public var ancestors: [String] {
        let parts = code.split(separator: ".")
        return (1..<parts.count).map { parts.prefix($0).joined(separator: ".") }
    }

    public var description: String { code }
}
