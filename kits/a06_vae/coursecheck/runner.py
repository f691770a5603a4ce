"""Running an assignment's public tests against the student's definitions, and the verdict of each.

A kit folder (`coursecheck/assignments/<id>/`) holds `kit.json` (the public tests: task, points, title, the names
they call), `public_tests.py` (the public tests' code and the helpers they need, taken from the grader) and the
recorded reference results. The verdicts follow the grader's: points only for a passing test; the feedback of a
failed comparison is the message `assert_close` raised, which names the mistake when the output matches one.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from coursecheck.compare import using_tolerances
from coursecheck.live import LiveSubmission, StudentCodeFailure
from coursecheck.recorded import NotRecorded, Record, ReplayModule
from coursecheck.variants import SELF_LEARNER, NumbersNotInKit, use_kit_folder

MARK = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "unchecked": "·"}
KITS = Path(__file__).parent / "assignments"
KIT_ERROR_PREFIX = "this check could not run in the kit"


@dataclass
class CheckResult:
    name: str
    title: str
    task: str
    points: float
    max_points: float
    status: str  # passed, failed, timeout, error
    feedback: str
    seconds: float = 0.0
    used: tuple[str, ...] = ()  # the student's names the test asked for

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def public_rng(seed: str, task: str, test: str) -> np.random.Generator:
    """The inputs of one public test: the same in every kit and in the build that recorded its references."""
    digest = hashlib.sha256(f"{seed}\x00{task}\x00{test}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


class Kit:
    """One assignment's public checks."""

    def __init__(self, folder: Path, *, reference_module: Callable[[str], Any] | None = None,
                 recorded_value: Callable | None = None, recorded_call: Callable | None = None,
                 source: str | None = None) -> None:
        """The kit in `folder`. The instructor's build passes recording stand-ins and the tests' full source."""
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "kit.json").read_text(encoding="utf-8"))
        self.assignment: str = self.meta["assignment"]
        self._reference_module = reference_module
        self._recorded_value = recorded_value
        self._recorded_call = recorded_call
        self._source = source
        self._tests: dict[str, Callable] | None = None

    @property
    def tasks(self) -> list[str]:
        return list(self.meta["tasks"])

    @property
    def tests(self) -> list[dict]:
        return list(self.meta["tests"])

    def functions(self) -> dict[str, Callable]:
        """The public test functions, loaded once (their module is the kit's public_tests.py)."""
        if self._tests is None:
            if self._reference_module is None:
                record = Record.load(self.folder)
                self._reference_module = lambda name: ReplayModule(name, record)
                self._recorded_value = lambda site, formula, *inputs: record.lookup(site, inputs, {})
                self._recorded_call = lambda site, function, *args, **kwargs: record.lookup(site, args, kwargs)
            source = self._source or (self.folder / "public_tests.py").read_text(encoding="utf-8")
            module: dict[str, Any] = {"__name__": f"coursecheck.assignments.{self.assignment}.public_tests",
                                      "__file__": str(self.folder / "public_tests.py"),  # data files lie beside it
                                      "reference_module": self._reference_module,
                                      "recorded_value": self._recorded_value,
                                      "recorded_call": self._recorded_call,
                                      "shipped_module": self.shipped_module}
            exec(compile(source, str(self.folder / "public_tests.py"), "exec"), module)
            self._tests = {t["name"]: module[t["name"]] for t in self.meta["tests"]}
        return self._tests

    def shipped_module(self, name: str):
        """A measurement module the kit carries as code beside its tests (`ring.py`: the grader's KIT_SHIPS)."""
        import importlib.util

        path = self.folder / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"coursecheck.assignments.{self.assignment}.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def run(self, namespace: dict[str, Any], tasks: list[str] | None = None, student_id: str = "anonymous",
            time_limits: bool = True) -> list[CheckResult]:
        """The verdicts of the public tests (of `tasks`, or all) against the definitions in `namespace`."""
        # One torch thread, as in the grader's worker: the time limits (a01's 20 s training) are set for it, and a
        # busy laptop with torch's default thread count can be ten times slower than one thread (measured).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._run(namespace, tasks, student_id, time_limits)
        finally:
            torch.set_num_threads(threads)

    def _run(self, namespace: dict[str, Any], tasks: list[str] | None, student_id: str, time_limits: bool) -> list[CheckResult]:
        functions = self.functions()
        if (self.folder / "numbers.json").is_file():  # this kit's numbers, also when another build of it ran before
            use_kit_folder(self.assignment, self.folder)
        submission = LiveSubmission(namespace, call_seconds=self.meta.get("call_seconds"), time_limits=time_limits)
        results = []
        tolerances = {dtype: tuple(pair) for dtype, pair in self.meta.get("tolerances", {}).items()}
        for test in self.meta["tests"]:
            if tasks is not None and test["task"] not in tasks:
                continue
            submission.used = set()
            submission.call_seconds = self.meta.get("task_call_seconds", {}).get(test["task"], self.meta.get("call_seconds"))
            own = {dtype: tuple(pair) for dtype, pair in self.meta.get("task_tolerances", {}).get(test["task"], {}).items()}
            fixtures = {
                "submission": submission,
                "rng": public_rng(self.meta["seed"], test["task"], test["name"]),
                "student_id": student_id,
                "figure": lambda name, fig: None,  # figures are drawn for the graded report only
                "device": "cpu",
            }
            fn = functions[test["name"]]
            kwargs = {p: fixtures[p] for p in inspect.signature(fn).parameters}
            start = time.perf_counter()
            try:
                with using_tolerances({**tolerances, **own}):  # course.yaml's, as the grader applies them
                    fn(**kwargs)
                status, feedback = "passed", ""
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                status, feedback = verdict(exc)
                if isinstance(exc, (NotRecorded, NumbersNotInKit)) and "student_id" in kwargs and student_id != SELF_LEARNER:
                    status, feedback = "unchecked", (
                        f"checked with your own numbers (student id {student_id!r}) when your work is graded: the kit "
                        f"knows the expected values only for STUDENT_ID = {SELF_LEARNER!r}, whose numbers you may "
                        "practise with")
            results.append(CheckResult(
                name=test["name"], title=test["title"], task=test["task"], max_points=float(test["points"]),
                points=float(test["points"]) if status == "passed" else 0.0, status=status, feedback=feedback,
                seconds=time.perf_counter() - start, used=tuple(sorted(submission.used)),
            ))
        return results


