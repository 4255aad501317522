// swift-tools-version:6.0
import PackageDescription

// Helpers (cove-unshare, cove-net, cove-fs) are synchronous, single-threaded
// programs: they import CoveLinux and CoveModel only, never Foundation, NIO or
// an HTTP client, so that they start in about a millisecond and can unshare.
// The one exception is cove-registry, the only program with the HTTP stack,
// which the front starts for pulls and logins: keeping that stack out of the
// front saves every `cove run` from loading it.
// Helpers link fully static: no dynamic loader, no shared libraries to map.
// That halves their start (1.2 ms against 2.6 ms for a static Swift
// stdlib over a dynamic glibc, measured with a hello world here).
let staticExecutable: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]

let package = Package(
    name: "cove",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cove", targets: ["cove"]),
        .executable(name: "cove-unshare", targets: ["cove-unshare"]),
        .executable(name: "cove-net", targets: ["cove-net"]),
        .executable(name: "cove-fs", targets: ["cove-fs"]),
        .executable(name: "cove-registry", targets: ["cove-registry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
    ],
    targets: [
        // C: only what Swift's Glibc module does not expose.
        .target(name: "CCoveShim"),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CSlirp", pkgConfig: "slirp",
                       providers: [.apt(["libslirp-dev", "libglib2.0-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),

        // SHA-256 in C: the x86-64 SHA extensions, else portable code.
        .target(name: "CSHA256", cSettings: [.unsafeFlags(["-O2"])]),
        // Codable-free OCI types, JSON, wire messages, errors, digests. No I/O.
        .target(name: "CoveModel", dependencies: ["CSHA256"]),
        // Typed synchronous syscall wrappers.
        .target(name: "CoveLinux", dependencies: [
            "CCoveShim", "CCap", "CSeccomp", "CoveModel",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The image store: content-addressed blobs (hashed by CoveModel's
        // SHA256), names, archives, references. No network, no Foundation:
        // the front links it.
        .target(name: "CoveImages", dependencies: ["CoveModel", "CoveLinux", "CArchive"]),
        // The registry client (async-http-client over swift-nio) and the
        // puller. Only cove-registry links it: the front stays small, so
        // `cove run` does not pay, at every start, for loading and scanning
        // an HTTP stack it rarely uses.
        .target(name: "CoveRegistry", dependencies: [
            "CoveModel", "CoveLinux", "CoveImages",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "CoveEngine", dependencies: [
            "CoveModel", "CoveImages", "CoveLinux",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "CoveCommands", dependencies: [
            "CoveEngine", "CoveImages", "CoveModel", "CoveLinux",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "cove", dependencies: ["CoveCommands"]),

        .executableTarget(name: "cove-unshare", dependencies: [
            "CoveLinux", "CoveModel",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Helpers/unshare", linkerSettings: staticExecutable),
        // Not fully static: Debian ships libslirp as a shared library only
        // (no libslirp.a). The Swift runtime is still linked in statically.
        .executableTarget(name: "cove-net", dependencies: ["CoveLinux", "CoveModel", "CSlirp"],
                          path: "Helpers/net", linkerSettings: [.unsafeFlags(["-static-stdlib"])]),
        // Not fully static either: Debian has no libzstd.a, liblz4.a or
        // libacl.a for libarchive's static link. The Swift runtime is static.
        .executableTarget(name: "cove-fs", dependencies: ["CoveLinux", "CoveModel", "CArchive"],
                          path: "Helpers/fs", linkerSettings: [.unsafeFlags(["-static-stdlib"])]),
        // Pulls and registry logins, for the front (`cove pull`, `cove run`
        // of an image not yet here, `cove login`).
        .executableTarget(name: "cove-registry", dependencies: ["CoveRegistry", "CoveImages", "CoveLinux", "CoveModel"],
                          path: "Helpers/registry"),

        .testTarget(name: "CoveModelTests", dependencies: ["CoveModel"]),
        .testTarget(name: "CoveLinuxTests", dependencies: ["CoveLinux", "CoveModel"]),
        .testTarget(name: "CoveEngineTests", dependencies: ["CoveEngine"]),
        .testTarget(name: "CoveImagesTests", dependencies: ["CoveImages", "CoveLinux", "CoveModel", "CArchive"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CoveModel"], exclude: ["Fixtures"]),
    ]
)
