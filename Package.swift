// swift-tools-version:6.0
import PackageDescription

// Helpers (cove-unshare, cove-net, cove-fs) are synchronous, single-threaded
// programs: they import CoveLinux and CoveModel only, never Foundation, NIO or
// an HTTP client, so that they start in about a millisecond and can unshare.
// Helpers link fully static: no dynamic loader, no shared libraries to map.
// That halves their start (1.2 ms against 2.6 ms for a static Swift
// stdlib over a dynamic glibc, measured with a hello world here).
//
// The front is fully static too, for the same reason: it starts every
// container. What would keep it dynamic lives in cove-transfer instead, the
// helper that moves images in and out of the store (pull, load, import,
// save, and login checks): the HTTP stack (async-http-client, swift-nio,
// swift-crypto, Foundation) and libarchive (Debian has no static libzstd,
// liblz4 or libacl for it).
let staticExecutable: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]

let package = Package(
    name: "cove",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cove", targets: ["cove"]),
        .executable(name: "cove-unshare", targets: ["cove-unshare"]),
        .executable(name: "cove-net", targets: ["cove-net"]),
        .executable(name: "cove-fs", targets: ["cove-fs"]),
        .executable(name: "cove-transfer", targets: ["cove-transfer"]),
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
        // SHA256), names, references, auth.json. No network, no Foundation,
        // no libarchive: the front links it.
        .target(name: "CoveImages", dependencies: ["CoveModel", "CoveLinux"]),
        // Image archives and tarballs (libarchive): docker-archive and
        // oci-archive in and out, root filesystem tarballs in.
        .target(name: "CoveArchives", dependencies: ["CoveModel", "CoveLinux", "CoveImages", "CArchive"]),
        // The registry client (async-http-client over swift-nio) and the
        // puller. Only cove-transfer links it.
        .target(name: "CoveRegistry", dependencies: [
            "CoveModel", "CoveLinux", "CoveImages", "CoveArchives",
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
        .executableTarget(name: "cove", dependencies: ["CoveCommands"], linkerSettings: staticExecutable + [
            // ArgumentParser uses FoundationEssentials; a static executable
            // must name what that needs itself.
            .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"),
        ]),

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
        // Images in and out of the store, for the front: `cove pull` (and
        // `cove run`'s pull), `cove login`'s check, load, import, save.
        .executableTarget(name: "cove-transfer", dependencies: ["CoveRegistry", "CoveArchives", "CoveEngine", "CoveImages", "CoveLinux", "CoveModel"],
                          path: "Helpers/transfer"),

        .testTarget(name: "CoveModelTests", dependencies: ["CoveModel"]),
        .testTarget(name: "CoveLinuxTests", dependencies: ["CoveLinux", "CoveModel"]),
        .testTarget(name: "CoveEngineTests", dependencies: ["CoveEngine"]),
        .testTarget(name: "CoveCommandsTests", dependencies: [
            "CoveCommands", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "CoveImagesTests", dependencies: ["CoveImages", "CoveArchives", "CoveLinux", "CoveModel", "CArchive"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CoveModel"], exclude: ["Fixtures"]),
    ]
)
