"""How long one `check("task")` of a student kit takes in a warm kernel (issue 11's target: ≤ 1 s for a00-a04).

    python benchmarks/kit_check.py [--repeat 5] [ASSIGNMENT ...]

For each kit in kits/, the solution's definitions are loaded once (what a kernel that ran the notebook holds),
the first check of each task is timed apart (it reads the kit's tests and record, as a kernel's first check
does), then the task's check is timed `--repeat` times and the median reported.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("assignments", nargs="*", help="only these assignments (default: every kit)")
    args = parser.parse_args()
    from grader.course import load_course
    from grader.kit import kit_assignments, solution_namespace

    course = load_course(ROOT)
    print("| assignment | task | first check (loads the kit) | check(task), warm (median) |")
    print("|---|---|---|---|")
    for assignment_id in [a for a in kit_assignments(course) if not args.assignments or a in args.assignments]:
        namespace = solution_namespace(course, assignment_id)
        kit = ROOT / "kits" / assignment_id
        for task in [t.id for t in course.assignment(assignment_id).tasks]:
            from coursecheck.runner import Kit

            runner = Kit(kit / "coursecheck" / "assignments" / assignment_id)
            if not any(t["task"] == task for t in runner.tests):
                print(f"| {assignment_id} | {task} | no public test | |")
                continue
            start = time.perf_counter()
            runner.run(namespace, [task])  # the kernel's first check: reads the kit's tests and record
            first = time.perf_counter() - start
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                runner.run(namespace, [task])
                times.append(time.perf_counter() - start)
            print(f"| {assignment_id} | {task} | {first:.2f} s | {statistics.median(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
