"""Do tolerances and call limits set per assignment and per task in course.yaml validate, show where each value came
from, and change the verdicts of that task's tests only? Does a NaN's feedback carry only its own test's hint?"""
from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from grader.cli import course_settings_text
from grader.compare import TOLERANCES, Mismatch, assert_close
from grader.course import CourseConfigError, check_course, load_course

ROOT = Path(__file__).resolve().parent.parent

# float64 everywhere below: a value off by 1e-5 relative fails float64's 1e-7 and passes a task's 1e-4.
COURSE = {
    "course": {"name": "Tolerance course"},
    "defaults": {"limits": {"call_seconds": 5}, "tolerances": {"float64": {"rtol": 1e-7}}},
    "assignments": [{
        "id": "tol", "title": "Tolerances", "notebook": "nb/tol.ipynb", "grader": "graders/test_tol.py",
        "tolerances": {"float64": {"atol": 1e-12}},
        "tasks": [
            {"id": "loose", "points": 1, "tolerances": {"float64": {"rtol": 1e-4}}},
            {"id": "strict", "points": 2},
            {"id": "hurried", "points": 1, "limits": {"call_seconds": 0.3}},
        ],
    }],
}

ANSWER = '''import time


def scale(x):
    return x * (1 + 1e-5)


def slow(seconds):
    time.sleep(seconds)
    return seconds
'''

GRADER = '''import pytest

from grader.compare import assert_close

SUBMISSION_NAMES = ("scale", "slow")


@pytest.mark.task("loose")
@pytest.mark.points(1)
def test_loose(submission, rng):
    """scale(x) == x, under the loose task's tolerance"""
    x = rng.normal(size=(3, 4))
    assert_close(actual=submission.call("scale", x), expected=x, name="scale(x)")


@pytest.mark.task("strict")
@pytest.mark.points(1)
def test_strict(submission, rng):
    """scale(x) == x, under the assignment's tolerance"""
    x = rng.normal(size=(3, 4))
    assert_close(actual=submission.call("scale", x), expected=x, name="scale(x)")


@pytest.mark.task("hurried")
@pytest.mark.points(1)
def test_hurried(submission):
    """a one-second call, under the task's call limit"""
    submission.call("slow", 1.0)


@pytest.mark.task("strict")
@pytest.mark.points(1)
def test_patient(submission):
    """a one-second call, under the assignment's call limit"""
    submission.call("slow", 1.0)
'''


def write_course(folder: Path, doc: dict) -> Path:
    """A course with one assignment (an answer cell, the grader above) in `folder`; returns its course.yaml."""
    (folder / "nb").mkdir(parents=True, exist_ok=True)
    (folder / "graders").mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(ANSWER, metadata={"nbgrader": {"solution": True, "grade_id": "answers"}})]
    nbformat.write(nb, str(folder / "nb/tol.ipynb"))
    (folder / "graders/test_tol.py").write_text(GRADER)
    path = folder / "course.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def changed(change) -> dict:
    doc = copy.deepcopy(COURSE)
    change(doc)
    return doc


def task(doc: dict, index: int) -> dict:
    return doc["assignments"][0]["tasks"][index]


# ------------------------------------------------------------------------------------------ course.yaml and show
def test_each_tolerance_key_comes_from_the_most_specific_level(tmp_path):
    """Is each dtype's rtol and atol the task's, else the assignment's, else defaults', else grader/compare.py's?"""
    course = load_course(write_course(tmp_path, COURSE))
    check_course(course)
    settings = course.settings("tol")
    loose, strict = settings.tasks["loose"], settings.tasks["strict"]
    assert (loose.tolerances["float64"].rtol, loose.tolerances["float64"].atol) == (1e-4, 1e-12)
    assert (loose.origin["tolerances.float64.rtol"], loose.origin["tolerances.float64.atol"]) == ("tasks.loose", "assignment")
    assert (strict.tolerances["float64"].rtol, strict.origin["tolerances.float64.rtol"]) == (1e-7, "defaults")
    assert (settings.tolerances["float32"].rtol, settings.tolerances["float32"].atol) == TOLERANCES["float32"]
    assert settings.origin["tolerances.float32.rtol"] == "grader/compare.py"
    assert loose.own_tolerances() == {"float64": (1e-4, 1e-12)} and strict.own_tolerances() == {}


def test_a_task_call_limit_overrides_the_assignments(tmp_path):
    """Does a task's limits.call_seconds apply to that task only, the others keeping the assignment's?"""
    settings = load_course(write_course(tmp_path, COURSE)).settings("tol")
    hurried, strict = settings.tasks["hurried"], settings.tasks["strict"]
    assert (hurried.call_seconds, hurried.origin["limits.call_seconds"], hurried.own_call_seconds) == (0.3, "tasks.hurried", 0.3)
    assert (strict.call_seconds, strict.origin["limits.call_seconds"], strict.own_call_seconds) == (5, "defaults", None)


