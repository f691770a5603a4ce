"""The main job (`make demo`): the examples graded as a class, with the report, feedback pages and exports; and does
every example score what its manifest (examples/<id>/expected.yaml) says?

Expected points come from course.yaml and expected outcomes from the manifests, so adding a task changes no line here.
"""
from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path

import pytest

from grader.course import load_course
from grader.demo import run_demo
from grader.engine import grade
from grader.gradebook import Gradebook
from grader.sandbox import Sandbox
from tests.examples_manifest import (
    ManifestError,
    check_example,
    example_assignments,
    expected_score,
    grader_tests,
    load_examples,
)

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = "a00_warmup"  # graded in seconds; what is expected of it comes from course.yaml and its manifest


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`grader demo` on a00_warmup's examples, once: its report text, its output folder and the examples."""
    out = tmp_path_factory.mktemp("demo")
    text = run_demo(load_course(ROOT / "course.yaml"), out, only=[A], progress=False, workers=0)
    return text, out, load_examples(COURSE, A)


def test_the_demo_grades_the_examples_and_writes_every_output(demo):
    text, out, examples = demo
    points = COURSE.assignment(A).points
    assert f"graded {len(examples)}, failed 0" in text
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith(f"| {A}")}
    assert set(rows) == set(examples)
    with Gradebook(out / "gradebook.sqlite") as gb:
        results = gb.results(A)
        submissions = {s["student"]: s for s in gb.submissions(A)}
    for student, example in examples.items():
        mine = [r for r in results if r["student"] == student]
        assert check_example(example, mine, submissions[student]["problems"]) == []
        assert f"| {expected_score(example, mine):g}/{points:g} |" in rows[student], rows[student]
        if example.unreadable:
            assert example.unreadable in rows[student]
    assert (out / "report.md").read_text() == text
    pages = sorted(p.name for p in (out / "html" / A).glob("*.html"))
    assert pages == sorted([f"{s}.html" for s in examples] + ["index.html"])
    for student, example in examples.items():  # each named mistake reaches the student's page
        page = (out / "html" / A / f"{student}.html").read_text()
        for words in (f.feedback for f in example.fails if f.feedback):
            assert html.escape(words, quote=False) in page or html.escape(words) in page, (student, words)
    with open(out / "exports" / A / "tasks.csv", newline="") as f:
        assert {r["student"] for r in csv.DictReader(f)} == set(examples)
    for student, example in examples.items():
        doc = json.loads((out / "exports" / A / "gradescope" / student / "results.json").read_text())
        mine = [r for r in results if r["student"] == student]
        assert doc["score"] == expected_score(example, mine), student


def test_running_the_demo_again_regrades_nothing(demo):
    _, out, examples = demo
    again = run_demo(load_course(ROOT / "course.yaml"), out, only=[A], progress=False, workers=0)
    assert f"unchanged (skipped) {len(examples)}" in again


# ------------------------------------------------------------------------------------------------ the manifests


@pytest.mark.parametrize("assignment_id", example_assignments(COURSE))
def test_every_manifest_lists_its_folder_with_known_tests_and_tasks(assignment_id):
    """Does examples/<id>/expected.yaml describe every example file, naming only the grader's tests and the tasks?"""
    examples = load_examples(COURSE, assignment_id)
    assert examples and all(e.what for e in examples.values())


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.mark.parametrize("assignment_id", example_assignments(COURSE))
def test_every_example_scores_what_its_manifest_says(assignment_id, sandbox):
    """Strictly: full-marks examples get every point of course.yaml's tasks, and wrong ones fail only where the
    manifest says. A task added without its function in the examples is named here, example by example."""
    problems = []
    for example in load_examples(COURSE, assignment_id).values():
        report = grade(example.path, assignment_id=assignment_id, course=COURSE, sandbox=sandbox,
                       student=example.student, secret=b"examples-manifest-1")
        problems += check_example(example, report.tests, report.problems, strict=True)
        if not problems:
            assert report.max_score == COURSE.assignment(assignment_id).points
            assert report.score == expected_score(example, report.tests, strict=True)
    assert not problems, "\n".join(problems)


FILES = sorted(p.name for p in (ROOT / "examples" / A).iterdir() if p.suffix in (".py", ".ipynb"))
FIRST_TEST = grader_tests(COURSE, A)[0].name


def write_folder(tmp_path: Path, manifest: str) -> Path:
    """a00_warmup's example files beside a manifest under test."""
    folder = tmp_path / "examples" / A
    shutil.copytree(ROOT / "examples" / A, folder, ignore=shutil.ignore_patterns("*.yaml", "*.md"))
    (folder / "expected.yaml").write_text(manifest)
    return folder


def entries(first: str = "    what: an example\n    full_marks: true") -> str:
    """A manifest for a00's example files, every entry full marks, the first one's replaced by the YAML given."""
    lines = ["examples:"]
    for i, name in enumerate(FILES):
        lines += [f"  {name}:", first if i == 0 else "    what: an example\n    full_marks: true"]
    return "\n".join(lines) + "\n"


BAD_MANIFESTS = {
    "missing-entry": (lambda: f"examples:\n  {FILES[0]}: {{what: right, full_marks: true}}\n",
                      f"add an entry for {FILES[1]}"),
    "unknown-test": (lambda: entries(f"    what: wrong\n    fails: {{{FIRST_TEST[:-2]}: words}}"),
                     f"'{FIRST_TEST[:-2]}' is neither a test of the grader nor a task.*did you mean '{FIRST_TEST}'"),
    "two-kinds": (lambda: entries("    what: wrong\n    full_marks: true\n    unreadable: x"), "exactly one of"),
    "no-what": (lambda: entries("    full_marks: true"), rf"examples.{FILES[0]}.what: say in words"),
    "misspelt-key": (lambda: entries("    what: x\n    ful_marks: true"), "did you mean 'full_marks'"),
    "bad-status": (lambda: entries(f"    what: x\n    fails: {{{FIRST_TEST}: {{status: hung}}}}"),
                   "expected one of failed"),
}


@pytest.mark.parametrize("make, message", BAD_MANIFESTS.values(), ids=BAD_MANIFESTS.keys())
def test_a_manifest_that_does_not_fit_its_folder_says_what_to_fix(tmp_path, make, message):
    folder = write_folder(tmp_path, make())
    with pytest.raises(ManifestError, match=message):
        load_examples(COURSE, A, folder)


def test_a_full_marks_example_without_a_tasks_function_is_named_strictly_and_left_out_leniently():
    """A task added to the course after the examples: the strict check names the example and the task."""
    example = next(e for e in load_examples(COURSE, A).values() if e.full_marks)
    tests = [{"test": "test_x", "task": "x", "status": "passed", "score": 1, "max_score": 1, "feedback": ""},
             {"test": "test_new", "task": "new", "status": "error", "score": 0, "max_score": 2,
              "feedback": "`new` is not defined in your notebook"}]
    (problem,) = check_example(example, tests, strict=True)
    assert example.path.name in problem and "task 'new'" in problem and "grader add-task" in problem
    assert check_example(example, tests) == [] and expected_score(example, tests) == 1
    tests[0].update(status="failed", score=0)  # a real failure is reported either way
    assert check_example(example, tests) != []
