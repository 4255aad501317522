#!/usr/bin/env python3
"""Network benchmark: TCP throughput with iperf3 between the host's loopback
and a rootless network namespace, for cove-net, slirp4netns and pasta,
interleaved round by round; prints the median Gbit/s per row and tool, and
ratios. Plain loopback iperf3 on the host is the upper limit.

Traffic goes only to 127.0.0.1 and to 10.0.2.x inside the namespaces made
here. Every wait is bounded; every process started is killed at the end."""
import argparse, json, os, select, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cove-net", required=True)
p.add_argument("--runs", type=int, default=3)
p.add_argument("--seconds", type=int, default=5)
p.add_argument("--rows", default="", help="comma-separated row keys (c2h,h2c,fwd,fwdR); all by default")
p.add_argument("--tools", default="", help="comma-separated tools; all by default")
a = p.parse_args()

MTU = 65520
GATEWAY = "10.0.2.2"        # the host's loopback, seen from the namespace
CTR_PORT = 5201             # iperf3 server inside each namespace
TOOLS = ["cove-net", "slirp4netns", "pasta"]
ROWS = [("c2h", "container->host (10.0.2.2)"),
        ("h2c", "host->container (-R)"),
        ("fwd", "host->container (port fwd)"),
        ("fwdR", "container->host (port fwd -R)")]
if a.rows:
    ROWS = [r for r in ROWS if r[0] in a.rows.split(",")]
if a.tools:
    TOOLS = [t for t in TOOLS if t in a.tools.split(",")]

work = tempfile.mkdtemp(prefix="cove-bench-net-")
procs = []                  # every Popen started here, killed in cleanup()
logs = []


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, on_signal)


class Failed(Exception):
    pass


def start(argv, name, **kw):
    log = open(os.path.join(work, name + ".log"), "wb")
    logs.append(log)
    pr = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **kw)
    procs.append(pr)
    return pr


def log_tail(name):
    """The last meaningful line of a helper's log (pasta's own noise about
    syslog left out)."""
    try:
        lines = open(os.path.join(work, name + ".log"), errors="replace").read().splitlines()
    except OSError:
        return ""
    lines = [l.strip() for l in lines if l.strip() and not l.startswith("Failed to send")]
    return lines[-1] if lines else ""