def test_course_show_prints_each_value_with_its_origin(tmp_path):
    """Does `grader course show` print the assignment's tolerances and each overriding task's, with their origins?"""
    text = course_settings_text(load_course(write_course(tmp_path, COURSE)))
    assert re.search(r"tolerances\.float64\.atol +1e-12 +\[assignment\]", text), text
    assert re.search(r"tolerances\.float64\.rtol +1e-07 +\[defaults\]", text), text
    assert re.search(r"tolerances\.float32\.rtol +0\.0001 +\[grader/compare\.py\]", text), text
    loose = text.split("\n    loose\n")[1].split("\n    hurried\n")[0]
    assert re.search(r"tolerances\.float64\.rtol +0\.0001 +\[tasks\.loose\]", loose), text
    assert re.search(r"tolerances\.float64\.atol +1e-12 +\[assignment\]", loose), text
    assert re.search(r"limits\.call_seconds +0\.3 +\[tasks\.hurried\]", text), text
    assert "\n    strict\n" not in text  # a task that sets nothing is the assignment's


BAD = {
    # id: (change, key path in the message, what the message expects)
    "assignment-dtype-typo": (lambda d: d["assignments"][0]["tolerances"].update(flaot32={"rtol": 1e-3}),
                              "assignments[0].tolerances.flaot32", "did you mean 'float32'?"),
    "task-unknown-dtype": (lambda d: task(d, 0)["tolerances"].update(int64={"rtol": 1e-2}),
                           "assignments[0].tasks[0].tolerances.int64", "expected one of: float64, float32, float16"),
    "task-key-typo": (lambda d: task(d, 0)["tolerances"]["float64"].update(rtl=1e-3),
                      "assignments[0].tasks[0].tolerances.float64.rtl", "did you mean 'rtol'?"),
    "task-zero-rtol": (lambda d: task(d, 0)["tolerances"]["float64"].update(rtol=0),
                       "assignments[0].tasks[0].tolerances.float64.rtol", "expected a positive number, found 0"),
    "task-negative-atol": (lambda d: task(d, 0)["tolerances"]["float64"].update(atol=-1e-9),
                           "assignments[0].tasks[0].tolerances.float64.atol", "expected a number >= 0"),
    "task-string-rtol": (lambda d: task(d, 0)["tolerances"]["float64"].update(rtol="1e-3"),
                         "assignments[0].tasks[0].tolerances.float64.rtol", "expected a number, found '1e-3' (str)"),
    "task-empty-dtype": (lambda d: task(d, 0)["tolerances"].update(float32={}),
                         "assignments[0].tasks[0].tolerances.float32", "expected rtol or atol (or both)"),
    "task-zero-call-seconds": (lambda d: task(d, 2)["limits"].update(call_seconds=0),
                               "assignments[0].tasks[2].limits.call_seconds", "expected a positive number"),
    "task-worker-limit": (lambda d: task(d, 2)["limits"].update(memory_mb=512), "assignments[0].tasks[2].limits.memory_mb",
                          "memory_mb cannot be set here, only call_seconds can; set memory_mb in the assignment's limits"),
    "task-limit-typo": (lambda d: task(d, 2)["limits"].update(call_secs=1), "assignments[0].tasks[2].limits.call_secs",
                        "did you mean 'call_seconds'?"),
}


@pytest.mark.parametrize("change, key, expectation", BAD.values(), ids=BAD.keys())
def test_a_bad_tolerance_or_task_limit_names_the_key_and_the_fix(tmp_path, change, key, expectation):
    """Is a misspelt dtype or key, a non-positive number or a worker limit set on a task refused, naming the key?"""
    with pytest.raises(CourseConfigError) as err:
        load_course(write_course(tmp_path, changed(change)))
    message = str(err.value)
    assert message.startswith(f"course.yaml: {key} (line"), message
    assert expectation in message, message


# ------------------------------------------------------------------------------------------ grading
@pytest.fixture(scope="module")
def sandbox():
    from grader.sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


def grade_tol(tmp_path: Path, doc: dict, sandbox) -> dict:
    from grader.engine import grade
    from grader.sandbox import Limits

    path = write_course(tmp_path, doc)
    limits = Limits(submission_seconds=30, call_seconds=5, cpu_seconds=20, memory_mb=1024)
    report = grade(tmp_path / "nb/tol.ipynb", assignment_id="tol", course=load_course(path), sandbox=sandbox, limits=limits)
    return {t.name: t for t in report.tests}


