"""The pytest side of grading: rubric markers, the sandboxed `submission` fixture, and the results.

A grader test reads like a rubric line:

    @pytest.mark.points(2)
    @pytest.mark.hidden
    def test_lstm_step_matches_pytorch(submission, rng):
        \"\"\"lstm_step on a random batch matches the reference\"\"\"
        ...
        got = submission.call("lstm_step", x, h, c, W_ih, W_hh, b_ih, b_hh)
        assert_close(actual=got[0], expected=h_ref, name="h_t", mistakes=[...])

Instructors can debug one grader against one submission with plain pytest:

    pytest grader/graders/test_a03_recurrent.py --submission path/to/notebook.ipynb

Student code runs only in the sandboxed worker; this process builds inputs, calls, and compares.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.sandbox import Limits, Sandbox, StudentCodeFailure, Worker
from grader.submission import Program, assemble

STATUSES = ("passed", "failed", "error", "timeout", "crashed")
GRADER_ERROR_PREFIX = "the grader itself failed"  # feedback of a test the grader could not run (reports look for it)


@dataclass(frozen=True)
class Rubric:
    """Points and visibility declared on a test with markers."""

    points: float
    hidden: bool
    task: str | None

    @classmethod
    def of(cls, item: pytest.Item) -> Rubric:
        marker = item.get_closest_marker("points")
        if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], (int, float)) or marker.args[0] <= 0:
            raise pytest.UsageError(f"{item.nodeid}: every grader test needs @pytest.mark.points(N) with N > 0")
        task = item.get_closest_marker("task")
        return cls(float(marker.args[0]), item.get_closest_marker("hidden") is not None, task.args[0] if task else None)


@dataclass
class TestResult:
    name: str
    title: str
    points: float
    max_points: float
    status: str
    visibility: str
    feedback: str
    task: str | None = None
    grader_error: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GradingOptions:
    submission: Path
    notebook: Path
    assignment: str
    student: str = "anonymous"
    device: str = "cpu"
    limits: Limits = field(default_factory=Limits)
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    visibility: str = "all"  # "public" runs only public tests (grader check)
    tasks: frozenset[str] | None = None  # only the tests of these tasks (the quality gate's mutants); None: all


class SubmissionSession:
    """The sandboxed submission a grader test talks to: `call`, `get`, `run`.

    One worker serves all tests of a submission; if the student's code kills it, the next test gets a fresh
    worker with the submission loaded again, so the remaining tests still run.
    """

    def __init__(self, options: GradingOptions, sandbox: Sandbox, needed_names: frozenset[str]) -> None:
        self.options = options
        self.sandbox = sandbox
        self.program: Program = assemble(options.notebook, options.submission, needed_names)
        self._worker: Worker | None = None
        self.load_errors: list[dict] = []
        self.load_failure: StudentCodeFailure | None = None
        self.defined: list[str] = []
        self.outputs: list[str] = []
        self.deadline = time.monotonic() + options.limits.submission_seconds

    def _ensure_worker(self) -> Worker:
        if self.load_failure is not None:
            # Loading hung or crashed once; it would again, so the remaining tests fail at once with the reason.
            raise type(self.load_failure)(f"loading your notebook failed: {self.load_failure}")
        if self._worker is None:
            self._worker = self.sandbox.spawn(self.options.limits)
            self._worker.deadline = self.deadline
            try:
                loaded = self._worker.request({"op": "load", "cells": self.program.as_cells()}, timeout=self.options.limits.call_seconds * 3)
            except StudentCodeFailure as exc:
                self.load_failure = exc
                self.close()
                raise
            self.load_errors = loaded["errors"]
            self.defined = loaded["defined"]
        return self._worker

    def _request(self, msg: dict, timeout: float | None) -> Any:
        worker = self._ensure_worker()
        try:
            return worker.request(msg, timeout)
        except StudentCodeFailure as exc:
            if worker.status is not None:  # the worker is gone: keep what it printed, start afresh next time
                self.outputs.append(worker.output())
                self._worker = None
            if exc.kind == "missing" and self.program.problems:
                raise StudentCodeFailure(f"{exc} ({self.program.problems[0]})", kind="missing") from None
            raise

    def call(self, name: str, *args: Any, convert: str = "torch", timeout: float | None = None, **kwargs: Any) -> Any:
        """The student's `name(*args, **kwargs)`; arrays arrive as float64 tensors unless convert="numpy"."""
        return self._request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs, "convert": convert}, timeout)

    def get(self, name: str) -> Any:
        """The value of a top-level name of the submission (an answer like `h1 = 0.964`)."""
        return self._request({"op": "get", "name": name}, None)

    def run(self, harness, *args: Any, convert: str = "torch", timeout: float | None = None, **kwargs: Any) -> Any:
        """Run `harness(student, *args)` in the worker; `harness` is a self-contained grader function."""
        import inspect
        import textwrap

        source = textwrap.dedent(inspect.getsource(harness))
        return self._request(
            {"op": "run", "source": source, "entry": harness.__name__, "args": list(args), "kwargs": kwargs, "convert": convert},
            timeout,
        )

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self.outputs.append(self._worker.output())
            self._worker = None

    @property
    def output(self) -> str:
        return "\n".join(o for o in self.outputs if o)


