/// How Indonesian official letters write dates and counts.
extension CalendarDay {
    public static let indonesianMonths = [
        "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ]

    /// "7 Desember 2026": the date line of a letter.
    public var indonesian: String { "\(day) \(Self.indonesianMonths[month - 1]) \(year)" }
}

public enum IndonesianNumber {
    static let ones = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas"]

    /// The number in words, as "Lampiran: 2 (dua) berkas" writes it; up to 999.
    public static func words(_ n: Int) -> String {
        switch n {
        case ..<0, 1000...: String(n)
        case 0...11: ones[n]
        case 12...19: "\(ones[n - 10]) belas"
        case 20...99: "\(ones[n / 10]) puluh" + (n % 10 == 0 ? "" : " \(ones[n % 10])")
        default:
            (n / 100 == 1 ? "seratus" : "\(ones[n / 100]) ratus") + (n % 100 == 0 ? "" : " \(words(n % 100))")
        }
    }
}
