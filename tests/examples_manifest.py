"""The example submissions' manifests (examples/<id>/expected.yaml): what each example is and what it must score.

The package's tests read expected outcomes from here and expected points from course.yaml, never from literals, so
adding a task or an assignment changes no test. An expectation is written per test or per task, never as a total:

    examples:
      alice.py:
        what: correct, written with torch
        full_marks: true                      # every test passes
      bob.py:
        what: two classic mistakes
        fails:                                # these lose their points; every other test passes
          test_relu_on_random_inputs: leaky ReLU          # a test: words its feedback contains
          softmax: {status: crashed}                      # a task: every one of its tests
      erin.ipynb:
        what: a notebook that is not valid JSON
        unreadable: could not be read         # every test scores 0, and a problem says this

Two readings of one expectation (`check_example`):
- strict (the manifest's own test, tests/test_demo.py): exactly as written, so an example that lacks the function
  of a task added later is reported by example and task (`grader add-task` appends the function to each example);
- lenient (tests of mechanics: class runs, exports, reports): tests of a task the expectation does not name, whose
  feedback says the function is not defined, are left out, so those tests hold while examples catch up.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from grader.course import Course, grader_test_points

MANIFEST_NAME = "expected.yaml"
SUBMISSION_SUFFIXES = (".py", ".ipynb")
NOT_DEFINED = "is not defined in your notebook"  # the worker's feedback for a missing name (grader/worker.py)
FAILING_STATUSES = ("failed", "error", "timeout", "crashed")
EXAMPLE_KEYS = ("what", "full_marks", "fails", "unreadable")
FAILURE_KEYS = ("status", "feedback")


class ManifestError(Exception):
    """An expected.yaml that does not describe its folder: the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Failure:
    """A test (or every test of a task) the example must lose all its points on."""

    target: str  # a test name (test_...) or a task id
    status: str | None  # one of FAILING_STATUSES; None: any status but passed
    feedback: str  # words the feedback contains; "" for no requirement

    def covers(self, test: str, task: str | None) -> bool:
        return self.target in (test, test.split("[", 1)[0], task)  # a parametrised test's cases share its name


@dataclass(frozen=True)
class Example:
    assignment: str
    path: Path
    what: str
    full_marks: bool
    fails: tuple[Failure, ...]
    unreadable: str | None

    @property
    def student(self) -> str:
        """The student id `grader demo` gives it: the file name without its suffix."""
        return self.path.stem

    @property
    def named_tasks(self) -> set[str]:
        return {f.target for f in self.fails}


class Verdict(NamedTuple):
    """One test's result, from any of the grader's forms (report, --json, gradebook row)."""

    test: str
    task: str | None
    status: str
    points: float
    max_points: float
    feedback: str


def verdicts(results: Any) -> list[Verdict]:
    """Verdicts from a GradeReport's tests, `grader grade --json`'s "tests" mapping, or gradebook result rows."""
    if isinstance(results, Mapping):  # --json: {name: {...}}
        results = [{"name": name, **doc} for name, doc in results.items()]
    out = []
    for r in results:
        get = r.get if isinstance(r, Mapping) else (lambda key, default=None, r=r: getattr(r, key, default))
        name = get("name") or get("test")
        points = get("points") if get("points") is not None else get("score")
        max_points = get("max_points") if get("max_points") is not None else get("max_score")
        out.append(Verdict(name, get("task"), get("status"), float(points), float(max_points), get("feedback") or ""))
    return out


class GraderTest(NamedTuple):
    name: str
    task: str | None
    points: float
    hidden: bool
    title: str  # the docstring's first line, what students see