class GradingPlugin:
    """Registered once per grading run: provides fixtures and collects one TestResult per test."""

    def __init__(self, options: GradingOptions, sandbox: Sandbox | None = None) -> None:
        self.options = options
        self._own_sandbox = sandbox is None
        self.sandbox = sandbox
        self.session: SubmissionSession | None = None
        self.results: dict[str, TestResult] = {}
        self.collection_errors: list[str] = []
        self.figures: list[dict] = []  # {"name", "png", "test"}: figures grader tests drew for the report

    # ------------------------------------------------------------------------------------------- fixtures
    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> SubmissionSession:
        """The student's submission, loaded in a sandboxed worker once and shared by all tests of the run."""
        if self.session is None:
            if self.sandbox is None:
                self.sandbox = Sandbox(device=self.options.device)
            needed = frozenset(getattr(request.module, "SUBMISSION_NAMES", ()))
            self.session = SubmissionSession(self.options, self.sandbox, needed)
        return self.session

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """Inputs drawn from HMAC(secret, student, task, test): unpredictable without the secret.

        The secret is the course's (GRADER_SECRET, kept by the instructor: regrading reproduces every input) or,
        without one, fresh per run (a self-learner's check). Neighbours never share hidden inputs.
        """
        task = request.node.get_closest_marker("task")
        key = f"{self.options.student}\x00{task.args[0] if task else ''}\x00{request.node.nodeid}".encode()
        digest = hmac.new(self.options.secret, key, hashlib.sha256).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "big"))

    @pytest.fixture
    def figure(self, request: pytest.FixtureRequest):
        """`figure(name, fig)`: keep a matplotlib figure (drawn here, from plain data) for the student's report."""

        def add(name: str, fig) -> None:
            import io

            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
            self.figures.append({"name": name, "png": buffer.getvalue(), "test": request.node.name})
            try:
                import matplotlib.pyplot as plt

                plt.close(fig)
            except Exception:
                pass

        return add

    @pytest.fixture
    def student_id(self) -> str:
        return self.options.student

    @pytest.fixture
    def device(self) -> str:
        return self.options.device

    # ------------------------------------------------------------------------------------------- hooks
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.options.visibility == "public":
            items[:] = [i for i in items if i.get_closest_marker("hidden") is None]
        if self.options.tasks is not None:
            items[:] = [i for i in items if (m := i.get_closest_marker("task")) and m.args[0] in self.options.tasks]
        for item in items:
            Rubric.of(item)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup" and report.passed:
            return
        if call.when == "teardown" and (report.passed or item.nodeid in self.results):
            return
        rubric = Rubric.of(item)
        doc = (item.function.__doc__ or "").strip().splitlines() if hasattr(item, "function") else []
        status, feedback, grader_error = _verdict(call.excinfo, rubric.hidden)
        self.results[item.nodeid] = TestResult(
            name=item.name,
            title=doc[0] if doc else item.name.removeprefix("test_").replace("_", " "),
            points=rubric.points if status == "passed" else 0.0,
            max_points=rubric.points,
            status=status,
            visibility="hidden" if rubric.hidden else "public",
            feedback=feedback,
            task=rubric.task,
            grader_error=grader_error,
            seconds=call.duration,
        )

    def pytest_sessionfinish(self) -> None:
        if self.session is not None:
            self.session.close()
        if self._own_sandbox and self.sandbox is not None:
            self.sandbox.close()


