// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Applied to every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Flamingo",
    products: [
        .executable(name: "flamingo", targets: ["CLI"]),
        .library(name: "VideoIO", targets: ["VideoIO"]),
        .library(name: "FlamingoModel", targets: ["Model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // System libraries: FFmpeg 5.1+ and OpenBLAS, found through pkg-config.
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // oneDNN (Debian ships no pkg-config file for it: a module map names the header and library).
        .systemLibrary(
            name: "CDNNL",
            providers: [.apt(["libdnnl-dev"])]),

        // F16 -> F32 widening with F16C (weights kept in half precision at rest).
        .target(name: "CHalf"),
        // Vectorised kernels (softmax, GELU, QuickGELU, LayerNorm, decode attention) for AVX-512 / AVX2 / baseline.
        .target(name: "CKernels"),
        // Int8 products of many rows (prompts, frames) through oneDNN's matmul primitive (VNNI where present).
        .target(
            name: "CInt8Matmul", dependencies: ["CDNNL"],
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),

        .target(
            name: "VideoIO",
            dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "Tensor",
            dependencies: ["COpenBLAS", "CKernels"],
            swiftSettings: swiftSettings),
        .target(
            name: "Weights",
            dependencies: ["CHalf", "CInt8Matmul"],
            swiftSettings: swiftSettings),
        .target(
            name: "Model",
            dependencies: ["Tensor", "Weights", "COpenBLAS"],
            swiftSettings: swiftSettings),
        .target(
            name: "Tokenizer",
            swiftSettings: swiftSettings),
        .target(
            name: "Generation",
            dependencies: ["Model", "Tensor", "Tokenizer", "VideoIO"],
            swiftSettings: swiftSettings),
        .target(
            name: "Pipeline",
            dependencies: ["Generation", "Model", "VideoIO", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        .target(
            name: "Conversion",
            dependencies: ["Model", "Weights", "CHalf"],
            swiftSettings: swiftSettings),
        .target(
            name: "Evaluation",
            dependencies: ["Generation", "Model", "Tensor"],
            swiftSettings: swiftSettings),
        .target(
            name: "Daemon",
            dependencies: ["Pipeline", "VideoIO", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings),
        // Full-text search over sidecars: an embedded SQLite FTS5 index (one machine, no database).
        .target(
            name: "Search",
            dependencies: ["Pipeline", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings),
        // Workers on many hosts sharing inboxes through PostgreSQL: job queue, leases, results, search.
        .target(
            name: "Cluster",
            dependencies: ["Daemon", "Pipeline", "Search", "VideoIO",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "VideoIO", "Model", "Generation", "Tensor", "Weights", "Pipeline", "Daemon", "Evaluation", "Conversion",
                "Search", "Cluster",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VideoIOTests",
            dependencies: ["VideoIO", "CFFmpeg", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model", "Tensor", "Weights", "Generation", "Conversion", "CHalf", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TokenizerTests",
            dependencies: ["Tokenizer"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ClusterTests",
            dependencies: ["Cluster", "Search", "Pipeline"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CLITests",
            dependencies: ["CLI", "Generation", "TestSupport"],
            swiftSettings: swiftSettings),
    ]
)

// `make fuzz` (docs/FUZZING.md): the libFuzzer binary, declared only when FLAMINGO_FUZZ=1 and built
// with `-sanitize=fuzzer,address` (it has no main: libFuzzer's runtime provides it).
if ProcessInfo.processInfo.environment["FLAMINGO_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "flamingo-fuzz",
        dependencies: ["VideoIO", "Weights", "Tokenizer", "Pipeline"],
        path: "Tests/Fuzz",
        exclude: ["corpus"],
        swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]))
}
