"""Local checks for students and self-learners: the public tests of an assignment, with friendly feedback.

From a terminal:      grader check assignments/a00_warmup/a00_warmup.ipynb
From inside Jupyter:  from grader import check; check("sigmoid")

No account or server: the same sandboxed engine that grades the class runs the public tests on this machine.
"""
from __future__ import annotations

import os
from pathlib import Path

from grader.course import Course, load_course
from grader.submission import declared_student_id


def find_assignment(course: Course, notebook: Path) -> str:
    """The assignment a notebook belongs to, from its file name."""
    name = notebook.stem
    for assignment in course.assignments:
        if Path(assignment.notebook).stem == name or assignment.id == name:
            return assignment.id
    known = ", ".join(a.id for a in course.assignments)
    raise KeyError(f"{notebook.name} is not a notebook of this course (assignments: {known}); pass --assignment")


def check_notebook(notebook: Path, *, assignment_id: str | None = None, task: str | None = None) -> str:
    """Run the public tests (of one task, or all) on a saved notebook and return the student-facing text."""
    from grader.engine import grade
    from grader.report import student_view

    course = load_course(notebook.parent) if notebook.exists() else load_course()
    assignment_id = assignment_id or find_assignment(course, notebook)
    # Per-student numbers follow the id typed into the notebook; a self-learner may type any id.
    student = declared_student_id(notebook) or "anonymous"
    report = grade(notebook, assignment_id=assignment_id, course=course, visibility="public", student=student)
    if task is not None:
        report.tests = [t for t in report.tests if t.task == task]
        if not report.tests:
            tasks = ", ".join(tk.id for tk in course.assignment(assignment_id).tasks)
            return f"No public check is called {task!r} in {assignment_id}. Tasks: {tasks}."
    return student_view(report)


def check(task: str | None = None, notebook: str | os.PathLike | None = None) -> None:
    """Inside Jupyter: save the notebook, then check one task (or all) with the public tests.

    The check reads the saved file, so press Ctrl-S (or File > Save) first.
    """
    path = Path(notebook) if notebook else _current_notebook()
    if path is None:
        print("Could not tell which notebook this is; call check(task, notebook='path/to/notebook.ipynb').")
        return
    print(check_notebook(path, task=task))


def _current_notebook() -> Path | None:
    """The notebook this kernel runs: the only .ipynb in the working folder (Jupyter starts kernels there)."""
    candidates = [p for p in Path.cwd().glob("*.ipynb") if not p.name.startswith(".")]
    return candidates[0] if len(candidates) == 1 else None
