"""Does course.yaml load into typed settings, and does every mistake in it name the file, the key and the fix?"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from grader.course import CourseConfigError, load_course

ROOT = Path(__file__).resolve().parent.parent


def valid() -> dict:
    return {
        "course": {"name": "Test course", "variant_key": "k"},
        "defaults": {"limits": {"call_seconds": 5}, "device": "cpu"},
        "assignments": [
            {
                "id": "a00_warmup", "title": "Warm-up", "notebook": "nb.ipynb", "grader": "test_g.py",
                "tasks": [{"id": "sigmoid", "points": 2}, {"id": "relu", "points": 1}],
                "limits": {"memory_mb": 512},
            }
        ],
    }


def write(tmp_path: Path, doc) -> Path:
    (tmp_path / "nb.ipynb").write_text("{}")
    (tmp_path / "test_g.py").write_text("")
    path = tmp_path / "course.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def mutated(change) -> dict:
    doc = copy.deepcopy(valid())
    change(doc)
    return doc


def test_the_real_course_loads():
    """Does the repository's own course.yaml load, with the warm-up assignment's tasks?"""
    course = load_course(ROOT)
    assert course.assignment("a00_warmup").tasks[0].id == "sigmoid"


def test_defaults_are_merged_and_overridable(tmp_path):
    """Do assignments inherit default limits, and override the ones they name?"""
    course = load_course(write(tmp_path, valid()))
    limits = course.limits("a00_warmup")
    assert (limits.call_seconds, limits.memory_mb, limits.cpu_seconds) == (5, 512, 120)
    assert course.device("a00_warmup") == "cpu"


@pytest.mark.parametrize(
    "change, key, expectation",
    [
        (lambda d: d["assignments"][0]["tasks"][0].update(pionts=2), "assignments[0].tasks[0].pionts", "did you mean 'points'"),
        (lambda d: d["assignments"][0]["tasks"][0].update(points="two"), "assignments[0].tasks[0].points", "expected int or float"),
        (lambda d: d["assignments"][0]["tasks"][0].update(points=True), "assignments[0].tasks[0].points", "expected int or float"),
        (lambda d: d["assignments"][0]["tasks"][0].update(points=-1), "assignments[0].tasks[0].points", "positive"),
        (lambda d: d["assignments"][0].pop("grader"), "assignments[0].grader", "missing"),
        (lambda d: d["assignments"][0].update(notebook="nope.ipynb"), "assignments[0].notebook", "does not exist"),
        (lambda d: d["assignments"].append(copy.deepcopy(d["assignments"][0])), "assignments[1].id", "duplicate assignment id"),
        (lambda d: d["assignments"][0]["tasks"].append({"id": "relu", "points": 1}), "assignments[0].tasks[2].id", "duplicate task id"),
        (lambda d: d["assignments"][0].update(id="A-1"), "assignments[0].id", "lowercase"),
        (lambda d: d["defaults"]["limits"].update(memory=1), "defaults.limits.memory", "did you mean 'memory_mb'"),
        (lambda d: d["defaults"].update(device="tpu"), "defaults.device", "cpu, cuda or auto"),
        (lambda d: d.update(assignemnts=[]), "assignemnts", "did you mean 'assignments'"),
    ],
    ids=["typo", "string-points", "bool-points", "negative", "missing-key", "missing-file", "dup-assignment", "dup-task",
         "bad-id", "limit-typo", "bad-device", "top-level-typo"],
)
def test_each_error_names_file_key_and_expectation(tmp_path, change, key, expectation):
    """Does a bad course.yaml give one error naming the file, the key path and what was expected?"""
    with pytest.raises(CourseConfigError) as err:
        load_course(write(tmp_path, mutated(change)))
    message = str(err.value)
    assert message.startswith("course.yaml: ") and key in message and expectation in message


def test_yaml_syntax_errors_give_the_line(tmp_path):
    """Is a YAML syntax error reported with its line number?"""
    with pytest.raises(CourseConfigError, match=r"course.yaml: line \d+: not valid YAML"):
        load_course(write(tmp_path, "course:\n  name: x\n  bad: [unclosed\n"))


def test_a_missing_course_file_says_where_to_run(tmp_path):
    """Run outside a course, is the message about where to run from?"""
    with pytest.raises(CourseConfigError, match="no course.yaml"):
        load_course(tmp_path)
