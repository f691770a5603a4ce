"""Which system calls do graded submissions make? The evidence behind the worker's seccomp allowlist.

    python benchmarks/seccomp_trace.py [--examples 3] [--styles] [--out /tmp/seccomp-trace.txt]

Starts a sandbox, attaches strace (as root) to its fork server, and grades every assignment's solution, up to N
example submissions each, and with --styles every "other correct style" of tests/mutants/. strace records a call the
filter refuses too (it returns EPERM), so the list below shows what the workers asked for: each system call, how
often, and whether grader/worker.py's ALLOWED_SYSCALLS (or its argument-checked rules) allows it.

A call that a correct submission needs and the list refuses shows up as "REFUSED" here; add it to ALLOWED_SYSCALLS
(in the group it belongs to) unless docs/sandbox.md lists it as a danger, and rerun the gate.
"""
from __future__ import annotations

import argparse
import ast
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.cgroups import python_descendant  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.engine import grade  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402

# Allowed only with an argument checked (see worker._install_seccomp), or used before the filter is installed.
CONDITIONAL = {"clone", "clone3", "kill", "tgkill", "prlimit64", "getrlimit", "sched_setaffinity", "fcntl", "ioctl", "prctl"}
LOCK_DOWN = {"unshare", "mount", "setsid", "capset", "execve", "vfork"}  # before the filter: lock-down, library lookup


def allowlist() -> set[str]:
    tree = ast.parse((ROOT / "grader" / "worker.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ALLOWED_SYSCALLS":
            return set(ast.literal_eval(node.value))
    raise SystemExit("ALLOWED_SYSCALLS not found in grader/worker.py")


def fork_server_pid(sandbox: Sandbox) -> int:
    pid = python_descendant(sandbox._proc.pid)  # below bubblewrap's own processes
    if pid is None:
        raise SystemExit("no fork server found")
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--styles", action="store_true")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "seccomp-trace.txt"))
    args = parser.parse_args()
    if not shutil.which("strace"):
        raise SystemExit("needs strace (apt-get install strace) and root")
    course = load_course(ROOT / "course.yaml")
    submissions = [(a.id, course.root / a.notebook) for a in course.assignments]
    for a in course.assignments:
        submissions += [(a.id, p) for p in sorted((course.root / "examples" / a.id).glob("*.py"))[: args.examples]]
    if args.styles:
        import os

        os.environ.setdefault("GATE_SECRET", "seccomp-trace")
        from tests.test_assignments import STYLES, edited_solution  # the gate's own writer of style submissions

        for aid, i, style in STYLES:
            folder = Path(tempfile.mkdtemp(prefix=f"{aid}-{i}-"))
            submissions.append((aid, edited_solution(aid, folder, style.cells)))
    sandbox = Sandbox()
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", args.out, "-p", str(fork_server_pid(sandbox))])
    time.sleep(2)
    try:
        for aid, path in submissions:
            report = grade(path, assignment_id=aid, course=course, sandbox=sandbox)
            print(f"{aid:<18} {path.name:<28} {report.score:g}/{report.max_score:g}", flush=True)
    finally:
        tracer.terminate()
        tracer.wait()
        sandbox.close()
    counts: collections.Counter[str] = collections.Counter()
    for line in open(args.out):
        m = re.match(r"^\d+ +([a-z0-9_]+)\(", line)
        if m:
            counts[m.group(1)] += 1
    allowed = allowlist()
    print(f"\n{len(counts)} distinct system calls ({args.out}):")
    for name, n in counts.most_common():
        verdict = ("allowed" if name in allowed else "argument-checked" if name in CONDITIONAL
                   else "before the filter" if name in LOCK_DOWN else "REFUSED")
        print(f"  {name:<20} {n:>8}  {verdict}")


if __name__ == "__main__":
    main()
