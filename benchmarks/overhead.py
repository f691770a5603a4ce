"""Fixed cost of grading one submission, and the latency of one sandboxed call.

    python benchmarks/overhead.py [--repeats 30]

Measures, with a warm fork server (as in a class run):
  1. worker overhead: fork a locked-down worker, load a trivial submission, one call, stop it;
  2. fixed overhead per submission: `grader.engine.grade` of a trivial submission of the warm-up assignment
     whose functions return at once (pytest session, program assembly, worker, verdicts), minus nothing;
  3. per-call latency: one round trip of a call on a small array, and on a 1,000,000-element float64 array.
Prints medians and 90th percentiles; record them in benchmarks/RESULTS.md with the machine and date.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from grader.course import load_course
from grader.engine import grade
from grader.sandbox import Limits, Sandbox

TRIVIAL = "def sigmoid(x): return x\ndef relu(x): return x\ndef softmax(x, dim=-1): return x\n"


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"{name:<44} median {statistics.median(seconds) * 1000:8.1f} ms   p90 {p90 * 1000:8.1f} ms   (n={len(seconds)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    course = load_course(Path(__file__).resolve().parent.parent)

    t0 = time.perf_counter()
    sandbox = Sandbox()
    startup = time.perf_counter() - t0
    print(f"fork server start (imports numpy and torch once): {startup:.2f} s; isolation {sandbox.isolation}")

    worker_times, small_calls, big_calls, grade_times = [], [], [], []
    small, big = np.ones((4, 5)), np.ones(1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial.py"
        trivial.write_text(TRIVIAL)
        for _ in range(args.repeats):
            t = time.perf_counter()
            worker = sandbox.spawn(Limits())
            worker.request({"op": "load", "cells": [{"label": "trivial", "source": TRIVIAL}]})
            worker.request({"op": "call", "name": "relu", "args": [small]})
            worker.close()
            worker_times.append(time.perf_counter() - t)

        worker = sandbox.spawn(Limits())
        worker.request({"op": "load", "cells": [{"label": "trivial", "source": TRIVIAL}]})
        for _ in range(args.repeats * 10):
            t = time.perf_counter()
            worker.request({"op": "call", "name": "relu", "args": [small]})
            small_calls.append(time.perf_counter() - t)
        for _ in range(args.repeats):
            t = time.perf_counter()
            worker.request({"op": "call", "name": "relu", "args": [big]})
            big_calls.append(time.perf_counter() - t)
        worker.close()

        grade(trivial, assignment_id="a00_warmup", course=course, sandbox=sandbox)  # warm pytest's imports
        for _ in range(args.repeats):
            t = time.perf_counter()
            report = grade(trivial, assignment_id="a00_warmup", course=course, sandbox=sandbox)
            grade_times.append(time.perf_counter() - t)
    sandbox.close()

    print(_summary("worker: fork + lock down + load + call + stop", worker_times))
    print(_summary("fixed overhead per submission (grade)", grade_times))
    print(_summary("per-call latency, 4x5 float64", small_calls))
    print(_summary("per-call latency, 1e6 float64 (8 MB each way)", big_calls))
    print(f"(trivial submission scored {report.score}/{report.max_score} over {len(report.tests)} tests)")


if __name__ == "__main__":
    main()
