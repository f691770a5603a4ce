"""The main job on a fresh machine: grade the bundled example submissions as a class run, and write the reports.

    grader demo [--out out]

For every assignment with examples (examples/<id>/<student>.py or .ipynb), runs the same class grading an
instructor runs (`grader autograde`, in parallel, into out/gradebook.sqlite), then writes:
  out/report.md                      a summary table of every example submission
  out/html/<id>/<student>.html       each student's feedback page; out/html/<id>/index.html the class summary
  out/exports/<id>/...               the exports an instructor uploads (per-task CSV, Canvas CSV, Gradescope
                                     results.json per student, nbgrader's gradebook for its formgrader)
Running it again regrades only what changed.
"""
from __future__ import annotations

from pathlib import Path

import os

from grader.autograde import LocalExecutor, autograde, find_submissions
from grader.course import Course
from grader.gradebook import Gradebook

STATUSES = ("passed", "failed", "error", "timeout", "crashed")


def example_folders(course: Course, only: list[str] | None = None) -> dict[str, Path]:
    found = {}
    for assignment in course.assignments:
        folder = course.root / "examples" / assignment.id
        if folder.is_dir() and (only is None or assignment.id in only):
            found[assignment.id] = folder
    return found


def run_demo(course: Course, out: Path, *, only: list[str] | None = None, progress: bool = True,
             workers: int | None = None) -> str:
    out.mkdir(parents=True, exist_ok=True)
    gradebook = out / "gradebook.sqlite"
    folders = example_folders(course, only)
    submissions = [s for aid, folder in folders.items() for s in find_submissions(folder, course, aid)]
    executor = LocalExecutor(os.cpu_count() or 1 if workers is None else workers)
    summary = autograde(submissions, course, gradebook, executor=executor, progress=progress)
    rows = ["| assignment | student | score | " + " | ".join(STATUSES) + " | seconds | notes |",
            "|---" * (len(STATUSES) + 5) + "|"]
    warnings = set()
    with Gradebook(gradebook) as gb:
        for aid in folders:
            results = gb.results(aid)
            for sub in gb.submissions(aid):
                mine = [r for r in results if r["student"] == sub["student"]]
                counts = [str(sum(r["status"] == s for r in mine)) for s in STATUSES]
                note = (sub["reason"] or "; ".join(sub["problems"]))[:120].replace("|", "/").replace("\n", " ")
                rows.append(f"| {aid} | {sub['student']} | {sub['score']:g}/{sub['max_score']:g} | " + " | ".join(counts)
                            + f" | {sub['seconds']:.2f} | {note} |")
                if sub["isolation"].get("warning"):
                    warnings.add(sub["isolation"]["warning"])
        pages = write_pages(gb, course, list(folders), out)
        exports = write_exports(gb, course, list(folders), out)
    text = "# Example submissions graded\n\n" + summary.line() + "\n\n" + "\n".join(rows) + "\n"
    if warnings:
        text += "\n" + "\n".join(f"> {w}" for w in sorted(warnings)) + "\n"
    text += (f"\nFeedback pages: {pages} HTML files under {out / 'html'} (open {out / 'html'}/<assignment>/index.html).\n"
             f"Exports: {exports} files under {out / 'exports'}. Gradebook: {gradebook}.\n")
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


def write_pages(gb: Gradebook, course: Course, assignments: list[str], out: Path) -> int:
    from grader.html_report import write_reports

    return sum(len(write_reports(gb, course, aid, out / "html")) for aid in assignments)


def write_exports(gb: Gradebook, course: Course, assignments: list[str], out: Path) -> int:
    from grader.export import export

    written = 0
    for aid in assignments:
        target = out / "exports" / aid
        for fmt, path in (("tasks", "tasks.csv"), ("canvas", "canvas.csv"), ("gradescope", "gradescope"),
                          ("nbgrader", "nbgrader-gradebook.db")):
            written += len(export(gb, course, aid, fmt, target / path))
    return written
