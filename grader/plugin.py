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

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from grader.compare import using_tolerances
from grader.sandbox import Limits, Sandbox, StudentCodeFailure, Worker
from grader.shortcuts import Findings, Rule, find_shortcuts, rules_of, runtime_feedback, static_feedback
from grader.submission import Program, assemble

if TYPE_CHECKING:
    from grader.course import Course

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
    forbidden: Mapping[str, Rule] | None = None  # calls each task may not make; None: course.yaml's, found above notebook
    # course.yaml's tolerances: the assignment's table ({dtype: (rtol, atol)}), and the dtypes each task changes
    # (complete pairs), swapped in while that task's tests run; the engine also applies the table to the whole run
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    task_tolerances: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    task_call_seconds: Mapping[str, float] = field(default_factory=dict)  # tasks whose calls get their own limit

    @classmethod
    def course_settings(cls, course: Course, assignment_id: str) -> dict[str, Any]:
        """The fields course.yaml decides (limits, tolerances, the tasks' own), as keyword arguments."""
        settings = course.settings(assignment_id)
        tasks = settings.tasks.values()
        return {
            "limits": limits_for(course, assignment_id),
            "tolerances": {dtype: (t.rtol, t.atol) for dtype, t in settings.tolerances.items()},
            "task_tolerances": {t.id: t.own_tolerances() for t in tasks if t.own_tolerances()},
            "task_call_seconds": {t.id: t.own_call_seconds for t in tasks if t.own_call_seconds is not None},
        }


class ShortcutUsed(Exception):
    """The task's code uses a call its rule forbids (seen in the code before the test ran): the test fails."""


class SubmissionSession:
    """The sandboxed submission a grader test talks to: `call`, `get`, `run`.

    One worker serves all tests of a submission; if the student's code kills it, the next test gets a fresh
    worker with the submission loaded again, so the remaining tests still run.
    """

    def __init__(self, options: GradingOptions, sandbox: Sandbox, needed_names: frozenset[str],
                 rules: Mapping[str, Rule] | None = None) -> None:
        self.options = options
        self.sandbox = sandbox
        program = assemble(options.notebook, options.submission, needed_names)
        self.assembly_problems = program.problems
        self.rules: Mapping[str, Rule] = rules or {}
        self.shortcuts: Findings = find_shortcuts(options.notebook, options.submission, self.rules)
        # Unresolvable dynamic calls go where the instructor looks (the report's and gradebook's problems); they
        # cost no points: the run-time evidence still judges what those calls did.
        flags = tuple(d.problem(self.rules[task]) for task, found in self.shortcuts.dynamic.items() for d in found)
        self.program: Program = replace(program, problems=program.problems + flags)
        self.hidden_now = False  # whether the test now running is hidden (its calls' printed output is withheld)
        self.call_seconds: float | None = None  # the running test's task's own call limit (None: the worker's)
        self.watch: tuple[str, ...] = ()  # the current test's forbidden calls, watched in the worker
        self.used: set[str] = set()       # which of them the student's code dispatched during the current test
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
        if self.watch and msg.get("op") in ("call", "run"):
            msg = {**msg, "watch": list(self.watch)}
        worker.used.clear()
        start = worker.output_size()
        try:
            return worker.request(msg, timeout or self.call_seconds)
        except StudentCodeFailure as exc:
            if worker.status is not None:  # the worker is gone: keep what it printed, start afresh next time
                self.outputs.append(worker.output())
                self._worker = None
            if exc.kind == "missing" and self.assembly_problems:
                raise StudentCodeFailure(f"{exc} ({self.assembly_problems[0]})", kind="missing") from None
            raise
        finally:
            self.used |= worker.used
            if self.hidden_now:  # what a hidden test's call printed could show its inputs: not on the student's page
                worker.hide_output_since(start)

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
        self.rules: Mapping[str, Rule] = _forbidden_calls(options)

    # ------------------------------------------------------------------------------------------- fixtures
    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> SubmissionSession:
        """The student's submission, loaded in a sandboxed worker once and shared by all tests of the run."""
        if self.session is None:
            if self.sandbox is None:
                self.sandbox = Sandbox(device=self.options.device)
            needed = frozenset(getattr(request.module, "SUBMISSION_NAMES", ()))
            self.session = SubmissionSession(self.options, self.sandbox, needed, self.rules)
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

    def _rule(self, item: pytest.Item) -> Rule | None:
        task = _task_of(item)
        return self.rules.get(task) if task else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> None:
        """A task whose code already shows a forbidden call is not run (a training run would be wasted)."""
        rule = self._rule(pyfuncitem)
        if rule is not None and self.session is not None and rule.task in self.session.shortcuts.uses:
            raise ShortcutUsed(static_feedback(self.session.shortcuts.uses[rule.task][0], rule))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        rule = self._rule(item)
        task = _task_of(item) or ""
        if rule is not None and self.session is not None:
            self.session.watch, self.session.used = rule.calls, set()
        if self.session is not None:
            self.session.hidden_now = item.get_closest_marker("hidden") is not None
            self.session.call_seconds = self.options.task_call_seconds.get(task)
        # The task's tolerances over the assignment's, for this test's comparisons only (restored after it).
        tolerances = {**self.options.tolerances, **self.options.task_tolerances.get(task, {})}
        try:
            with using_tolerances(tolerances) if tolerances else contextlib.nullcontext():
                yield
        finally:
            if self.session is not None:
                self.session.watch = ()
                self.session.call_seconds = None

    def _shortcut_feedback(self, item: pytest.Item, call: pytest.CallInfo) -> str | None:
        rule = self._rule(item)
        if rule is None or call.when != "call" or self.session is None:
            return None
        if call.excinfo is not None and isinstance(call.excinfo.value, ShortcutUsed):
            return str(call.excinfo.value)
        used = self.session.used & set(rule.calls)
        return runtime_feedback(used, rule) if used else None

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
        shortcut = self._shortcut_feedback(item, call)
        if shortcut is not None:  # whatever the values: the points are for writing it, not for calling it
            status, feedback, grader_error = "failed", shortcut, False
        else:
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


