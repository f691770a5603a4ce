"""nbgrader grade cells in the releases: one per task, so that `nbgrader validate` means what it says.

The solution notebooks hold, after each answer, a locked cell `check("task")` that prints the public checks'
feedback. When `grader release` builds a release, the last such cell of each task becomes an nbgrader *grade cell*
("Autograder tests" in nbgrader's Create Assignment toolbar): `grade: true`, locked, worth the task's points in
course.yaml (the one source of points), and calling `check("task", strict=True)`, which prints the same feedback and
then raises when a public check of the task does not pass. So `nbgrader validate` fails on an unfilled release
(nothing is defined yet) and on a wrong answer, and passes on a correct one; the formgrader counts the same points
as course.yaml; and `grader export --format nbgrader` files each task's score under that cell's grade_id.

The grader never runs these cells (grader/submission.py skips nbgrader test cells): grading is the sandboxed
public and hidden tests, whatever a student did to the cell.
"""
from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path


class GradeCellError(ValueError):
    """A task has no check cell to become its grade cell; the message says what to add."""


def checked_task(source: str) -> str | None:
    """The task of a cell whose code is one call `check("task")` (with `strict=...` or not), else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr) or not isinstance(tree.body[0].value, ast.Call):
        return None
    call = tree.body[0].value
    if not (isinstance(call.func, ast.Name) and call.func.id == "check" and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        return None
    return call.args[0].value


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def add_grade_cells(doc: dict, points: Mapping[str, float], where: str) -> dict:
    """`doc` (a notebook as JSON) with the last `check("task")` cell of every task turned into its grade cell."""
    last: dict[str, dict] = {}
    for cell in doc["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("locked") and not meta.get("solution"):
            task = checked_task(_source(cell))
            if task is not None:
                last[task] = cell
    missing = [task for task in points if task not in last]
    if missing:
        raise GradeCellError(f"{where}: no locked `check(\"{missing[0]}\")` cell for task {missing[0]!r}"
                             f"{' (and ' + ', '.join(missing[1:]) + ')' if missing[1:] else ''}: add one after the "
                             "task's answer cell (it becomes the task's nbgrader grade cell in the release)")
    for task, cell in last.items():
        if task not in points:
            continue
        cell["source"] = f'check("{task}", strict=True)'
        meta = cell["metadata"]["nbgrader"]
        meta.update(grade=True, solution=False, locked=True, points=_number(points[task]))
    return doc


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def grade_cell_tasks(notebook: Path) -> dict[str, str]:
    """grade_id → task of every grade cell of a release (the nbgrader export files task scores under these)."""
    doc = json.loads(Path(notebook).read_text(encoding="utf-8"))
    out = {}
    for cell in doc["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell["cell_type"] == "code":
            task = checked_task(_source(cell))
            if task is not None and "grade_id" in meta:
                out[meta["grade_id"]] = task
    return out
