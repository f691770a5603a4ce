"""Grade one submission: run an assignment's pytest grader against it, with the student's code sandboxed.

    report = grade(Path("alice.ipynb"), assignment_id="a00_warmup", student="alice")
    report.score, report.max_score, report.tests

The grader runs in this (trusted) process; the submission runs in a worker forked from `sandbox` (pass one
Sandbox to grade many submissions without restarting the fork server).
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.compare import using_tolerances
from grader.course import Course, load_course
from grader.plugin import GradingOptions, GradingPlugin, TestResult
from grader.safe_text import clean
from grader.sandbox import Limits, Sandbox
from grader.submission import declared_student_id


UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "unraisableexception", "threadexception", "faulthandler", "junitxml", "pastebin",
    "doctest", "stepwise", "lfplugin", "nfplugin", "logging", "randomly", "warnings", "legacypath", "recwarn",
    "setuponly", "setupplan", "debugging", "python_path",
)


@dataclass
class GradeReport:
    assignment: str
    student: str
    tests: list[TestResult]
    problems: list[str] = field(default_factory=list)
    isolation: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)  # PNGs for the HTML report; not in to_dict (JSON)

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)

    @property
    def grader_errors(self) -> list[TestResult]:
        return [t for t in self.tests if t.grader_error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "tests": {t.name: t.to_dict() for t in self.tests},
            "problems": self.problems,
            "isolation": self.isolation,
            "settings": self.settings,
            "output": self.output,
            "seconds": round(self.seconds, 3),
        }


# pytest.main, the redirected stdout and the sandbox's one-student-at-a-time fork server are per process: two gradings
# in one process (a Dask worker with several threads) would interfere, so they take turns.
_ONE_GRADING_AT_A_TIME = threading.Lock()


class GraderError(Exception):
    """The grader cannot run (bad course.yaml, grader file that does not collect): not the student's fault."""


def grade(
    submission: Path,
    *,
    assignment_id: str,
    student: str = "anonymous",
    course: Course | None = None,
    device: str = "cpu",
    sandbox: Sandbox | None = None,
    visibility: str = "all",
    secret: bytes | None = None,
    limits: Limits | None = None,
    tasks: frozenset[str] | None = None,
) -> GradeReport:
    """Grade `submission` (a notebook, .py file or folder) for one assignment of the course.

    Gradings in one process take turns (see _ONE_GRADING_AT_A_TIME); run several processes to grade in parallel.
    """
    with _ONE_GRADING_AT_A_TIME:
        return _grade(submission, assignment_id=assignment_id, student=student, course=course, device=device,
                      sandbox=sandbox, visibility=visibility, secret=secret, limits=limits, tasks=tasks)