def grader_tests(course: Course, assignment_id: str) -> list[GraderTest]:
    """The tests of an assignment's grader file with their task, points, visibility and title, read without importing
    it (points as `grader course validate` counts them), so that tests can count what a grading must show."""
    import ast

    path = course.root / course.assignment(assignment_id).grader
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out = []
    for name, task, points in grader_test_points(path):
        node = functions[name]
        hidden = any(isinstance(d, ast.Attribute) and d.attr == "hidden" for d in node.decorator_list)
        title = (ast.get_docstring(node) or name).strip().splitlines()[0]
        out.append(GraderTest(name, task, points, hidden, title))
    return out


def example_assignments(course: Course) -> list[str]:
    """The assignments of course.yaml that have example submissions, in course order."""
    return [a.id for a in course.assignments if (course.root / "examples" / a.id).is_dir()]


def load_examples(course: Course, assignment_id: str, folder: Path | None = None) -> dict[str, Example]:
    """examples/<assignment_id>/expected.yaml (or `folder`'s), validated against its folder, the course and the
    grader; by student id."""
    folder = folder or course.root / "examples" / assignment_id
    path = folder / MANIFEST_NAME
    where = f"examples/{assignment_id}/{MANIFEST_NAME}"
    if not path.is_file():
        raise ManifestError(f"{where} is missing: list every example submission of {folder.name} there "
                            "(see tests/examples_manifest.py for the format)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"examples"} or not isinstance(doc["examples"], dict):
        raise ManifestError(f"{where}: expected one top-level key `examples:` mapping file names to entries")
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in SUBMISSION_SUFFIXES)
    listed = sorted(doc["examples"])
    if files != listed:
        missing, extra = sorted(set(files) - set(listed)), sorted(set(listed) - set(files))
        raise ManifestError(f"{where} does not match its folder: "
                            + "; ".join([f"add an entry for {', '.join(missing)}"] * bool(missing)
                                        + [f"no file for the entries {', '.join(extra)}"] * bool(extra)))
    tests = {name: task for name, task, _ in grader_test_points(course.root / course.assignment(assignment_id).grader)}
    tasks = {t.id for t in course.assignment(assignment_id).tasks}
    return {Path(name).stem: _example(f"{where}: examples.{name}", folder / name, assignment_id, entry, tests, tasks)
            for name, entry in doc["examples"].items()}


def _example(at: str, path: Path, assignment_id: str, entry: Any, tests: Mapping[str, str | None],
             tasks: set[str]) -> Example:
    if not isinstance(entry, dict):
        raise ManifestError(f"{at}: expected a mapping with `what:` and one of full_marks, fails, unreadable")
    _known_keys(at, entry, EXAMPLE_KEYS)
    what = entry.get("what")
    if not isinstance(what, str) or not what.strip():
        raise ManifestError(f"{at}.what: say in words what this example is (its README line)")
    kinds = [k for k in ("full_marks", "fails", "unreadable") if k in entry]
    if len(kinds) != 1:
        raise ManifestError(f"{at}: give exactly one of full_marks: true, fails: {{test or task: feedback}}, "
                            f"unreadable: <problem text>; found {', '.join(kinds) or 'none'}")
    if "full_marks" in entry and entry["full_marks"] is not True:
        raise ManifestError(f"{at}.full_marks: write `full_marks: true`, or describe what fails with `fails:`")
    unreadable = entry.get("unreadable")
    if "unreadable" in entry and (not isinstance(unreadable, str) or not unreadable):
        raise ManifestError(f"{at}.unreadable: give words of the problem the report shows (e.g. could not be read)")
    fails = entry.get("fails", {})
    if "fails" in entry and (not isinstance(fails, dict) or not fails):
        raise ManifestError(f"{at}.fails: map each failing test or task to words of its feedback")
    return Example(assignment_id, path, what.strip(), "full_marks" in entry,
                   tuple(_failure(f"{at}.fails.{k}", k, v, tests, tasks) for k, v in fails.items()), unreadable)