def _verdict(excinfo: pytest.ExceptionInfo | None, hidden: bool) -> tuple[str, str, bool]:
    """(status, feedback for the student, whether the grader itself failed)."""
    if excinfo is None:
        return "passed", "", False
    exc = excinfo.value
    if isinstance(exc, StudentCodeFailure):
        return exc.status, str(exc), False
    if isinstance(exc, AssertionError):
        # Keep the teaching message; drop pytest's re-evaluated expression, which could show hidden expected values.
        message = str(exc).split("\nassert ")[0].strip()
        if not message or message.startswith("assert "):
            message = "the result is not what this test expects" + ("" if hidden else f": {str(exc)[:300]}")
        return "failed", message, False
    if isinstance(exc, pytest.skip.Exception):
        return "failed", f"skipped: {exc}", False
    return "error", f"{GRADER_ERROR_PREFIX} on this test ({type(exc).__name__}: {str(exc)[:300]}); tell your instructor", True


# ----------------------------------------------------------------------------------------------- pytest entry points
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "sandboxed grading")
    group.addoption("--submission", help="notebook (.ipynb), .py file or folder to grade")
    group.addoption("--notebook", help="instructor's source notebook (default: from course.yaml)")
    group.addoption("--assignment", help="assignment id in course.yaml (default: from the grader file's name)")
    group.addoption("--student", default="anonymous", help="student id (seeds per-student inputs)")
    group.addoption("--grader-device", default="cpu", choices=("cpu", "cuda"), help="device for the student's tensors")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points this grader test is worth (required, n > 0)")
    config.addinivalue_line("markers", "hidden: a hidden test (students see its title and feedback only after grading)")
    config.addinivalue_line("markers", "task(name): the course.yaml task this test belongs to")
    already = any(isinstance(p, GradingPlugin) for p in config.pluginmanager.get_plugins())
    path = config.getoption("--submission", default=None)
    if path and not already:
        config.pluginmanager.register(GradingPlugin(_options_from_cli(config, Path(path))), "grader-session")


def _options_from_cli(config: pytest.Config, submission: Path) -> GradingOptions:
    from grader.course import load_course

    assignment_id = config.getoption("--assignment")
    course = load_course()
    if not assignment_id:
        stems = [Path(str(a)).stem for a in config.args]
        matches = [a.id for a in course.assignments if any(a.id in s for s in stems)]
        if len(matches) != 1:
            raise pytest.UsageError("give --assignment ID (could not tell the assignment from the grader file name)")
        assignment_id = matches[0]
    assignment = course.assignment(assignment_id)
    notebook = Path(config.getoption("--notebook") or course.root / assignment.notebook)
    return GradingOptions(
        submission=submission,
        notebook=notebook,
        assignment=assignment_id,
        student=config.getoption("--student"),
        device=config.getoption("--grader-device"),
        limits=limits_for(course, assignment_id),
        secret=os.environb.get(b"GRADER_SECRET") or secrets.token_bytes(16),
    )


def limits_for(course, assignment_id: str) -> Limits:
    """The sandbox limits course.yaml sets for an assignment."""
    effective = course.limits(assignment_id)
    values = {k: getattr(effective, k) for k in Limits.__dataclass_fields__ if hasattr(effective, k)}
    return Limits(**values)