def verdict(exc: BaseException) -> tuple[str, str]:
    """(status, feedback), worded as the grader words them."""
    if isinstance(exc, StudentCodeFailure):
        return exc.status, str(exc)
    if isinstance(exc, NotRecorded):
        return "error", f"{KIT_ERROR_PREFIX} ({exc}); `grader check` or your instructor's grading will run it"
    if isinstance(exc, AssertionError):
        # Keep the teaching message; drop a re-evaluated assert expression, as the grader does.
        message = str(exc).split("\nassert ")[0].strip()
        if not message or message.startswith("assert "):
            message = f"the result is not what this test expects: {str(exc)[:300]}"
        return "failed", message
    return "error", f"{KIT_ERROR_PREFIX} ({type(exc).__name__}: {str(exc)[:300]}); tell your instructor"


def student_view(results: list[CheckResult], notes: list[str] = ()) -> str:
    """The text a check cell prints: the same layout as `grader check`."""
    passed = sum(r.status == "passed" for r in results)
    score = sum(r.points for r in results)
    total = sum(r.max_points for r in results)
    lines = [f"{passed} of {len(results)} public checks pass ({score:g}/{total:g} points)."]
    unchecked = sum(r.status == "unchecked" for r in results)
    if unchecked:
        lines[0] += f" {unchecked} use your own numbers and are checked when graded."
    lines += [f"  ⚠ {note}" for note in notes]
    for r in results:
        lines.append(f"  {MARK.get(r.status, '?')} {r.title}")
        if r.status != "passed":
            lines += ["      " + line for line in textwrap.wrap(r.feedback or "not passed", 96)]
    if passed == len(results) and results:
        lines.append("All public checks pass. Hidden tests with other inputs are run when your work is graded.")
    elif passed + unchecked == len(results) and results:
        lines.append("Every public check the kit can run passes. Hidden tests with other inputs are run when your work is graded.")
    return "\n".join(lines)


def installed_kits() -> dict[str, Path]:
    """The assignments whose kits are installed in this Python: id → folder."""
    if not KITS.is_dir():
        return {}
    return {p.name: p for p in sorted(KITS.iterdir()) if (p / "kit.json").is_file()}
