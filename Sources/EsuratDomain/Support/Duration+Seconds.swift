extension Duration {
    /// The duration in seconds, fractions included (for rates, SQL intervals and metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
