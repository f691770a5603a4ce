"""Instructors' hand corrections of one student's grade, kept in the gradebook so that they survive regrades.

    grader override --gradebook gradebook.sqlite --assignment a00_warmup --student bob \\
        --test test_relu_on_random_inputs --points 1 --reason "regrade request: leaky ReLU accepted (Piazza @41)"
    grader override ... --task softmax --points 2.5 --reason "..."     # the task's points, whatever its tests gave
    grader override ... --list             # every override, flagged where it needs review
    grader override ... --test NAME --remove

A test override sets that test's points (0..its maximum). A task override sets the task's points (0..the task's
points in course.yaml) and wins over test overrides inside that task. The final score is the grader's raw score
plus what the overrides change, then the late policy (grader/deadlines.py); reports and every export show both.

An override is kept with what it was given for: the submission's content hash and a fingerprint of the overridden
test (its source in the grader file and its maximum points; for a task, every test of the task). When a regrade
finds either changed (the student resubmitted, or the test was rewritten), the override still applies but is
flagged "needs review" in `--list`, the reports and the exports, so an instructor decides again.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.gradebook import Gradebook, OverrideRecord

KINDS = ("test", "task")


class OverrideError(Exception):
    """An override cannot be set (unknown student, test or task, points out of range); the message says why."""


@dataclass(frozen=True)
class AppliedOverride:
    kind: str
    target: str
    points: float
    was: float  # what the grader gave
    reason: str
    needs_review: str  # why it must be looked at again, or ''

    def describe(self) -> str:
        flag = f" [needs review: {self.needs_review}]" if self.needs_review else ""
        return f"{self.kind} {self.target}: {self.was:g} -> {self.points:g} by the instructor ({self.reason}){flag}"


# --------------------------------------------------------------------------------------------- fingerprints


def test_sources(course: Course, assignment_id: str) -> dict[str, str]:
    """Each test function's source in the assignment's grader file, by function name."""
    path = course.root / course.assignment(assignment_id).grader
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError):
        return {}
    return {node.name: ast.get_source_segment(text, node) or "" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")}


def fingerprint(kind: str, target: str, results: list[dict[str, Any]], sources: dict[str, str]) -> str:
    """What the override was judged against: the overridden tests' code and maximum points."""
    tests = [r for r in results if (r["test"] == target if kind == "test" else r["task"] == target)]
    h = hashlib.sha256()
    for r in sorted(tests, key=lambda r: r["test"]):
        function = r["test"].split("[", 1)[0]  # a parametrised test's cases share one function
        h.update(f"{r['test']}\0{float(r['max_score'])!r}\0{sources.get(function, '')}\0".encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------- setting


def set_override(gb: Gradebook, course: Course, assignment_id: str, student: str, *, kind: str, target: str,
                 points: float, reason: str, author: str = "") -> OverrideRecord:
    """Check the override against the graded submission and store it (replacing one on the same target)."""
    try:
        assignment = course.assignment(assignment_id)
    except KeyError as exc:
        raise OverrideError(exc.args[0]) from None
    if kind not in KINDS:
        raise OverrideError(f"an override is of a test or a task, not {kind!r}")
    if not reason.strip():
        raise OverrideError("give the reason (--reason): it is shown to the student and kept for the next grader")
    if points != points:  # NaN
        raise OverrideError("--points must be a number, not NaN")
    submission = next((s for s in gb.submissions(assignment_id) if s["student"] == student), None)
    if submission is None:
        known = ", ".join(s["student"] for s in gb.submissions(assignment_id)) or "nobody yet"
        raise OverrideError(f"{student!r} has no graded submission of {assignment_id} in {gb.path} (graded: {known})")
    results = gb.results(assignment_id, student)
    if kind == "test":
        test = next((r for r in results if r["test"] == target), None)
        if test is None:
            names = ", ".join(r["test"] for r in results) or "none (the submission failed to grade: override a task)"
            raise OverrideError(f"{student}'s {assignment_id} has no test {target!r}; its tests: {names}")
        top = float(test["max_score"])
    else:
        task = next((t for t in assignment.tasks if t.id == target), None)
        if task is None:
            raise OverrideError(f"{assignment_id} has no task {target!r}; course.yaml has: "
                                f"{', '.join(t.id for t in assignment.tasks)}")
        top = float(task.points)
    if not 0 <= points <= top:
        raise OverrideError(f"--points {points:g} is outside 0..{top:g}, the {kind}'s maximum")
    record = OverrideRecord(
        assignment=assignment_id, student=student, kind=kind, target=target, points=float(points), reason=reason.strip(),
        created_at=time.time(), author=author, submission_hash=submission["submission_hash"],
        fingerprint=fingerprint(kind, target, results, test_sources(course, assignment_id)),
    )
    gb.set_override(record)
    return record


# --------------------------------------------------------------------------------------------- applying


def apply_overrides(overrides: list[OverrideRecord], *, tests: list[dict[str, Any]], by_task: dict[str, float],
                    submission_hash: str, sources: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, float],
                                                                            float, list[AppliedOverride]]:
    """One student's test rows and task points with their overrides applied.

    `tests` are the gradebook's result rows (dicts with test, task, score, max_score); returns the new rows, the new
    points per task, the change to the total, and each override as applied (with why it needs review, if it does).
    """
    tests = [dict(t) for t in tests]
    by_task = dict(by_task)
    delta = 0.0
    applied = []
    for o in sorted(overrides, key=lambda o: o.kind == "task"):  # tests first: a task override has the last word
        review = []
        if o.submission_hash and o.submission_hash != submission_hash:
            review.append("the submission changed since")
        now = fingerprint(o.kind, o.target, tests, sources)
        if o.fingerprint and o.fingerprint != now:
            review.append(f"the {o.kind}'s grader test changed since")
        if o.kind == "test":
            row = next((t for t in tests if t["test"] == o.target), None)
            if row is None:
                applied.append(AppliedOverride(o.kind, o.target, o.points, 0.0, o.reason,
                                               "the test is gone from the latest grading; not applied"))
                continue
            was = float(row["score"])
            row["score"] = o.points
            row["overridden"] = o.reason
            if row.get("task") in by_task:
                by_task[row["task"]] += o.points - was
        else:
            was = by_task.get(o.target, 0.0)
            by_task[o.target] = o.points
        delta += o.points - was
        applied.append(AppliedOverride(o.kind, o.target, o.points, was, o.reason, "; ".join(review)))
    return tests, by_task, delta, applied


