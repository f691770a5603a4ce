"""Run the quality gate under many grading secrets and count what fails.

The gate grades each assignment's solution, its mutants and its other correct styles under one fixed secret, so
CI is reproducible. But every student is graded under different inputs: a tolerance that is thin, or a named
mistake that only matches for some inputs, passes the gate's secret and fails some students. This sweep finds
those: each run uses a new secret, and a verdict that fails for any of them is a grader to fix.

    python benchmarks/gate_sweep.py --secrets 5                 # every assignment, 5 secrets
    python benchmarks/gate_sweep.py --secrets 20 -k a06_vae     # the assignments whose id contains a06_vae
    python benchmarks/gate_sweep.py --secrets 10 --correct-only --out benchmarks/gate_sweep_styles.json
                                       # only what must get full marks: each solution and its other correct styles

The gate's rules and the parallel sweep are grader/preview.py's (`grader preview ID --secrets N` runs one
assignment's): per assignment, the secrets run in parallel worker processes, each with its own sandbox. It prints,
per failing verdict, the secrets it failed under (rerun one with `GATE_SECRET=<secret> grader preview ID`, or
`GATE_SECRET=<secret> pytest tests/test_assignments.py -k ID`) and writes the counts to benchmarks/gate_sweep.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from grader.course import load_course
from grader.preview import sweep

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=int, default=5, help="how many secrets to sweep (default 5)")
    parser.add_argument("-k", dest="selection", default=None, help="only assignments whose id contains this text")
    parser.add_argument("--prefix", default="sweep", help="secrets are <prefix>-0, <prefix>-1, ... (default sweep)")
    parser.add_argument("--workers", type=int, default=None, help="processes per assignment (default: one per CPU)")
    parser.add_argument("--correct-only", action="store_true",
                        help="grade only the solutions and the other correct styles (no release, no mutants)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gate_sweep.json")
    args = parser.parse_args()

    course = load_course(ROOT / "course.yaml")
    ids = [a.id for a in course.assignments if args.selection is None or args.selection in a.id]
    if not ids:
        sys.exit(f"no assignment id contains {args.selection!r}; course.yaml has: {', '.join(a.id for a in course.assignments)}")
    secrets = [f"{args.prefix}-{i}" for i in range(args.secrets)]
    failures: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    runs = []
    for aid in ids:
        start = time.perf_counter()

        def progress(run: dict, aid: str = aid) -> None:
            failed = [v for v in run["verdicts"] if not v["ok"]]
            print(f"{aid} GATE_SECRET={run['secret']}: {len(run['verdicts'])} verdicts, {len(failed)} failed", flush=True)
            for v in failed:
                print(f"    FAILED {v['subject']}: {v['rule']}", flush=True)

        result = sweep(course, aid, secrets, workers=args.workers, progress=progress, correct_only=args.correct_only)
        runs.append({"assignment": aid, "runs": result["runs"], "seconds": round(time.perf_counter() - start, 1)})
        for name, failed in result["failures"].items():
            failures[f"{aid} {name}"] = failed
            messages[f"{aid} {name}"] = result["messages"][name]

    print()
    if not failures:
        print(f"no gate verdict failed under any of the {args.secrets} secrets")
    for name, secrets_failed in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"{len(secrets_failed)}/{args.secrets}  {name}\n       secrets: {', '.join(secrets_failed)}\n"
              f"       {messages[name]}")
    args.out.write_text(json.dumps({"selection": args.selection, "correct_only": args.correct_only, "runs": runs, "failures": failures,
                                    "messages": messages}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
