#!/usr/bin/env python3
"""Man pages and shell completions for cove, generated from its command tree.

    gen-docs.py COVE OUTDIR

writes OUTDIR/Man/cove.1, OUTDIR/Man/cove-run.1, ... (one page a command,
from `cove --experimental-dump-help`, swift-argument-parser's JSON of the
tree) and OUTDIR/completions/cove.bash, _cove, cove.fish (from `cove
--generate-completion-script`). `make docs` writes them into the source
tree; IntegrationTests/DocsCurrencyTests regenerates them and compares.

Pages carry no date, so a page changes only when the command tree does.
swift-argument-parser's own generate-manual plugin is not used: it names
pages cove.run.1 rather than cove-run.1, dates them, and writes only into
the plugin's work directory.
"""
import json
import os
import subprocess
import sys

# podman's global flags, taken off the command line before the command
# tree parses it (Sources/CoveCommands/GlobalOptions.swift), so they are not
# in the dump.
GLOBAL_OPTIONS = [
    ("--root", "dir", "Where images, layers and container data live (default $XDG_DATA_HOME/cove, "
                      "else ~/.local/share/cove)."),
    ("--runroot", "dir", "Where runtime state lives (default $XDG_RUNTIME_DIR/cove, else /tmp/cove-$UID)."),
    ("--log-level", "level", "How much the helpers log: error, warning, info or debug."),
    ("--storage-driver", "name", "The root filesystem driver: overlay, fuse-overlayfs or copy."),
]

EXIT_STATUS = (
    "125 when cove itself fails (bad flags, a missing image, a setup error); "
    "126 when the container's command cannot be invoked; 127 when it is not found; "
    "otherwise the container's own exit code."
)


def esc(text):
    """Text for a roff line: backslashes and dashes escaped, no leading dot."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def page_name(cmd):
    return "-".join((cmd.get("superCommands") or []) + [cmd["commandName"]])


def flag_names(arg):
    names = arg.get("names") or []
    # short first, as --help shows them
    names = sorted(names, key=lambda n: 0 if n["kind"] == "short" else 1)
    out = []
    for n in names:
        dash = "-" if n["kind"] in ("short", "longWithSingleDash") else "--"
        out.append("\\fB" + esc(dash + n["name"]) + "\\fR")
    return ", ".join(out)


def synopsis(cmd):
    words = ["\\fB" + esc(" ".join((cmd.get("superCommands") or []) + [cmd["commandName"]])) + "\\fR"]
    args = [a for a in cmd.get("arguments") or [] if a.get("shouldDisplay", True)]
    if any(a["kind"] != "positional" for a in args):
        words.append("[\\fIoptions\\fR]")
    for a in args:
        if a["kind"] != "positional":
            continue
        v = "\\fI" + esc(a.get("valueName", "value")) + "\\fR" + ("..." if a.get("isRepeating") else "")
        words.append("[" + v + "]" if a.get("isOptional") else v)
    if cmd.get("subcommands"):
        words.append("\\fIsubcommand\\fR")
    return " ".join(words)


def render(cmd, version, all_pages):
    name = page_name(cmd)
    out = [
        '.TH "%s" "1" "" "cove %s" "cove manual"' % (esc(name.upper()), version),
        ".SH NAME",
        "%s \\- %s" % (esc(name), esc(cmd.get("abstract", ""))),
        ".SH SYNOPSIS",
        synopsis(cmd),
        ".SH DESCRIPTION",
        esc(cmd.get("abstract", "")),
    ]
    if cmd.get("discussion"):
        out += [".PP", esc(cmd["discussion"])]
    args = [a for a in cmd.get("arguments") or [] if a.get("shouldDisplay", True)]
    positionals = [a for a in args if a["kind"] == "positional"]
    options = [a for a in args if a["kind"] != "positional"]
    if positionals:
        out.append(".SH ARGUMENTS")
        for a in positionals:
            out += [".TP", "\\fI" + esc(a.get("valueName", "value")) + "\\fR", esc(a.get("abstract", ""))]
    if options:
        out.append(".SH OPTIONS")
        for a in options:
            head = flag_names(a)
            if a["kind"] == "option":
                head += " \\fI" + esc(a.get("valueName", "value")) + "\\fR"
            text = a.get("abstract", "")
            if a.get("allValues"):
                text += " One of: " + ", ".join(a["allValues"]) + "."
            if a.get("defaultValue") not in (None, "", "false"):
                text += " Default: " + a["defaultValue"] + "."
            if a.get("isRepeating") and a["kind"] == "option":
                text += " May be given more than once."
            out += [".TP", head, esc(text.strip())]
    if not cmd.get("superCommands"):
        out.append(".SH GLOBAL OPTIONS")
        out.append(esc("Given before the command, as podman's: cove --root DIR run ..."))
        for flag, value, text in GLOBAL_OPTIONS:
            out += [".TP", "\\fB%s\\fR \\fI%s\\fR" % (esc(flag), esc(value)), esc(text)]
    if cmd.get("subcommands"):
        out.append(".SH COMMANDS")
        for s in cmd["subcommands"]:
            if s["commandName"] == "help":
                continue
            out += [".TP", "\\fB%s\\fR(1)" % esc(page_name(s)), esc(s.get("abstract", ""))]
    out += [".SH EXIT STATUS", esc(EXIT_STATUS)]
    see = ["cove(1)"] if name != "cove" else []
    see += ["%s(1)" % p for p in all_pages if p != name and p.startswith(name + "-") and p.count("-") == name.count("-") + 1]
    if name == "cove":
        see += ["cove-unshare(1)", "cove-fs(1)", "cove-net(1)", "cove-registry(1)"]
    out += [".SH SEE ALSO", esc(", ".join(see))]
    return "\n".join(out) + "\n"


def walk(cmd, parents):
    cmd = dict(cmd)
    if parents:
        cmd["superCommands"] = parents
    yield cmd
    for s in cmd.get("subcommands") or []:
        if s["commandName"] == "help":
            continue
        yield from walk(s, parents + [cmd["commandName"]])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-docs.py COVE OUTDIR")
    cove, outdir = sys.argv[1], sys.argv[2]
    dump = json.loads(subprocess.run([cove, "--experimental-dump-help"], check=True,
                                     capture_output=True, text=True).stdout)
    version = subprocess.run([cove, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    commands = list(walk(dump["command"], []))
    pages = [page_name(c) for c in commands]
    os.makedirs(os.path.join(outdir, "Man"), exist_ok=True)
    for c in commands:
        with open(os.path.join(outdir, "Man", page_name(c) + ".1"), "w") as f:
            f.write(render(c, version, pages))
    os.makedirs(os.path.join(outdir, "completions"), exist_ok=True)
    for shell, file in (("bash", "cove.bash"), ("zsh", "_cove"), ("fish", "cove.fish")):
        script = subprocess.run([cove, "--generate-completion-script", shell], check=True,
                                capture_output=True, text=True).stdout
        with open(os.path.join(outdir, "completions", file), "w") as f:
            f.write(script)


if __name__ == "__main__":
    main()
