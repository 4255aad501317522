#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// cove-unshare: the OCI runtime. Synchronous and single-threaded, because
/// unshare(CLONE_NEWUSER) and setns fail in a process with other threads.
let version = "0.1.0"

func usage() -> String {
    """
    usage: cove-unshare [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID

    An OCI runtime for unprivileged users.

    commands:
      create    create a container from a bundle; it waits for start
      start     run the created container's process
      state     print a container's state as JSON
      kill      send a signal to a container's init (default SIGTERM)
      delete    remove a stopped container (--force: kill it first)
      run       create and start a container, and wait for it unless --detach
      list      list containers
      spec      write a default config.json (--rootless for an unprivileged user)
      features  print what this runtime supports, as JSON
      exec      run another process in a running container
      ps        list a container's processes
    """
}

func main() -> Int32 {
    // As a container's init (`--init`): bind-mounted at /dev/init.
    if CommandLine.arguments.first.map({ $0.hasSuffix("/init") || $0 == "init" }) == true {
        return InitProcess.run(Array(CommandLine.arguments.dropFirst()))
    }
    RuntimeLog.startedAt = Clock.monotonicMilliseconds()
    let argv = Array(CommandLine.arguments.dropFirst())
    let args: Arguments
    do { args = try Arguments(argv) } catch {
        RuntimeLog.configure(path: nil, format: .text, debug: false)
        RuntimeLog.logger.error("\(error)")
        return 1
    }
    RuntimeLog.configure(path: args.logPath, format: args.logFormat, debug: args.debug)
    do {
        switch args.command {
        case "help": print(usage()); return 0
        case "version":
            print("cove-unshare version \(version)\nspec: 1.2.1")
            return 0
        case "spec": return try Commands.spec(args)
        case "features": return Commands.features()
        default: break
        }
        let store = try StateStore(root: args.root)
        switch args.command {
        case "create": return try Commands.create(args, store: store)
        case "run": return try Commands.run(args, store: store)
        case "start": return try Commands.start(args, store: store)
        case "state": return try Commands.state(args, store: store)
        case "kill": return try Commands.kill(args, store: store)
        case "delete": return try Commands.delete(args, store: store)
        case "list": return try Commands.list(args, store: store)
        case "exec": return try Exec.run(args, store: store)
        case "ps": return try Commands.ps(args, store: store)
        default:
            RuntimeLog.logger.error("unknown command \(args.command)")
            return 1
        }
    } catch is CallerGaveUp {
        // The caller reports its own failure.
        return 1
    } catch {
        RuntimeLog.logger.error("\(error)")
        if args.command == "run" || args.command == "exec", let code = (error as? RuntimeError)?.exitCode { return code }
        return 1
    }
}

exit(main())
