"""Reading a grade: the table printed by `grader grade`, and the friendlier one `grader check` shows students."""
from __future__ import annotations

import textwrap

from grader.engine import GradeReport
from grader.safe_text import clean

MARK = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "crashed": "☠"}


def _points(value: float) -> str:
    return f"{value:g}"


def table(report: GradeReport) -> str:
    """A plain-text table of every test, for instructors (student text cleaned of terminal escapes)."""
    return clean(_table(report))


def _table(report: GradeReport) -> str:
    lines = [f"{report.assignment} · student {report.student} · score {_points(report.score)}/{_points(report.max_score)}"]
    warning = report.isolation.get("warning")
    if warning:
        lines.append("!" * 80 + "\n" + textwrap.fill(warning, 80) + "\n" + "!" * 80)
    for problem in report.problems:
        lines.append(f"  problem: {problem}")
    width = max((len(t.title) for t in report.tests), default=10)
    width = min(width, 60)
    for t in report.tests:
        vis = "hidden" if t.visibility == "hidden" else "public"
        lines.append(f"  {MARK.get(t.status, '?')} {t.title[:60]:<{width}}  {_points(t.points):>4}/{_points(t.max_points):<4} {t.status:<8} {vis}")
        if t.feedback:
            lines += ["      " + line for line in textwrap.wrap(t.feedback, 100)]
    if report.grader_errors:
        lines.append(f"  {len(report.grader_errors)} test(s) failed because of the GRADER, not the student: fix the grader and regrade")
    lines.append(f"  graded in {report.seconds:.2f} s; limits {report.settings.get('limits')}")
    return "\n".join(lines)


def student_view(report: GradeReport) -> str:
    """What a student sees from `grader check`: public tests, what went wrong, what to try."""
    return clean(_student_view(report))


def _student_view(report: GradeReport) -> str:
    passed = sum(t.status == "passed" for t in report.tests)
    lines = [f"{passed} of {len(report.tests)} public checks pass ({_points(report.score)}/{_points(report.max_score)} points)."]
    for problem in report.problems:
        lines.append(f"  ⚠ {problem}")
    for t in report.tests:
        lines.append(f"  {MARK.get(t.status, '?')} {t.title}")
        if t.status != "passed":
            lines += ["      " + line for line in textwrap.wrap(t.feedback or "not passed", 96)]
    if passed == len(report.tests) and report.tests:
        lines.append("All public checks pass. Hidden tests with other inputs are run when your work is graded.")
    return "\n".join(lines)
