// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "MLungAudit",
    products: [
        .executable(name: "mlung-audit", targets: ["MLungAuditCLI"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "Audit", targets: ["Audit"]),
        .library(name: "Reports", targets: ["Reports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries, each in its own small target, imported by one library only.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCairo",
            path: "Sources/CCairo",
            pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]
        ),
        // C shim over DCMTK (C++): opaque handles, a pure-C header, exceptions caught at every entry.
        .target(
            name: "CDCMTK",
            path: "Sources/CDCMTK",
            cxxSettings: [.headerSearchPath("."), .define("HAVE_CONFIG_H")],
            linkerSettings: [
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmjpeg"), .linkedLibrary("ijg8"),
                .linkedLibrary("ijg12"), .linkedLibrary("ijg16"), .linkedLibrary("dcmimgle"),
                .linkedLibrary("dcmdata"), .linkedLibrary("oflog"), .linkedLibrary("ofstd"),
                .linkedLibrary("z"), .linkedLibrary("stdc++"),
            ]
        ),

        // Tensors, kernels and the MLung-Sys networks. Knows nothing of DICOM, SQL or PDF.
        .target(
            name: "Model",
            dependencies: ["CBLAS"],
            path: "Sources/Model"
        ),
        // Cohorts, ingestion, preprocessing, runs, metrics, drift, failure modes, the store.
        .target(
            name: "Audit",
            dependencies: ["Model", "CDCMTK", "CSQLite"],
            path: "Sources/Audit"
        ),
        // PDF reports, plots and the gallery.
        .target(
            name: "Reports",
            dependencies: ["Audit", "CCairo", .product(name: "Mustache", package: "swift-mustache")],
            path: "Sources/Reports"
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "MLungAuditCLI",
            dependencies: [
                "Model", "Audit", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/MLungAuditCLI"
        ),

        .testTarget(
            name: "ModelTests",
            dependencies: ["Model"],
            path: "Tests/ModelTests"
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["MLungAuditCLI", "Model", "Audit"],
            path: "Tests/CLITests"
        ),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Audit"],
            path: "Tests/ReportsTests"
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit", "Model"],
            path: "Tests/AuditTests"
        ),
    ],
    cxxLanguageStandard: .cxx17
)
