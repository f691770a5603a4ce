"""Public checks of a course notebook, run in the student's own kernel.

    from coursecheck import check
    check("sigmoid")     # one task's public tests on what the kernel has run (saved or not)
    check()              # all public tests of the notebook's assignment

This package is the student side of the course and imports nothing from the instructor's side (`grader`,
`reference`): the expected values of the public tests were recorded when the instructor built the kit.
"""
from __future__ import annotations

from typing import Any

__all__ = ["ChecksFailed", "check", "run_checks"]


class ChecksFailed(AssertionError):
    """`check(task, strict=True)` (a release's nbgrader grade cell): a public check of the task did not pass."""


def run_checks(task: str | None = None, *, assignment: str | None = None, namespace: dict[str, Any] | None = None) -> str:
    """The text `check` prints: the verdicts of the public tests of `task` (or all) on the live definitions."""
    return _checks(task, assignment, namespace)[0]


def _checks(task: str | None, assignment: str | None, namespace: dict[str, Any] | None) -> tuple[str, bool]:
    """(the text, whether every public check that could run passed)."""
    from coursecheck import kernel
    from coursecheck.runner import Kit, installed_kits, student_view
    from coursecheck.variants import SELF_LEARNER

    namespace = kernel.user_namespace() if namespace is None else namespace
    folders = installed_kits()
    if assignment is not None:
        if assignment not in folders:
            return f"No kit for {assignment!r} is installed (installed: {', '.join(folders) or 'none'}).", False
        folders = {assignment: folders[assignment]}
    kits = {aid: Kit(folder) for aid, folder in folders.items()}
    chosen, why = kernel.identify(kits, namespace, task)
    if chosen is None:
        return f"Could not check: {why}.", False
    kit = kits[chosen]
    if task is not None and task not in kit.tasks:
        return f"No public check is called {task!r} in {chosen}. Tasks: {', '.join(kit.tasks)}.", False
    notes = []
    student = kernel.declared_student_id(namespace)
    if kit.meta.get("student_numbers") and (student is None or student in kernel.PLACEHOLDER_IDS):
        notes.append("STUDENT_ID is not set to your own id: your per-student numbers will differ when you are graded. "
                     "Put your id in the STUDENT_ID cell and run the cells below it again.")
    tests = [t for t in kit.tests if task is None or t["task"] == task]
    needed = {n for t in tests for n in t["names"]}
    if needed and not any(n in namespace for n in needed):
        what = ", ".join(f"`{n}`" for n in sorted(needed))
        return (f"Nothing of {task or chosen} has been run yet ({what} not defined in this kernel): run the cell with "
                "your answer (Shift-Enter), then this check again."), False
    results = kit.run(namespace, None if task is None else [task], student_id=student or SELF_LEARNER)
    return student_view(results, notes), all(r.status in ("passed", "unchecked") for r in results)


def check(task: str | None = None, *, assignment: str | None = None, strict: bool = False) -> None:
    """Print the verdicts of the public tests of `task` (or of all tasks) on what this kernel has run. With
    `strict` (the release's nbgrader grade cells), then raise ChecksFailed unless every one passed, so that
    `nbgrader validate` fails."""
    text, ok = _checks(task, None if assignment is None else assignment, None)
    print(text)
    if strict and not ok:
        raise ChecksFailed(f"{task or 'the notebook'}: not every public check passes (see above)") from None
