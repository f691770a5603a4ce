"""Local checks inside a clone of the repository: the public tests of an assignment, with friendly feedback.

From a terminal:      grader check assignments/a00_warmup/a00_warmup.ipynb
From inside Jupyter:  from grader import check; check("sigmoid")

The same sandboxed engine that grades the class runs the public tests on this machine, on the saved notebook.
Outside the repository, students use their assignment's kit instead (kits/<id>/, the `coursecheck` package), which
checks the kernel's live definitions.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from grader.course import Course, CourseConfigError, load_course
from grader.submission import declared_student_id


def _grade_ids(notebook: Path) -> set[str]:
    try:
        doc = json.loads(notebook.read_text(encoding="utf-8"))
        return {c["metadata"]["nbgrader"]["grade_id"] for c in doc["cells"]
                if isinstance(c, dict) and "grade_id" in c.get("metadata", {}).get("nbgrader", {})}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def find_assignment(course: Course, notebook: Path) -> str:
    """The assignment a notebook belongs to: from its file name, else from its cells' nbgrader ids (which survive
    a download renamed `a00_warmup (1).ipynb` or Jupyter's Duplicate)."""
    name = notebook.stem
    for assignment in course.assignments:
        if Path(assignment.notebook).stem == name or assignment.id == name:
            return assignment.id
    if notebook.suffix == ".ipynb":
        ids = _grade_ids(notebook)
        scores = {a.id: len(ids & _grade_ids(course.root / a.notebook)) for a in course.assignments}
        best = max(scores, key=scores.get, default=None)
        if best is not None and scores[best] > 0 and list(scores.values()).count(scores[best]) == 1:
            return best
    known = ", ".join(a.id for a in course.assignments)
    raise KeyError(f"{notebook.name} is not a notebook of this course (assignments: {known}); name the assignment: "
                   "`grader check NOTEBOOK --assignment ID`, or check(task, assignment=ID) in Jupyter")


def check_notebook(notebook: Path, *, assignment_id: str | None = None, task: str | None = None) -> str:
    """Run the public tests (of one task, or all) on a saved notebook and return the student-facing text."""
    return checked_notebook(notebook, assignment_id=assignment_id, task=task)[0]


def checked_notebook(notebook: Path, *, assignment_id: str | None = None, task: str | None = None) -> tuple[str, bool]:
    """(the student-facing text, whether every public test that ran passed)."""
    from grader.engine import grade
    from grader.report import student_view

    course = _course_for(notebook)
    try:
        assignment_id = assignment_id or find_assignment(course, notebook)
    except KeyError as exc:
        return str(exc.args[0]), False
    tasks = [t.id for t in course.assignment(assignment_id).tasks]
    if task is not None and task not in tasks:  # said before any test runs
        return f"No public check is called {task!r} in {assignment_id}. Tasks: {', '.join(tasks)}.", False
    # Per-student numbers follow the id typed into the notebook; a self-learner may type any id.
    student = declared_student_id(notebook) or "anonymous"
    report = grade(notebook, assignment_id=assignment_id, course=course, visibility="public", student=student,
                   tasks=None if task is None else frozenset({task}))
    if task is not None and not report.tests:
        return f"{task} has no public check in {assignment_id}; its hidden tests run when your work is graded.", True
    return student_view(report), bool(report.tests) and all(t.status == "passed" for t in report.tests)


def _course_for(notebook: Path) -> Course:
    """The course around the notebook, else around the working folder, else the one this grader belongs to (a
    notebook fetched by nbgrader to ~/<id>/ or downloaded elsewhere is still this course's)."""
    for start in (notebook.parent if notebook.exists() else None, None, Path(__file__).resolve().parent.parent):
        try:
            return load_course(start)
        except CourseConfigError:
            continue
    return load_course()  # raises, naming where course.yaml was looked for


def check(task: str | None = None, notebook: str | os.PathLike | None = None, assignment: str | None = None,
          strict: bool = False) -> None:
    """Inside Jupyter: check one task (or all) with the public tests, on the SAVED notebook (save first: Ctrl-S).
    With `strict` (the release's nbgrader grade cells), raise AssertionError unless every one passed."""
    path = Path(notebook) if notebook else _current_notebook()
    if path is None:
        text, ok = "Could not tell which notebook this is; call check(task, notebook='path/to/notebook.ipynb').", False
    else:
        print(f"(checking the saved file {path.name}: save the notebook first to check your latest changes)")
        text, ok = checked_notebook(path, assignment_id=assignment, task=task)
    print(text)
    if strict and not ok:
        raise AssertionError(f"{task or 'the notebook'}: not every public check passes (see above)")


def _current_notebook() -> Path | None:
    """The notebook this kernel runs, as the front end reports it (Jupyter Server, VS Code); else the only .ipynb
    in the working folder (Jupyter starts kernels there)."""
    from coursecheck.kernel import notebook_path, user_namespace

    reported = notebook_path(user_namespace())
    if reported is not None and reported.is_file():
        return reported
    candidates = [p for p in Path.cwd().glob("*.ipynb") if not p.name.startswith(".")]
    return candidates[0] if len(candidates) == 1 else None