def _task_of(item: pytest.Item) -> str | None:
    """The course.yaml task of a test, from its @pytest.mark.task("...")."""
    marker = item.get_closest_marker("task")
    return marker.args[0] if marker and marker.args else None


def _verdict(excinfo: pytest.ExceptionInfo | None, hidden: bool) -> tuple[str, str, bool]:
    """(status, feedback for the student, whether the grader itself failed).

    A hidden test's feedback names the mistake but never shows its inputs or expected values: a Mismatch gives its
    hidden_message, and numbers and arrays in any other message (an assertion's, or the student's own exception,
    which could print the inputs it was called with) are blanked.
    """
    if excinfo is None:
        return "passed", "", False
    exc = excinfo.value
    if isinstance(exc, StudentCodeFailure):
        message = str(exc)
        if hidden and exc.kind in ("exception", "protocol", "unsupported", "too_large"):
            message = hide_values(message)
        return exc.status, message, False
    if isinstance(exc, AssertionError):
        if hidden and getattr(exc, "hidden_message", None):
            return "failed", exc.hidden_message, False
        # Keep the teaching message; drop pytest's re-evaluated expression, which could show hidden expected values.
        message = str(exc).split("\nassert ")[0].strip()
        if not message or message.startswith("assert "):
            message = "the result is not what this test expects" + ("" if hidden else f": {str(exc)[:300]}")
        return "failed", hide_values(message) if hidden else message, False
    if isinstance(exc, pytest.skip.Exception):
        return "failed", f"skipped: {exc}", False
    return "error", f"{GRADER_ERROR_PREFIX} on this test ({type(exc).__name__}: {str(exc)[:300]}); tell your instructor", True


_VALUES = re.compile(
    r"tensor\((?:[^()]|\([^()]*\))*\)|array\((?:[^()]|\([^()]*\))*\)"   # tensor(...), array(...)
    r"|\[[^\[\]]*\d[^\[\]]*\]"                                          # [1.5, 2.0] (innermost brackets)
    r"|[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+"     # 1.5, .5, 2e-3
    r"|(?<![\w.])[-+]?\d{3,}(?![\w.])"                                     # 1234 (short counts stay)
)


def hide_values(message: str) -> str:
    """`message` with the numbers and arrays in it replaced by '…' (hidden tests' feedback)."""
    previous = None
    while previous != message:  # nested brackets collapse from the inside out
        previous, message = message, _VALUES.sub("…", message)
    return message


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
        secret=os.environb.get(b"GRADER_SECRET") or secrets.token_bytes(16),
        forbidden=rules_of(assignment),
        **GradingOptions.course_settings(course, assignment_id),
    )


def _forbidden_calls(options: GradingOptions) -> Mapping[str, Rule]:
    """The options' rules, or those of the course.yaml above the instructor's notebook."""
    if options.forbidden is not None:
        return options.forbidden
    from grader.course import CourseConfigError, find_course_file

    try:
        path = find_course_file(Path(options.notebook).parent)
        return _course_rules(path, path.stat().st_mtime_ns, options.assignment)
    except (CourseConfigError, KeyError, OSError):  # a notebook outside a course (an experiment): no rules
        return {}


@lru_cache(maxsize=16)
def _course_rules(path: Path, mtime_ns: int, assignment_id: str) -> Mapping[str, Rule]:
    """Read once per version of course.yaml: a class run grades hundreds of submissions against the same rules."""
    from grader.course import load_course

    return MappingProxyType(rules_of(load_course(path).assignment(assignment_id)))


def limits_for(course, assignment_id: str) -> Limits:
    """The sandbox limits course.yaml sets for an assignment."""
    effective = course.limits(assignment_id)
    values = {k: getattr(effective, k) for k in Limits.__dataclass_fields__ if hasattr(effective, k)}
    return Limits(**values)
