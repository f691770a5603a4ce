"""Time to grade one submission of each assignment: the instructor's solution, with a warm fork server.

    python benchmarks/grade_assignments.py [--repeats 5] [--assignment ID ...] [--device cpu|cuda]

For each assignment prints the median and worst wall time of `grader.engine.grade` on the solution notebook (all
tests, public and hidden, as in a class run) and the slowest tests. Target (issue 4): <= 10 s per submission of
assignments 1-4 on 2 cores. Record the output in benchmarks/RESULTS.md with the machine and date.
"""
from __future__ import annotations

import argparse
import statistics
import time

from grader.course import load_course
from grader.engine import grade
from grader.sandbox import Sandbox
from grader.submission import declared_student_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--assignment", nargs="*", default=None)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    course = load_course()
    ids = args.assignment or [a.id for a in course.assignments]
    start = time.perf_counter()
    with Sandbox(device=args.device) as sandbox:
        print(f"fork server ready in {time.perf_counter() - start:.2f} s (once per grading process)")
        print("| assignment | tests | score | median s | worst s | slowest tests (s) |")
        print("|---|---|---|---|---|---|")
        for aid in ids:
            notebook = course.root / course.assignment(aid).notebook
            times, report = [], None
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                student = declared_student_id(notebook) or "benchmark"  # the solution's per-student answers
                report = grade(notebook, assignment_id=aid, student=student, course=course, sandbox=sandbox, device=args.device)
                times.append(time.perf_counter() - t0)
            slow = sorted(report.tests, key=lambda t: -t.seconds)[:3]
            slowest = ", ".join(f"{t.name.removeprefix('test_')[:32]} {t.seconds:.2f}" for t in slow)
            print(f"| {aid} | {len(report.tests)} | {report.score:g}/{report.max_score:g} | {statistics.median(times):.2f} | "
                  f"{max(times):.2f} | {slowest} |")


if __name__ == "__main__":
    main()
