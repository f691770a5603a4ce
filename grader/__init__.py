"""Grading engine and command line.

Students and self-learners, inside Jupyter: `from grader import check; check("sigmoid")`.
"""


def check(task: str | None = None, notebook: str | None = None, assignment: str | None = None, strict: bool = False) -> None:
    """Run the public checks of one task (or all) on the saved notebook; see grader.student_check. With `strict`
    (the release's nbgrader grade cells), raise AssertionError unless every one passed."""
    from grader.student_check import check as run_check

    run_check(task, notebook, assignment, strict=strict)