def test_a_task_tolerance_and_call_limit_change_only_that_tasks_verdicts(tmp_path, sandbox):
    """Off by 1e-5 relative: does the loose task's test pass while the same comparison in another task fails, and
    does the hurried task's call limit time out its call only (the same call elsewhere finishing)?"""
    before = dict(TOLERANCES)
    tests = grade_tol(tmp_path, COURSE, sandbox)
    assert tests["test_loose"].status == "passed", tests["test_loose"].feedback
    assert tests["test_strict"].status == "failed"
    assert "rtol=1e-07, atol=1e-12" in tests["test_strict"].feedback  # the defaults' rtol, the assignment's atol
    assert tests["test_hurried"].status == "timeout" and "0.3 s call time limit" in tests["test_hurried"].feedback
    assert tests["test_patient"].status == "passed", tests["test_patient"].feedback
    assert TOLERANCES == before  # nothing of the course stays behind in the process


def test_without_the_task_tolerance_the_same_answer_fails(tmp_path, sandbox):
    """Is it the task's tolerance that passes test_loose? (Without it, it fails like test_strict.)"""
    tests = grade_tol(tmp_path, changed(lambda d: task(d, 0).pop("tolerances")), sandbox)
    assert tests["test_loose"].status == "failed" and "rtol=1e-07" in tests["test_loose"].feedback


# ------------------------------------------------------------------------------------------ assert_close
EXPECTED = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def test_per_dtype_tolerances_change_only_the_dtypes_they_name():
    """Does tolerances={"float32": ...} tighten float32 alone, where rtol= would also loosen float64?"""
    off64 = EXPECTED * (1 + 1e-6)  # float64 off by 1e-6: outside float64's 1e-7
    off32 = (EXPECTED * (1 + 5e-5)).astype(np.float32)  # inside float32's 1e-4, outside 1e-5
    assert_close(actual=off32, expected=EXPECTED, name="y")
    with pytest.raises(Mismatch, match=r"rtol=1e-05, atol=1e-05\)"):  # atol inherited from the table
        assert_close(actual=off32, expected=EXPECTED, name="y", tolerances={"float32": (1e-5, None)})
    with pytest.raises(Mismatch, match=r"rtol=1e-07"):
        assert_close(actual=off64, expected=EXPECTED, name="y", tolerances={"float32": (1e-5, None)})
    assert_close(actual=off64, expected=EXPECTED, name="y", rtol=1e-5)  # the old way loosens float64 100 times


@pytest.mark.parametrize("kwargs, message", [
    ({"rtol": 1e-3, "tolerances": {"float32": (1e-3, 1e-5)}}, "either rtol/atol"),
    ({"tolerances": {"float23": (1e-3, 1e-5)}}, "dtype 'float23'"),
    ({"tolerances": {"float32": 1e-3}}, "expected (rtol, atol)"),
], ids=["both-ways", "unknown-dtype", "not-a-pair"])
def test_a_malformed_tolerance_argument_is_a_grader_bug(kwargs, message):
    """Is a grader's ambiguous or misspelt tolerance a TypeError (its fault), not a student's failure?"""
    with pytest.raises(TypeError, match=re.escape(message)):
        assert_close(actual=EXPECTED, expected=EXPECTED, name="y", **kwargs)


def test_a_nan_outside_softmax_says_nothing_about_subtracting_a_max():
    """Does the generic NaN message say where the NaN is and that it never passes, with no other exercise's hint?"""
    got = EXPECTED.copy()
    got[1, 2] = np.nan
    with pytest.raises(Mismatch) as err:
        assert_close(actual=got, expected=EXPECTED, name="h_t")
    message = str(err.value)
    assert "1 NaN or infinite value(s)" in message and "(1, 2)" in message and "never passes" in message
    assert "max" not in message and "subtract" not in message, message
    with pytest.raises(Mismatch, match=r"never passes.* check your log\.$"):
        assert_close(actual=got, expected=EXPECTED, name="h_t", nan_hint="check your log.")
    assert "(1, 2)" not in err.value.hidden_message  # a hidden test's feedback shows no index or value


def _a00_grader():
    spec = importlib.util.spec_from_file_location("a00_grader", ROOT / "grader/graders/test_a00_warmup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_softmax_graders_nan_feedback_still_gives_its_hint(sandbox):
    """Does bob's overflowing softmax still hear "subtract the maximum", and his sigmoid tests no softmax hint?"""
    from grader.engine import grade

    hint = _a00_grader().SOFTMAX_NAN_HINT
    report = grade(ROOT / "examples/a00_warmup/bob.py", assignment_id="a00_warmup", course=load_course(ROOT),
                   sandbox=sandbox, student="bob")
    tests = {t.name: t for t in report.tests}
    feedback = tests["test_softmax_is_stable_for_large_logits"].feedback
    assert "NaN" in feedback and hint in feedback, feedback
    assert all(hint not in t.feedback for t in report.tests if "softmax" not in t.name)
