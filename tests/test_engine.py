"""Does grading give full marks to every correct style, named feedback to each mistake, and a score to bad input?"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import load_course
from grader.engine import grade
from grader.sandbox import Limits, Sandbox
from tests.examples_manifest import check_example, expected_score, grader_tests, load_examples

ROOT = Path(__file__).resolve().parent.parent
A = "a00_warmup"  # graded in seconds; its points come from course.yaml and its examples' outcomes from their manifest
MANIFEST = load_examples(load_course(ROOT), A)
FULL_MARKS = [e for e in MANIFEST.values() if e.full_marks]
WRONG = [e for e in MANIFEST.values() if e.fails]
NAMED = next(e for e in WRONG if any(f.feedback for f in e.fails))  # an example whose mistakes the feedback names
PUBLIC = [t for t in grader_tests(load_course(ROOT), A) if not t.hidden]
LIMITS = Limits(submission_seconds=30, call_seconds=2, cpu_seconds=20, memory_mb=1024)


@pytest.fixture(scope="module")
def course():
    return load_course(ROOT)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def _grade(path, course, sandbox, **kw):
    return grade(path, assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS, student=path.stem, **kw)


def test_the_solution_gets_full_marks(course, sandbox):
    """Does the instructor's solution get every point course.yaml gives the assignment?"""
    report = _grade(ROOT / f"solutions/{A}/{A}.ipynb", course, sandbox)
    assert report.score == report.max_score == course.assignment(A).points, \
        [(t.name, t.feedback) for t in report.tests if t.status != "passed"]


@pytest.mark.parametrize("example", FULL_MARKS, ids=[e.path.name for e in FULL_MARKS])
def test_correct_answers_in_any_style_get_full_marks(example, course, sandbox):
    """Do the examples written correctly in other styles (numpy, float32, loops; see expected.yaml) get every point?"""
    report = _grade(example.path, course, sandbox)
    assert check_example(example, report.tests) == []
    assert report.score == expected_score(example, report.tests) > 0
    assert report.max_score == course.assignment(A).points


def test_release_skeleton_gets_zero_without_crashing(course, sandbox):
    """Does the unsolved release score 0, each test saying what is missing?"""
    report = _grade(ROOT / f"assignments/{A}/{A}.ipynb", course, sandbox)
    assert report.score == 0 and len(report.tests) == len(grader_tests(course, A))
    assert all(t.status == "error" and "NotImplementedError" in t.feedback for t in report.tests)


@pytest.mark.parametrize("example", WRONG, ids=[e.path.name for e in WRONG])
def test_known_mistakes_timeouts_and_crashes_fail_only_their_tests(example, course, sandbox):
    """Do mistakes, a call that loops forever and one that kills the worker lose only their tests' points, each with
    its status and named feedback (expected.yaml), while the other tests still pass?"""
    report = _grade(example.path, course, sandbox)
    assert check_example(example, report.tests) == []
    assert report.score == expected_score(example, report.tests)
    assert 0 < report.score < report.max_score  # a failure costs points, and the rest still counts


def test_public_visibility_runs_only_public_tests(course, sandbox):
    """Does `grader check` (public visibility) leave the hidden tests out?"""
    report = _grade(FULL_MARKS[0].path, course, sandbox, visibility="public")
    assert {t.visibility for t in report.tests} == {"public"} and [t.name for t in report.tests] == [t.name for t in PUBLIC]


def test_grade_json_prints_exactly_one_object_and_exits_zero_for_any_score():
    """Does `grader grade --json` print one JSON object with per-test details, exit 0 even for a low score?"""
    out = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(NAMED.path), "--assignment", A, "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["assignment"], doc["student"]) == (A, NAMED.student)
    assert doc["max_score"] == load_course(ROOT).assignment(A).points
    assert doc["score"] == expected_score(NAMED, doc["tests"]) and 0 < doc["score"] < doc["max_score"]
    assert check_example(NAMED, doc["tests"]) == []
    test = doc["tests"][PUBLIC[0].name]
    assert set(test) >= {"points", "max_points", "status", "visibility", "feedback"}


def test_grade_refuses_a_missing_file_with_advice():
    """Is a typo in the path a clear message and a non-zero exit, not a traceback?"""
    out = subprocess.run([sys.executable, "-m", "grader", "grade", "no/such/file.ipynb"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_instructor_can_run_a_grader_with_plain_pytest(tmp_path):
    """Can an instructor debug a grader with `pytest grader/graders/test_a00_warmup.py --submission ...`, and does
    pytest fail the tests the example's manifest says, with the same feedback?"""
    import xml.etree.ElementTree as ET

    junit = tmp_path / "junit.xml"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", load_course(ROOT).assignment(A).grader, "--submission", str(NAMED.path),
         "-p", "no:cacheprovider", "-q", f"--junitxml={junit}"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    tests = grader_tests(load_course(ROOT), A)
    assert sorted(cases) == sorted(t.name for t in tests), out.stdout[-2000:]
    results = []
    for t in tests:
        failure = cases[t.name].find("failure")
        results.append({"name": t.name, "task": t.task, "status": "passed" if failure is None else "failed",
                        "points": t.points if failure is None else 0, "max_points": t.points,
                        "feedback": "" if failure is None else f"{failure.get('message')}\n{failure.text}"})
    assert check_example(NAMED, results) == [], out.stdout[-2000:]
    failed = sum(r["status"] == "failed" for r in results)
    assert f"{failed} failed, {len(tests) - failed} passed" in out.stdout, out.stdout[-2000:]


def test_grader_check_shows_public_results_with_hints():
    """Does `grader check` give a student the public checks, what failed and why, and no hidden tests?"""
    out = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(NAMED.path), "--assignment", A],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "public checks pass" in out.stdout
    public = {t.name for t in PUBLIC}
    named = [f.feedback for f in NAMED.fails if f.feedback and f.target in public]
    assert named and all(words in out.stdout for words in named), out.stdout  # the public mistakes, named
    hidden = [t.title[:25] for t in grader_tests(load_course(ROOT), A) if t.hidden]
    assert hidden and not any(title in out.stdout for title in hidden), out.stdout  # no hidden test's title


def test_check_inside_a_notebook_folder_finds_the_notebook_and_one_task(tmp_path, monkeypatch, capsys):
    """Inside Jupyter, does `check(task)` find the saved notebook in the working folder and check only that task?"""
    import shutil

    from grader import check

    task = load_course(ROOT).assignment(A).tasks[-1].id
    public = sum(t.task == task for t in PUBLIC)
    notebook = tmp_path / f"{A}.ipynb"
    shutil.copy(ROOT / f"solutions/{A}/{A}.ipynb", notebook)
    shutil.copy(ROOT / "course.yaml", tmp_path / "course.yaml")
    every_file = [rel for a in load_course(ROOT).assignments for rel in (a.notebook, a.grader)]  # course.yaml checks them
    for rel in [*every_file, "grader/graders/conftest.py"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    check(task)
    text = capsys.readouterr().out
    assert f"{public} of {public} public checks pass" in text and task in text