def wait_for(what, check, proc=None, name=None, timeout=10.0):
    """Polls check() every 50 ms, at most timeout seconds; fails early if
    proc has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise Failed("%s exited with %s before %s%s" % (
                name, proc.returncode, what, (": " + log_tail(name)) if log_tail(name) else ""))
        time.sleep(0.05)
    raise Failed("timed out after %ds waiting for %s%s" % (
        timeout, what, (": " + log_tail(name)) if name and log_tail(name) else ""))


def listening(port, pid="self", addr=None):
    """Whether a TCP socket listens on port in the network namespace of pid
    (read from /proc/PID/net/tcp, no connection made)."""
    lines = []
    for table in ("tcp",) if addr else ("tcp", "tcp6"):
        try:
            lines += open("/proc/%s/net/%s" % (pid, table)).read().splitlines()[1:]
        except OSError:
            pass
    for l in lines:
        f = l.split()
        local, state = f[1], f[3]
        ip, prt = local.split(":")
        if state == "0A" and int(prt, 16) == port:
            if addr is None or ip == socket.inet_aton(addr)[::-1].hex().upper():
                return True
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def holder(name):
    """A process in new user (root mapped to us), network and mount
    namespaces: the 'container' whose namespaces the tools attach to."""
    pr = start(["unshare", "--user", "--map-root-user", "--net", "--mount", "sleep", "900"], name + "-holder")
    me = os.readlink("/proc/self/ns/net")

    def ready():
        try:
            return (os.readlink("/proc/%d/ns/net" % pr.pid) != me
                    and open("/proc/%d/comm" % pr.pid).read().strip() == "sleep")
        except OSError:
            return False
    wait_for("the namespace holder", ready, pr, name + "-holder", timeout=5)
    return pr.pid


def ns(pid):
    return ["nsenter", "--preserve-credentials", "-U", "-n", "-t", str(pid)]


def tap_ready(pid):
    r = subprocess.run(ns(pid) + ["ip", "-4", "-o", "addr", "show", "dev", "tap0"],
                       capture_output=True, text=True, timeout=5)
    return "10.0.2.100/" in r.stdout


def ns_server(name, pid):
    """iperf3 server inside the namespace, on CTR_PORT, for the forward row."""
    pr = start(ns(pid) + ["iperf3", "-s", "--forceflush", "-p", str(CTR_PORT)], name + "-iperf3")
    wait_for("iperf3 server in the namespace", lambda: listening(CTR_PORT, pid), pr, name + "-iperf3", 5)


def setup_cove(name):
    pid = holder(name)
    hp = free_port()
    argv = [a.cove_net, "--netns", "/proc/%d/ns/net" % pid, "--userns", "/proc/%d/ns/user" % pid,
            "--pid", str(pid), "--mtu", str(MTU), "--allow-host-loopback",
            "--publish", "127.0.0.1:%d:%d/tcp" % (hp, CTR_PORT)]
    pr = start(argv, name)
    wait_for("tap0 with 10.0.2.100", lambda: tap_ready(pid), pr, name)
    wait_for("the published port 127.0.0.1:%d" % hp, lambda: listening(hp, addr="127.0.0.1"), pr, name)
    return pid, hp


def slirp_api(path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(json.dumps(request).encode())
        s.shutdown(socket.SHUT_WR)
        data = b""
        while len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return json.loads(data or b"{}")


def setup_slirp(name):
    pid = holder(name)
    hp = free_port()
    api = os.path.join(work, "slirp.sock")
    rfd, wfd = os.pipe()
    try:
        pr = start(["slirp4netns", "--configure", "--mtu=%d" % MTU, "--api-socket", api,
                    "--ready-fd", str(wfd), str(pid), "tap0"], name, pass_fds=(wfd,))
    finally:
        os.close(wfd)
    try:
        r, _, _ = select.select([rfd], [], [], 10)
        ok = bool(r) and os.read(rfd, 1) == b"1"
    finally:
        os.close(rfd)
    if not ok:
        pr.poll()
        raise Failed("not ready after 10 s (exit %s)%s" % (
            pr.returncode, (": " + log_tail(name)) if log_tail(name) else ""))
    wait_for("tap0 with 10.0.2.100", lambda: tap_ready(pid), pr, name)
    reply = slirp_api(api, {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "127.0.0.1", "host_port": hp, "guest_port": CTR_PORT}})
    if "return" not in reply:
        raise Failed("add_hostfwd: %s" % json.dumps(reply)[:200])
    wait_for("the forwarded port 127.0.0.1:%d" % hp, lambda: listening(hp, addr="127.0.0.1"), pr, name)
    return pid, hp


def setup_pasta(name):
    pid = holder(name)
    hp = free_port()
    # IPv4 only, the same addresses as the others; the gateway is mapped to
    # the host's loopback (pasta's default, see --no-map-gw). Only the one
    # port forward: no automatic forwarding in either direction.
    argv = ["pasta", "-f", "-q", "-4", "--config-net", "-I", "tap0", "-m", str(MTU),
            "-a", "10.0.2.100", "-n", "24", "-g", GATEWAY, "--no-dhcp",
            "-t", "127.0.0.1/%d:%d" % (hp, CTR_PORT), "-u", "none", "-T", "none", "-U", "none", str(pid)]
    pr = start(argv, name)
    wait_for("tap0 with 10.0.2.100", lambda: tap_ready(pid), pr, name)
    wait_for("the forwarded port 127.0.0.1:%d" % hp, lambda: listening(hp, addr="127.0.0.1"), pr, name)
    return pid, hp


def iperf(argv, seconds):
    """One iperf3 client run; Gbit/s received."""
    try:
        r = subprocess.run(argv + ["-t", str(seconds), "-J"], capture_output=True, text=True,
                           timeout=seconds + 20)
    except subprocess.TimeoutExpired:
        raise Failed("iperf3 client timed out")
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise Failed("iperf3 exit %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-200:]))
    if out.get("error"):
        raise Failed("iperf3: " + out["error"])
    bps = out.get("end", {}).get("sum_received", {}).get("bits_per_second")
    if not bps:
        raise Failed("iperf3 reported no throughput")
    return bps / 1e9


def client_argv(tool, row, pid, hp):
    if row == "c2h":
        return ns(pid) + ["iperf3", "-c", GATEWAY, "-p", str(host_port)]
    if row == "h2c":
        return ns(pid) + ["iperf3", "-c", GATEWAY, "-p", str(host_port), "-R"]
    if row == "fwdR":
        return ["iperf3", "-c", "127.0.0.1", "-p", str(hp), "-R"]
    return ["iperf3", "-c", "127.0.0.1", "-p", str(hp)]


def cleanup():
    for pr in reversed(procs):
        if pr.poll() is None:
            try:
                pr.terminate()
            except OSError:
                pass
    deadline = time.monotonic() + 3
    for pr in procs:
        try:
            pr.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pr.kill()
            try:
                pr.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
    for log in logs:
        log.close()
    shutil.rmtree(work, ignore_errors=True)


why = {}                    # (tool, row) -> reason it failed here
results = {(t, r): [] for t in TOOLS for r, _ in ROWS}
loopback = []
try:
    host_port = free_port()
    hs = start(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(host_port)], "host-iperf3")
    wait_for("the host's iperf3 server", lambda: listening(host_port, addr="127.0.0.1"), hs, "host-iperf3", 5)

    setups = {"cove-net": setup_cove, "slirp4netns": setup_slirp, "pasta": setup_pasta}
    env = {}
    for tool in TOOLS:
        exe = a.cove_net if tool == "cove-net" else tool
        if shutil.which(exe) is None:
            for r, _ in ROWS:
                why[(tool, r)] = "not installed"
            continue
        try:
            env[tool] = setups[tool](tool)
            ns_server(tool, env[tool][0])
        except Failed as e:
            for r, _ in ROWS:
                why[(tool, r)] = str(e)
            env.pop(tool, None)

    # One short run per cell: checks it works here, and warms up.
    for r, _ in ROWS:
        for tool in TOOLS:
            if tool in env:
                try:
                    iperf(client_argv(tool, r, *env[tool]), 1)
                except Failed as e:
                    why[(tool, r)] = str(e)

    for _ in range(a.runs):
        for r, _ in ROWS:
            for tool in TOOLS:
                if tool in env and (tool, r) not in why:
                    try:
                        results[(tool, r)].append(iperf(client_argv(tool, r, *env[tool]), a.seconds))
                    except Failed as e:
                        print("%s %s: one run failed: %s" % (tool, r, e), file=sys.stderr)
        try:
            loopback.append(iperf(["iperf3", "-c", "127.0.0.1", "-p", str(host_port)], a.seconds))
        except Failed as e:
            print("loopback: one run failed: %s" % e, file=sys.stderr)

    def med(t, r):
        v = results.get((t, r))
        return statistics.median(v) if v else None

    def cell(v):
        return "%9.2f" % v if v is not None else "%9s" % "n/a"

    print("TCP throughput, iperf3 -t %d, MTU %d, %d interleaved runs each, median Gbit/s"
          % (a.seconds, MTU, a.runs))
    print("%-28s %9s %11s %9s %12s %10s" % ("", "cove-net", "slirp4netns", "pasta", "cove/slirp", "cove/pasta"))
    for r, label in ROWS:
        c, s, pa = med("cove-net", r), med("slirp4netns", r), med("pasta", r)
        ratio = lambda x, y: "%.2f" % (x / y) if x is not None and y else "n/a"
        print("%-28s %s %11s %s %12s %10s" % (label, cell(c), cell(s).strip(), cell(pa), ratio(c, s), ratio(c, pa)))
    if loopback:
        print("%-28s %9.2f  (plain iperf3 over 127.0.0.1, upper limit)" % ("host loopback", statistics.median(loopback)))
    else:
        print("%-28s failed here" % "host loopback")
    # Who the server inside saw connect through the port forward: pasta and
    # cove-net splice a connection from the host's loopback to the
    # namespace's (peer 127.0.0.1, the client's own address); slirp4netns
    # goes through the tap (peer 10.0.2.2).
    peers = []
    for tool in TOOLS:
        if tool in env:
            try:
                text = open(os.path.join(work, tool + "-iperf3.log"), errors="replace").read()
            except OSError:
                text = ""
            seen = sorted({l.split("Accepted connection from ")[1].split(",")[0]
                           for l in text.splitlines() if "Accepted connection from " in l})
            peers.append("%s %s" % (tool, "/".join(seen) or "?"))
    if peers:
        print("port fwd, peer seen inside: " + ", ".join(peers) + " (127.0.0.1 = a splice path)")
    for r, label in ROWS:
        for tool in TOOLS:
            if (tool, r) in why:
                print("%s failed here: %s: %s" % (tool, label, why[(tool, r)]))
            elif not results[(tool, r)]:
                print("%s failed here: %s: every run failed" % (tool, label))
except Failed as e:
    print("bench-net failed here: %s" % e)
    sys.exit(1)
finally:
    cleanup()
