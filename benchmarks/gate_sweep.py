"""Run the quality gate (tests/test_assignments.py) under many grading secrets and count what fails.

The gate grades each assignment's solution, its mutants and its other correct styles under one fixed secret, so
CI is reproducible. But every student is graded under different inputs: a tolerance that is thin, or a named
mistake that only matches for some inputs, passes the gate's secret and fails some students. This sweep finds
those: each run uses a new secret, and a test that fails for any of them is a grader to fix.

    python benchmarks/gate_sweep.py --secrets 5                 # the whole gate, 5 secrets
    python benchmarks/gate_sweep.py --secrets 20 -k a06_vae     # one assignment, 20 secrets

It prints, per failing test, the secrets it failed under (rerun one with GATE_SECRET=<secret> pytest ... -k ...)
and writes the counts to benchmarks/gate_sweep.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_gate(secret: str, selection: str | None) -> tuple[int, dict[str, str]]:
    """Run the gate under one secret: (number of tests run, {failed test id: first line of its message})."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "gate.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(xml),
               str(ROOT / "tests" / "test_assignments.py")]
        if selection:
            cmd += ["-k", selection]
        subprocess.run(cmd, cwd=ROOT, env={**os.environ, "GATE_SECRET": secret}, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if not xml.exists():
            return 0, {"<pytest did not run>": ""}
        failed, total = {}, 0
        for case in ET.parse(xml).iter("testcase"):
            total += 1
            problem = case.find("failure")
            problem = case.find("error") if problem is None else problem
            if problem is not None:
                message = problem.get("message") or ""
                failed[f"{case.get('classname')}::{case.get('name')}"] = message.splitlines()[0][:300] if message else ""
        return total, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=int, default=5, help="how many secrets to sweep (default 5)")
    parser.add_argument("-k", dest="selection", default=None, help="pytest -k expression (default: the whole gate)")
    parser.add_argument("--prefix", default="sweep", help="secrets are <prefix>-0, <prefix>-1, ... (default sweep)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gate_sweep.json")
    args = parser.parse_args()

    failures: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    runs = []
    for i in range(args.secrets):
        secret = f"{args.prefix}-{i}"
        start = time.perf_counter()
        total, failed = run_gate(secret, args.selection)
        seconds = time.perf_counter() - start
        runs.append({"secret": secret, "tests": total, "failed": sorted(failed), "seconds": round(seconds, 1)})
        for name, message in failed.items():
            failures.setdefault(name, []).append(secret)
            messages.setdefault(name, message)
        print(f"[{i + 1}/{args.secrets}] GATE_SECRET={secret}: {total} tests, {len(failed)} failed, {seconds:.0f} s",
              flush=True)
        for name in sorted(failed):
            print(f"    FAILED {name}", flush=True)

    print()
    if not failures:
        print(f"no test failed under any of the {args.secrets} secrets")
    for name, secrets_failed in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"{len(secrets_failed)}/{args.secrets}  {name}\n       secrets: {', '.join(secrets_failed)}\n"
              f"       {messages[name]}")
    args.out.write_text(json.dumps({"selection": args.selection, "runs": runs, "failures": failures,
                                    "messages": messages}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
