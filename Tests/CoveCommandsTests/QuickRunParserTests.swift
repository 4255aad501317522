import ArgumentParser
import Testing
@testable import CoveCommands

/// The quick parser of `cove run`/`cove create` must read a command line
/// exactly as ArgumentParser reads it through RunFlags, or leave it to
/// ArgumentParser (nil).
struct QuickRunParserTests {
    static let taken: [[String]] = [
        ["img"],
        ["img", "true"],
        ["--rm", "img", "echo", "hi"],
        ["-it", "img", "sh"],
        ["-dit", "--name", "web", "img"],
        ["-d", "-i", "-t", "img"],
        ["--rm", "--network", "none", "img", "true"],
        ["--rm", "--network=none", "img", "true"],
        ["--net", "host", "img"],
        ["-e", "A=1", "--env", "B=2", "--env=C=3", "img", "env"],
        ["--env-file", "f1", "--env-file=f2", "img"],
        ["-v", "/a:/b", "--volume", "/c:/d:ro", "--mount", "type=tmpfs,target=/t", "--tmpfs", "/run", "img"],
        ["-p", "8080:80", "--publish", "127.0.0.1:9000-9001:90-91/udp", "img"],
        ["-w", "/tmp", "-u", "1000:1000", "--entrypoint", "/bin/sh", "--hostname", "box", "img", "-c", "id"],
        ["--cap-add", "NET_ADMIN", "--cap-drop", "ALL", "--privileged", "--read-only", "--read-only-tmpfs", "false",
         "img"],
        ["--security-opt", "no-new-privileges", "--security-opt=seccomp=unconfined", "--userns", "keep-id", "img"],
        ["--init", "--stop-signal", "TERM", "--stop-timeout", "3", "-l", "a=b", "--label", "c", "img"],
        ["--pull", "never", "-m", "64m", "--cpus", "1.5", "--pids-limit", "100", "img"],
        ["--memory", "32m", "img"],
        ["--root", "/tmp/r", "--log-opt", "max-size=4k", "--platform", "linux/amd64", "--tls-verify=false", "img"],
        ["--tls-verify", "true", "img", "--rm", "-e", "X"],
        ["img", "ls", "-la", "--", "-x"],
    ]

    @Test(arguments: taken)
    func agreesWithArgumentParser(argv: [String]) throws {
        let quick = try #require(QuickRunParser.parse(argv), "the quick parser should take \(argv)")
        let reference = try RunFlags.parse(argv).args
        #expect(quick == reference)
    }

    static let leftToArgumentParser: [[String]] = [
        [], ["--help"], ["-h"], ["--rm"], ["--name"], ["--name", "-x", "img"], ["--name", "a", "--name", "b", "img"],
        ["--rm=true", "img"], ["-eA=1", "img"], ["-x", "img"], ["--bogus", "img"], ["--stop-timeout", "soon", "img"],
        ["--tls-verify", "maybe", "img"], ["-", "img"], ["--", "img"], ["--name=", "img"], ["-m", "1", "--memory", "2", "img"],
    ]

    @Test(arguments: leftToArgumentParser)
    func leavesTheRestToArgumentParser(argv: [String]) {
        #expect(QuickRunParser.parse(argv) == nil)
    }

    /// Every long option of the table is one ArgumentParser knows.
    @Test func everyNameInTheTableIsRunFlags() throws {
        for name in QuickRunParser.names {
            let kind = try #require(QuickRunParser.kind(name), "--\(name)")
            var argv = ["--" + name]
            switch kind {
            case .flag: break
            case .number: argv.append("1")
            case .boolean: argv.append("false")
            default: argv.append("x")
            }
            let reference = try RunFlags.parse(argv + ["img"]).args
            #expect(QuickRunParser.parse(argv + ["img"]) == reference, "--\(name)")
        }
    }
}