def _failure(at: str, target: Any, value: Any, tests: Mapping[str, str | None], tasks: set[str]) -> Failure:
    if target not in tests and target not in tasks:
        close = difflib.get_close_matches(str(target), [*tests, *tasks], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ManifestError(f"{at}: {target!r} is neither a test of the grader nor a task in course.yaml{hint}")
    if isinstance(value, str):
        return Failure(target, None, value)
    if not isinstance(value, dict) or not value:
        raise ManifestError(f"{at}: give the words its feedback contains, or {{status: ..., feedback: ...}}")
    _known_keys(at, value, FAILURE_KEYS)
    status, feedback = value.get("status"), value.get("feedback", "")
    if status is not None and status not in FAILING_STATUSES:
        raise ManifestError(f"{at}.status: expected one of {', '.join(FAILING_STATUSES)}, found {status!r}")
    if not isinstance(feedback, str):
        raise ManifestError(f"{at}.feedback: expected words of the feedback, found {feedback!r}")
    return Failure(target, status, feedback)


def _known_keys(at: str, entry: dict, known: Iterable[str]) -> None:
    for key in entry:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            raise ManifestError(f"{at}.{key}: unknown key; {hint}")


def _counted(example: Example, results: list[Verdict], strict: bool) -> list[Verdict]:
    """The verdicts an expectation speaks for: all of them (strict), or (lenient) all but the tests of tasks the
    expectation does not name whose function the example does not define (a task added after the example)."""
    if strict or example.unreadable is not None:
        return results
    return [v for v in results
            if v.task in example.named_tasks or v.test in example.named_tasks or NOT_DEFINED not in v.feedback]


def expected_score(example: Example, results: Any, *, strict: bool = False) -> float:
    """The score the example must get, from the grader's own tests and points: every point but those it must lose."""
    counted = _counted(example, verdicts(results), strict)
    if example.unreadable is not None:
        return 0.0
    return sum(v.max_points for v in counted if not any(f.covers(v.test, v.task) for f in example.fails))


def check_example(example: Example, results: Any, problems: Iterable[str] = (), *, strict: bool = False) -> list[str]:
    """What in one grading disagrees with the example's expectation, as sentences naming the example and the test."""
    name = f"examples/{example.assignment}/{example.path.name}"
    found = verdicts(results)
    if example.unreadable is not None:
        out = [f"{name}: {v.test} scored {v.points:g}, but an unreadable submission scores 0" for v in found if v.points]
        if not any(example.unreadable in p for p in problems):
            out.append(f"{name}: no problem mentions {example.unreadable!r} (problems: {list(problems)})")
        return out
    out = []
    counted = _counted(example, found, strict)
    for f in example.fails:
        if not any(f.covers(v.test, v.task) for v in found):
            out.append(f"{name}: the grader has no test of {f.target!r} (expected.yaml names it under fails)")
    missing_tasks = []
    for v in counted:
        failure = next((f for f in example.fails if f.covers(v.test, v.task)), None)
        if failure is None and v.status != "passed" and NOT_DEFINED in v.feedback:
            if v.task not in missing_tasks:  # one line per task: its tests all say the same
                missing_tasks.append(v.task)
                out.append(f"{name} has no function for task {v.task!r} ({v.feedback[:120]}) but expected.yaml "
                           f"expects {v.test} to pass: add the function to the example (grader add-task does), or "
                           f"list {v.task} under fails")
        elif failure is None and v.status != "passed":
            out.append(f"{name}: {v.test} (task {v.task}) is {v.status}: {v.feedback[:200]!r}; expected.yaml "
                       "expects it to pass")
        elif failure is not None and (v.status == "passed" or v.points > 0):
            out.append(f"{name}: {v.test} {v.status} with {v.points:g} points; expected.yaml says it fails")
        elif failure is not None and failure.status not in (None, v.status):
            out.append(f"{name}: {v.test} is {v.status}; expected.yaml says {failure.status}")
        elif failure is not None and failure.feedback not in v.feedback:
            out.append(f"{name}: {v.test}'s feedback lacks {failure.feedback!r}: {v.feedback[:200]!r}")
    return out