def _grade(
    submission: Path,
    *,
    assignment_id: str,
    student: str,
    course: Course | None,
    device: str,
    sandbox: Sandbox | None,
    visibility: str,
    secret: bytes | None,
    limits: Limits | None,
    tasks: frozenset[str] | None,
) -> GradeReport:
    start = time.perf_counter()
    course = course or load_course()
    assignment = course.assignment(assignment_id)
    from_course = GradingOptions.course_settings(course, assignment_id)  # limits, tolerances, the tasks' own
    course_limits = from_course.pop("limits")
    limits = limits or course_limits  # the caller's limits stand in for the assignment's; a task's still apply
    options = GradingOptions(
        submission=Path(submission),
        notebook=course.root / assignment.notebook,
        assignment=assignment_id,
        student=student,
        device=device,
        limits=limits,
        secret=secret or os.environb.get(b"GRADER_SECRET") or secrets.token_bytes(16),
        visibility=visibility,
        tasks=tasks,
        **from_course,
    )
    plugin = GradingPlugin(options, sandbox)
    _import_afresh_if_changed(course.root / assignment.grader)
    args = [
        str(course.root / assignment.grader),
        "-p", "grader.plugin", "--import-mode=importlib", "--strict-markers", "-q", "-c", os.devnull,
        "--rootdir", str(course.root), "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # Feedback comes from the plugin, so pytest's own tracebacks are not needed (they cost ~40 ms per failure),
        # nor its forced garbage collections (~0.3 s per run) or other reporting plugins.
        "--tb=no", *[f"-pno:{name}" for name in UNUSED_PYTEST_PLUGINS],
    ]
    sink = io.StringIO()
    # The assignment's tolerances for the whole run (fixtures included); the plugin swaps in a task's for its tests.
    tolerances = dict(options.tolerances)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _no_plugin_autoload(), using_tolerances(tolerances):
        code = pytest.main(args, plugins=[plugin])
    _remember_import(course.root / assignment.grader)
    if plugin.collection_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        detail = "\n".join(plugin.collection_errors) or sink.getvalue()[-3000:]
        raise GraderError(f"the grader {assignment.grader} could not run:\n{detail}")
    session = plugin.session
    problems = list(session.program.problems) if session else []
    declared = declared_student_id(Path(submission)) if Path(submission).is_file() else None
    if declared and student != "anonymous" and declared != student:
        problems.append(
            f"your notebook sets STUDENT_ID = {declared!r} but it was graded as student {student!r}: "
            f"per-student numbers are {student!r}'s; set STUDENT_ID to your own id to see them"
        )
    if session:
        problems += [f"loading cell '{e.get('label')}' raised {e.get('type')}: {e.get('message')}" for e in session.load_errors]
    isolation = plugin.sandbox.details if plugin.sandbox else {}
    tests = list(plugin.results.values())
    for t in tests:  # student text goes to terminals, pages and exports: no escape sequences anywhere
        t.feedback = clean(t.feedback)
    return GradeReport(
        assignment=assignment_id,
        student=student,
        tests=tests,
        problems=[clean(p) for p in problems],
        isolation=isolation,
        output=clean(session.output) if session else "",
        seconds=time.perf_counter() - start,
        settings={"device": device, "limits": limits.__dict__, "visibility": visibility, "tolerances": tolerances,
                  "tasks": _task_settings(options)},
        figures=plugin.figures,
    )


def _task_settings(options: GradingOptions) -> dict[str, dict[str, Any]]:
    """What tasks set for their own tests (tolerances, call_seconds), for the report's settings."""
    tasks: dict[str, dict[str, Any]] = {}
    for task, table in options.task_tolerances.items():
        tasks.setdefault(task, {})["tolerances"] = dict(table)
    for task, seconds in options.task_call_seconds.items():
        tasks.setdefault(task, {})["call_seconds"] = seconds
    return tasks


_IMPORTED: dict[str, tuple[str, float]] = {}  # grader module name -> (its file, that file's mtime when imported)


def _grader_modules(grader_file: Path) -> list[tuple[str, object]]:
    import sys

    return [(name, module) for name, module in list(sys.modules.items())
            if name.rsplit(".", 1)[-1] == grader_file.stem and Path(getattr(module, "__file__", None) or "").name == grader_file.name]


def _stamp(grader_file: Path) -> tuple[str, float]:
    return str(grader_file.resolve()), grader_file.stat().st_mtime if grader_file.exists() else 0.0


def _import_afresh_if_changed(grader_file: Path) -> None:
    """pytest's importlib mode hands back a module already in sys.modules under the grader's dotted name
    (grader.graders.test_<id>) whatever file it came from: drop it when it came from another course copy or its
    file changed since, so an edited grader is never judged by the old one; keep it otherwise (its data caches)."""
    import sys

    now = _stamp(grader_file)
    for name, module in _grader_modules(grader_file):
        if str(Path(module.__file__).resolve()) != now[0] or _IMPORTED.get(name, now) != now:
            del sys.modules[name]
            _IMPORTED.pop(name, None)


def _remember_import(grader_file: Path) -> None:
    now = _stamp(grader_file)
    for name, module in _grader_modules(grader_file):
        if str(Path(module.__file__).resolve()) == now[0]:
            _IMPORTED.setdefault(name, now)


@contextlib.contextmanager
def _no_plugin_autoload():
    """Third-party pytest plugins (random order, reruns, ...) have no business in a grading run."""
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old
