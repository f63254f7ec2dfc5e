// swift-tools-version: 6.2
import PackageDescription

// Every target is strict: Swift 6 language mode plus the upcoming features the
// server ecosystem (Hummingbird, swift-openapi-hummingbird) builds with.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "esurat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "esurat", targets: ["esurat"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // C shims: only EsuratPostgres imports CLibPQ, only EsuratSigning imports COpenSSL.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Only EsuratRender imports these two.
        .systemLibrary(
            name: "CPangoCairo",
            pkgConfig: "pangocairo",
            providers: [.apt(["libcairo2-dev", "libpango1.0-dev"])]
        ),
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(
            name: "EsuratPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "EsuratSigning",
            dependencies: ["COpenSSL"],
            swiftSettings: strict
        ),
        // Pure rules of the domain: no I/O, no C, no HTTP.
        .target(
            name: "EsuratDomain",
            swiftSettings: strict
        ),
        // The letter as a naskah dinas PDF: pure (document and template in, PDF bytes out).
        .target(
            name: "EsuratRender",
            dependencies: ["EsuratDomain", "CPangoCairo", "CQREncode"],
            swiftSettings: strict
        ),
        // PAdES: signs a PDF by incremental update (signature, DSS, document time-stamps) and
        // reads the signatures of a PDF back for verification.
        .target(
            name: "EsuratPAdES",
            dependencies: ["EsuratSigning"],
            swiftSettings: strict
        ),
        // SQL repositories and the services that run one use case in one transaction.
        .target(
            name: "EsuratServices",
            dependencies: [
                "EsuratDomain", "EsuratPostgres", "EsuratSigning", "EsuratRender", "EsuratPAdES",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "EsuratHTTP",
            dependencies: [
                "EsuratPostgres", "EsuratServices", "EsuratDomain", "EsuratRender",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: strict,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The web UI for people (Bahasa Indonesia): server-rendered pages over the same
        // services and access rules as the API, mounted in the same router.
        .target(
            name: "EsuratWeb",
            dependencies: [
                "EsuratServices", "EsuratDomain", "EsuratSigning", "EsuratHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "esurat",
            dependencies: [
                "EsuratPostgres",
                "EsuratHTTP",
                "EsuratWeb",
                "EsuratRender",
                "EsuratPAdES",
                "EsuratSigning",
                "EsuratServices",
                "EsuratDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // Shared by the integration tests: a throwaway PostgreSQL cluster started through
        // the same launcher `esurat serve` uses.
        .target(
            name: "EsuratTestSupport",
            dependencies: ["EsuratPostgres", .product(name: "Logging", package: "swift-log")],
            path: "Tests/EsuratTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratPostgresTests",
            dependencies: ["EsuratPostgres", "EsuratTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratDomainTests",
            dependencies: ["EsuratDomain"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratRenderTests",
            dependencies: ["EsuratRender", "EsuratPAdES", "EsuratDomain", "EsuratSigning", "EsuratTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratSigningTests",
            dependencies: ["EsuratSigning"],
            swiftSettings: strict
        ),
        // Runs the built `esurat` binary (it depends on the executable so that it is built first).
        .testTarget(
            name: "EsuratCLITests",
            dependencies: ["esurat", "EsuratTestSupport", "EsuratPostgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratWebTests",
            dependencies: [
                "EsuratWeb", "EsuratHTTP", "EsuratTestSupport", "EsuratPostgres", "EsuratServices", "EsuratDomain",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EsuratHTTPTests",
            dependencies: [
                "EsuratHTTP", "EsuratTestSupport", "EsuratPostgres", "EsuratServices", "EsuratDomain", "EsuratSigning",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
