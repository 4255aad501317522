#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// cove-fs: layers unpacked safely, and root filesystems probed and
/// assembled, as root of a user namespace mapped like the container's.
/// Synchronous and single-threaded: it forks children that are cloned
/// into new user namespaces, which a multithreaded process cannot do.
let version = "0.1.0"

func usage() -> String {
    """
    usage: cove-fs COMMAND [OPTIONS]

    Layered root filesystems for cove, worked on inside a user namespace
    mapped like the container's (you as 0, your /etc/subuid range from 1).

    commands:
      unpack --blob PATH --diff-id sha256:HEX --into DIR [--lower DIR]... [--max-size BYTES] [--max-entries N]
                unpack a layer (tar; gzip, zstd or none) into DIR, checked
                against its diff_id; --lower: the layers below, top first
      remove DIR...
                remove trees that hold files of your subordinate ids
      probe --dir DIR
                print the storage driver that works in DIR, as JSON
      copy --layer DIR... --into DIR [--path DIR]
                apply unpacked layers, bottom first, into a new DIR; with
                --path only what they hold below that image directory

    Failures print one line on stderr and exit 125.
    """
}

func say(_ text: String, fd: Int32) {
    if text.isEmpty { return }
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

func warnIfSingleID() {
    guard UserNamespace.singleID else { return }
    let user = Environment.userName ?? String(getuid())
    say("cove-fs: warning: no /etc/subuid and /etc/subgid range for \(user): every owner becomes root "
        + "(an admin adds one with `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user)`)\n", fd: 2)
}

func main() -> Int32 {
    // libarchive converts entry names through the locale's charset: UTF-8
    // names (pax "path") come through unchanged under C.UTF-8.
    _ = setlocale(LC_ALL, "C.UTF-8")
    let argv = Array(CommandLine.arguments.dropFirst())
    do {
        let args = try FsArguments(argv)
        switch args.command {
        case "help": say(usage() + "\n", fd: 1); return 0
        case "version": say("cove-fs version \(version)\n", fd: 1); return 0
        default: break
        }
        // unshare(CLONE_NEWUSER) fails in a multithreaded process.
        let threads = Environment.threadCount()
        if threads != 1 { throw FsError("cove-fs must run single-threaded, found \(threads) threads") }
        switch args.command {
        case "unpack":
            let diffID = try args.required("--diff-id")
            let hex = diffID.hasPrefix("sha256:") ? diffID.dropFirst(7) : ""
            guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw FsError("--diff-id \(diffID): not sha256: and 64 lower-case hex digits")
            }
            let opts = LayerUnpack.Options(
                blob: Files.absolute(try args.required("--blob")), diffID: diffID,
                into: Files.absolute(try args.required("--into")),
                lowers: (args.lists["--lower"] ?? []).map { Files.absolute($0) },
                maxSize: try args.number("--max-size", default: 64 << 30),
                maxEntries: try args.number("--max-entries", default: 1_000_000),
                collapseOwners: UserNamespace.singleID)
            warnIfSingleID()
            let notes = try UserNamespace.run(title: "cove-fs unpack") { try LayerUnpack(options: opts).run() }
            say(notes, fd: 2)
        case "remove":
            try Remove.run(args.operands)
        case "probe":
            say(try Probe.run(dir: try args.required("--dir")), fd: 1)
        case "copy":
            let layers = (args.lists["--layer"] ?? []).map { Files.absolute($0) }
            guard !layers.isEmpty else { throw FsError("copy needs at least one --layer DIR") }
            let into = Files.absolute(try args.required("--into"))
            warnIfSingleID()
            let notes = try UserNamespace.run(title: "cove-fs copy") {
                var driver = CopyDriver(layers: layers, into: into)
                driver.subpath = (args.values["--path"] ?? "").split(separator: "/").map(String.init)
                if driver.subpath.contains(where: { $0 == ".." || $0 == "." }) {
                    throw FsError("--path \(args.values["--path"] ?? ""): give a plain absolute path, no . or ..")
                }
                return try driver.run()
            }
            say(notes, fd: 2)
        default:
            throw FsError("unknown command \(args.command)")
        }
        if args.command != "unpack" && args.command != "copy" && !args.operands.isEmpty && args.command != "remove" {
            throw FsError("\(args.command) takes no operands: \(args.operands.joined(separator: " "))")
        }
        return 0
    } catch {
        say("cove-fs: \(error)\n", fd: 2)
        return 125
    }
}

exit(main())
