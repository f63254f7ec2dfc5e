internal import CQREncode

/// A QR code's modules (libqrencode, error correction M), drawn by the renderer as vector
/// squares so it stays sharp at any print size.
struct QRMatrix {
    /// Modules per side, the quiet zone excluded.
    let size: Int
    private let modules: [Bool]

    init(_ text: String) {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            size = 1
            modules = [false]
            return
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        size = width
        modules = (0..<(width * width)).map { code.pointee.data[$0] & 1 == 1 }
    }

    func dark(row: Int, column: Int) -> Bool { modules[row * size + column] }
}
