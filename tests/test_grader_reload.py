"""One process that grades twice (a class run, `grader preview`, a notebook session) judges with the grader file as
it is now: pytest's importlib mode would otherwise hand back the module it imported first (grader/engine.py)."""
from __future__ import annotations

import os
import time

from grader.course import load_course
from grader.engine import grade
from grader.sandbox import Limits
from tests.test_tolerances import COURSE, GRADER, sandbox, write_course  # noqa: F401 (the fixture)


def test_an_edited_grader_and_another_course_copy_are_imported_afresh(tmp_path, sandbox):  # noqa: F811
    limits = Limits(submission_seconds=30, call_seconds=5, cpu_seconds=20, memory_mb=1024)

    def statuses(folder):
        course = load_course(folder / "course.yaml")
        report = grade(folder / "nb/tol.ipynb", assignment_id="tol", course=course, sandbox=sandbox, limits=limits,
                       tasks=frozenset({"loose"}))
        return {t.name: t.status for t in report.tests}

    first = tmp_path / "first"
    write_course(first, COURSE)
    assert statuses(first) == {"test_loose": "passed"}
    grader = first / "graders/test_tol.py"
    grader.write_text(GRADER.replace('"""scale(x) == x, under the loose task\'s tolerance"""',
                                     '"""edited: now always fails"""\n    assert False, "the edited grader ran"'))
    later = time.time() + 5
    os.utime(grader, (later, later))  # a second edit in the same second still counts
    assert statuses(first) == {"test_loose": "failed"}
    second = tmp_path / "second"  # another copy of the course, with the original grader
    write_course(second, COURSE)
    assert statuses(second) == {"test_loose": "passed"}
