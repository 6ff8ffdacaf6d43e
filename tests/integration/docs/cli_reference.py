#!/usr/bin/env python3
"""docs/cli.md against `gantry --help`: the same commands, the same flags, the same usage lines.

  cli_reference.py GANTRY_BINARY docs/cli.md

Walks the binary's help (`gantry --help`, then `gantry <command> --help` for every subcommand it
lists, recursively). docs/cli.md must have, for every command, a section headed
"## gantry <command>" whose ```text block holds the help's usage line ("gantry rollout get
[OPTIONS] NAME"), and a table whose first column lists exactly the command's flags
("`-n, --namespace NS`"; --help is implied). Sections for commands that do not exist fail too.
Exit 0 when all match, 1 with one line per difference.
"""
import re
import subprocess
import sys


def run_help(binary, words):
    out = subprocess.run([binary, *words, "--help"], capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


def parse_help(text):
    """(usage, flags, subcommands) of one help page."""
    usage, flags, subs, section = "", set(), [], None
    for line in text.split("\n"):
        if line.startswith("Usage: "):
            usage = " ".join(line[len("Usage: "):].split())
            continue
        if re.match(r"^[A-Z][a-z]+:$", line):
            section = line[:-1]
            continue
        if section == "Options":
            m = re.match(r"^\s{2}(-\w,)?(--[a-z0-9-]+)", line)
            if m:
                names = {m.group(2)} | ({m.group(1)[:-1]} if m.group(1) else set())
                flags |= names - {"--help", "-h"}
        elif section == "Subcommands":
            m = re.match(r"^\s{2}([a-z][a-z0-9-]*)\s", line)
            if m:
                subs.append(m.group(1))
    return usage, flags, subs


def commands(binary, words=()):
    """{('rollout', 'get'): (usage, flags)} for the binary and every subcommand."""
    usage, flags, subs = parse_help(run_help(binary, list(words)))
    found = {tuple(words): (usage, flags)}
    for s in subs:
        found.update(commands(binary, (*words, s)))
    return found


def parse_doc(path):
    """{('rollout', 'get'): {'line': N, 'usage': [...], 'flags': set()}} from the Markdown."""
    sections, current, in_text = {}, None, False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = re.match(r"^## `?gantry((?: [a-z][a-z0-9-]*)*)`?\s*$", line)
            if m:
                words = tuple(m.group(1).split())
                current = sections.setdefault(words, {"line": n, "usage": [], "flags": set()})
                in_text = False
                continue
            if line.startswith("## "):
                current = None
                continue
            if current is None:
                continue
            if line.startswith("```"):
                in_text = not in_text and line.strip() in ("```text", "```")
                continue
            if in_text:
                current["usage"].append(" ".join(line.split()))
            elif line.startswith("| `-"):
                first = line.split("|")[1]
                current["flags"] |= set(re.findall(r"(?<![\w-])(--[a-z0-9-]+|-[a-zA-Z])\b", first))
    return sections


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, doc = argv[1], argv[2]
    have = commands(binary)
    documented = parse_doc(doc)
    problems = []
    for words, (usage, flags) in sorted(have.items()):
        name = " ".join(("gantry", *words))
        section = documented.get(words)
        if section is None:
            problems.append(f"{doc}: no section '## {name}' (usage: {usage})")
            continue
        where = f"{doc}:{section['line']} ({name})"
        if usage not in section["usage"]:
            problems.append(f"{where}: the usage line '{usage}' is not in its ```text block")
        for flag in sorted(flags - section["flags"]):
            problems.append(f"{where}: flag {flag} of `{name} --help` is not documented")
        for flag in sorted(section["flags"] - flags):
            problems.append(f"{where}: documents flag {flag}, which `{name} --help` does not have")
    for words, section in sorted(documented.items()):
        if words not in have:
            problems.append(f"{doc}:{section['line']}: section for 'gantry {' '.join(words)}', "
                            "which is no command of the binary")
    for p in problems:
        print(f"FAIL: {p}")
    if not problems:
        n_flags = sum(len(f) for _, f in have.values())
        print(f"{doc}: {len(have)} commands and {n_flags} flags, as `gantry --help` shows them")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
