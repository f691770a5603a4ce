"""The main job on a fresh machine: grade the bundled example submissions of every assignment and write a report.

    grader demo [--out out]

Writes out/<assignment>/<student>.json (the `grader grade --json` document of each submission) and out/report.md,
a summary table; prints the same table.
"""
from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from grader.course import Course
from grader.engine import grade
from grader.sandbox import Sandbox


def example_submissions(course: Course) -> dict[str, list[Path]]:
    found = {}
    for assignment in course.assignments:
        folder = course.root / "examples" / assignment.id
        if folder.is_dir():
            found[assignment.id] = sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb") or p.is_dir())
    return found


def run_demo(course: Course, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    rows = ["| assignment | student | score | passed | failed | error | timeout | crashed | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    warnings = set()
    with Sandbox() as sandbox:
        for assignment_id, paths in example_submissions(course).items():
            (out / assignment_id).mkdir(exist_ok=True)
            for path in tqdm(paths, desc=f"grading {assignment_id}", unit="submission"):
                report = grade(path, assignment_id=assignment_id, student=path.stem, course=course, sandbox=sandbox)
                (out / assignment_id / f"{path.stem}.json").write_text(json.dumps(report.to_dict(), indent=2))
                counts = {s: sum(t.status == s for t in report.tests) for s in ("passed", "failed", "error", "timeout", "crashed")}
                rows.append(
                    f"| {assignment_id} | {path.stem} | {report.score:g}/{report.max_score:g} | "
                    + " | ".join(str(counts[s]) for s in counts) + f" | {report.seconds:.2f} |"
                )
                if report.isolation.get("warning"):
                    warnings.add(report.isolation["warning"])
    text = "# Example submissions graded\n\n" + "\n".join(rows) + "\n"
    if warnings:
        text += "\n" + "\n".join(f"> {w}" for w in sorted(warnings)) + "\n"
    text += "\nPer-submission details (every test's status and feedback): the JSON files beside this report.\n"
    (out / "report.md").write_text(text)
    return text
