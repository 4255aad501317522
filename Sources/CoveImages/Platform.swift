#if canImport(Glibc)
import Glibc
#endif
import CoveModel

/// `os/arch[/variant]` as in an image index, with containerd's
/// normalization: `aarch64` is `arm64`, arm64's default variant is v8 and
/// arm's is v7, `x86_64` is `amd64`.
public struct Platform: Equatable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os.lowercased()
        (self.architecture, self.variant) = Self.normalize(architecture.lowercased(), variant?.lowercased())
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), !parts.contains(where: \.isEmpty) else {
            throw ImageError("invalid platform \"\(text)\": write os/arch or os/arch/variant, e.g. linux/arm64")
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// This machine, as Go's GOOS/GOARCH name it.
    public static var host: Platform {
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        switch machine {
        case "armv7l", "armv7": return Platform(os: "linux", architecture: "arm", variant: "v7")
        case "armv6l": return Platform(os: "linux", architecture: "arm", variant: "v6")
        default: return Platform(os: "linux", architecture: machine)
        }
    }

    static func normalize(_ arch: String, _ variant: String?) -> (String, String?) {
        switch arch {
        case "x86_64", "x86-64": return ("amd64", variant)
        case "aarch64", "arm64": return ("arm64", variant == nil || variant == "8" ? "v8" : variant)
        case "armhf": return ("arm", "v7")
        case "armel": return ("arm", "v6")
        case "arm":
            guard let variant else { return ("arm", "v7") }
            return ("arm", variant.hasPrefix("v") ? variant : "v" + variant)
        case "i386", "i686", "386": return ("386", variant)
        default: return (arch, variant)
        }
    }

    public var description: String {
        "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "")
    }

    /// Whether an index entry's platform serves this one: os and
    /// architecture equal, and the variant equal where this one names one.
    public func matches(_ offered: Platform) -> Bool {
        guard os == offered.os, architecture == offered.architecture else { return false }
        guard let variant else { return true }
        return offered.variant == variant
    }

    /// The manifest for this platform among an index's entries: the first
    /// that matches exactly, else the first of the right os and arch.
    /// Entries without a platform (attestations, as buildkit writes them
    /// with `unknown/unknown`) never match.
    public func select<T>(_ entries: [(platform: Platform?, item: T)]) -> T? {
        let candidates = entries.compactMap { e in e.platform.map { ($0, e.item) } }
        if let exact = candidates.first(where: { $0.0 == self }) { return exact.1 }
        return candidates.first(where: { matches($0.0) })?.1
    }

    /// An index entry's `platform` object, nil when it has none.
    package init?(json: JSON?) {
        guard let json, let os = json["os"]?.stringValue, let arch = json["architecture"]?.stringValue else { return nil }
        self.init(os: os, architecture: arch, variant: json["variant"]?.stringValue)
    }
}
