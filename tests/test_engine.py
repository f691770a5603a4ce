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

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "a00_warmup"
LIMITS = Limits(submission_seconds=30, call_seconds=2, cpu_seconds=20, memory_mb=1024)


@pytest.fixture(scope="module")
def course():
    return load_course(ROOT)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def _grade(path, course, sandbox, **kw):
    return grade(path, assignment_id="a00_warmup", course=course, sandbox=sandbox, limits=LIMITS, student=path.stem, **kw)


def by_test(report):
    return {t.name: t for t in report.tests}


@pytest.mark.parametrize("path", [ROOT / "solutions/a00_warmup/a00_warmup.ipynb", EXAMPLES / "alice.py", EXAMPLES / "carol.py"],
                         ids=["solution", "torch-style", "numpy-float32-loops"])
def test_correct_solutions_in_any_style_get_full_marks(path, course, sandbox):
    """Do the solution, and correct answers in other styles (numpy, float32, loops), get every point?"""
    report = _grade(path, course, sandbox)
    assert report.score == report.max_score == 6, [(t.name, t.feedback) for t in report.tests if t.status != "passed"]


def test_release_skeleton_gets_zero_without_crashing(course, sandbox):
    """Does the unsolved release score 0, each test saying what is missing?"""
    report = _grade(ROOT / "assignments/a00_warmup/a00_warmup.ipynb", course, sandbox)
    assert report.score == 0 and len(report.tests) == 6
    assert all(t.status == "error" and "NotImplementedError" in t.feedback for t in report.tests)


def test_known_mistakes_lose_points_and_are_named(course, sandbox):
    """Does Bob lose the points of his mistakes, with feedback naming each one?"""
    tests = by_test(_grade(EXAMPLES / "bob.py", course, sandbox))
    assert tests["test_sigmoid_on_random_inputs"].status == "passed"
    assert "leaky ReLU" in tests["test_relu_on_random_inputs"].feedback
    assert "wrong axis" in tests["test_softmax_rows_of_a_batch"].feedback
    assert "NaN" in tests["test_softmax_is_stable_for_large_logits"].feedback


def test_timeouts_and_crashes_fail_only_their_tests(course, sandbox):
    """When relu loops forever and softmax kills the worker, do the sigmoid tests still pass?"""
    report = _grade(EXAMPLES / "dave.py", course, sandbox)
    tests = by_test(report)
    assert tests["test_sigmoid_on_random_inputs"].status == "passed"
    assert tests["test_sigmoid_keeps_shape_and_large_inputs"].status == "passed"
    assert tests["test_relu_on_random_inputs"].status == "timeout"
    assert {tests[n].status for n in tests if "softmax" in n} == {"crashed"}
    assert report.score == 2


def test_public_visibility_runs_only_public_tests(course, sandbox):
    """Does `grader check` (public visibility) leave the hidden tests out?"""
    report = _grade(EXAMPLES / "alice.py", course, sandbox, visibility="public")
    assert {t.visibility for t in report.tests} == {"public"} and len(report.tests) == 3


def test_grade_json_prints_exactly_one_object_and_exits_zero_for_any_score():
    """Does `grader grade --json` print one JSON object with per-test details, exit 0 even for a low score?"""
    out = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(EXAMPLES / "bob.py"), "--assignment", "a00_warmup", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["assignment"] == "a00_warmup" and doc["student"] == "bob" and doc["max_score"] == 6
    assert 0 < doc["score"] < 6
    test = doc["tests"]["test_relu_on_random_inputs"]
    assert set(test) >= {"points", "max_points", "status", "visibility", "feedback"}


def test_grade_refuses_a_missing_file_with_advice():
    """Is a typo in the path a clear message and a non-zero exit, not a traceback?"""
    out = subprocess.run([sys.executable, "-m", "grader", "grade", "no/such/file.ipynb"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_instructor_can_run_a_grader_with_plain_pytest():
    """Can an instructor debug a grader with `pytest grader/graders/test_a00_warmup.py --submission ...`?"""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "grader/graders/test_a00_warmup.py", "--submission", str(EXAMPLES / "bob.py"),
         "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert "3 failed, 3 passed" in out.stdout, out.stdout[-2000:]


def test_grader_check_shows_public_results_with_hints():
    """Does `grader check` give a student the public checks, what failed and why, and no hidden tests?"""
    out = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(EXAMPLES / "bob.py"), "--assignment", "a00_warmup"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "public checks pass" in out.stdout and "leaky ReLU" in out.stdout
    assert "large |x|" not in out.stdout  # the hidden sigmoid test's title


def test_check_inside_a_notebook_folder_finds_the_notebook_and_one_task(tmp_path, monkeypatch, capsys):
    """Inside Jupyter, does `check("relu")` find the saved notebook in the working folder and check only relu?"""
    import shutil

    from grader import check

    notebook = tmp_path / "a00_warmup.ipynb"
    shutil.copy(ROOT / "solutions/a00_warmup/a00_warmup.ipynb", notebook)
    shutil.copy(ROOT / "course.yaml", tmp_path / "course.yaml")
    every_file = [rel for a in load_course(ROOT).assignments for rel in (a.notebook, a.grader)]  # course.yaml checks them
    for rel in [*every_file, "grader/graders/conftest.py"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    check("relu")
    text = capsys.readouterr().out
    assert "1 of 1 public checks pass" in text and "relu" in text
