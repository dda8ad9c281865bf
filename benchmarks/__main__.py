"""``python -m benchmarks list | show NAME | run NAME [--dry-run] | index``: the studies of
``benchmarks/studies.py``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from benchmarks.studies import ROOT, STUDIES, get, index


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the studies, one line each")
    for name, text in (("show", "a study's commands and outputs"), ("run", "run a study's commands")):
        p = sub.add_parser(name, help=text)
        p.add_argument("name")
        if name == "run":
            p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    p = sub.add_parser("index", help="write benchmarks/INDEX.md")
    p.add_argument("--check", action="store_true", help="exit 1 if INDEX.md is not what would be written")
    args = ap.parse_args(argv)
    if args.command == "list":
        width = max(len(s.name) for s in STUDIES)
        for s in STUDIES:
            print(f"{s.name:<{width}}  {s.cost:>7}  {s.title}")
        return 0
    if args.command == "index":
        path, text = ROOT / "benchmarks" / "INDEX.md", index()
        if args.check:
            same = path.exists() and path.read_text() == text
            print("benchmarks/INDEX.md is up to date" if same else "benchmarks/INDEX.md is stale: python -m benchmarks index")
            return 0 if same else 1
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({len(STUDIES)} studies)")
        return 0
    study = get(args.name)
    if args.command == "show" or args.dry_run:
        print(f"# {study.name}: {study.title}" + (f" (about {study.cost} on 2 cores)" if study.cost else ""))
        print("\n".join(study.commands))
        print("# writes: " + ", ".join(study.outputs))
        return 0
    # the commands' python and boed-nas are this interpreter's (its environment's bin first on PATH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    for command in study.commands:
        print(f"$ {command}", flush=True)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=ROOT, env=env)
        if done.returncode:
            print(f"python -m benchmarks run {study.name}: a command exited {done.returncode}", file=sys.stderr)
            return done.returncode
    print(f"python -m benchmarks run {study.name}: done; its outputs: " + ", ".join(study.outputs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