# --------------------------------------------------------------------------------------------- command line


def add_override_parser(sub) -> None:
    p = sub.add_parser("override", help="set a test's or a task's points for one student by hand (kept across regrades)")
    p.add_argument("--gradebook", type=Path, required=True, help="the class gradebook (written by grader autograde)")
    p.add_argument("--assignment", required=True, help="assignment id, as in course.yaml")
    p.add_argument("--student", default=None, help="the student's id (required unless --list)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--test", default=None, help="a test's name, as in grader grade --json or --list")
    target.add_argument("--task", default=None, help="a course.yaml task id")
    p.add_argument("--points", type=float, default=None, help="the points to give (0 to the test's or task's maximum)")
    p.add_argument("--reason", default="", help="why (shown to the student, kept for the next grader)")
    p.add_argument("--author", default="", help="who decided (default: blank)")
    p.add_argument("--remove", action="store_true", help="remove the override of --test/--task")
    p.add_argument("--list", action="store_true", help="list the assignment's overrides, flagged where to review")
    p.add_argument("--from-nbgrader", type=Path, default=None, metavar="GRADEBOOK_DB",
                   help="take every manual score given in nbgrader's formgrader as a task override")
    p.add_argument("--course", type=Path, default=None, help="course.yaml (default: found from the current folder)")
    p.set_defaults(func=cmd_override)


def cmd_override(args: argparse.Namespace) -> int:
    from grader.cli import CommandError  # here, not at the top: grader.cli imports this module's parser
    from grader.course import load_course
    from grader.export import class_scores, ExportError

    if not args.gradebook.is_file():
        raise CommandError(f"{args.gradebook} does not exist: give the --gradebook that grader autograde wrote")
    course = load_course(args.course)
    with Gradebook(args.gradebook) as gb:
        if args.from_nbgrader is not None:
            from grader.export import import_nbgrader_manual_grades

            try:
                merged = import_nbgrader_manual_grades(gb, course, args.assignment, args.from_nbgrader)
            except (ExportError, OverrideError) as exc:
                raise CommandError(str(exc)) from None
            for o in merged:
                print(f"{o.student}: task {o.target} set to {o.points:g} ({o.reason})")
            print(f"{len(merged)} manual grade(s) from {args.from_nbgrader} kept as overrides")
            return 0
        if args.list:
            try:
                scores = class_scores(gb, course, args.assignment)
            except ExportError as exc:
                raise CommandError(str(exc)) from None
            lines = [f"{s.student}: {o.describe()}" for s in scores.students for o in s.overrides
                     if args.student in (None, s.student)]
            print("\n".join(lines) if lines else f"no overrides for {args.assignment}")
            return 0
        if args.student is None or (args.test is None and args.task is None):
            raise CommandError("say whose grade and what: --student ID and --test NAME or --task ID (or --list)")
        kind, target = ("test", args.test) if args.test is not None else ("task", args.task)
        if args.remove:
            removed = gb.remove_override(args.assignment, args.student, kind, target)
            print(f"removed the override of {kind} {target} for {args.student}" if removed
                  else f"{args.student} had no override of {kind} {target}")
            return 0
        if args.points is None:
            raise CommandError("give the points (--points N) and the reason (--reason TEXT), or --remove")
        try:
            o = set_override(gb, course, args.assignment, args.student, kind=kind, target=target, points=args.points,
                             reason=args.reason, author=args.author)
        except OverrideError as exc:
            raise CommandError(str(exc)) from None
    print(f"{args.student}: {kind} {target} set to {o.points:g} ({o.reason}); kept across regrades")
    return 0
