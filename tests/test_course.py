"""Does course.yaml load into typed settings, and does every mistake in it name the file, the key and the fix?"""
from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from grader.compare import TOLERANCES
from grader.course import CourseConfigError, LimitsConfig, check_course, grader_test_points, load_course

ROOT = Path(__file__).resolve().parent.parent


def valid_manifest() -> dict:
    """A small valid course.yaml as a dict; each error test changes one thing in it."""
    return {
        "course": {"name": "Test course", "variant_key": "k"},
        "defaults": {"limits": {"call_seconds": 5}, "device": "cpu", "tolerances": {"float32": {"rtol": 1e-3, "atol": 1e-4}}},
        "assignments": [
            {
                "id": "a00_warmup", "title": "Warm-up", "notebook": "nb/a00.ipynb", "grader": "graders/test_a00.py",
                "tasks": [{"id": "sigmoid", "points": 2}, {"id": "relu", "points": 1, "title": "ReLU"}],
                "limits": {"memory_mb": 512},
            },
            {
                "id": "a01_mlp", "title": "MLP", "notebook": "nb/a01.ipynb", "grader": "graders/test_a01.py",
                "tasks": [{"id": "forward", "points": 3}], "device": "auto",
            },
        ],
    }


def write_course(folder: Path, doc: dict | str) -> Path:
    """course.yaml (a dict is dumped as YAML, a string written as is) plus the files it names, in `folder`."""
    for rel in ("nb/a00.ipynb", "nb/a01.ipynb", "graders/test_a00.py", "graders/test_a01.py"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("{}" if rel.endswith(".ipynb") else "")
    path = folder / "course.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def mutated(change: Callable[[dict], object]) -> dict:
    doc = copy.deepcopy(valid_manifest())
    change(doc)
    return doc


def first_task(d: dict) -> dict:
    return d["assignments"][0]["tasks"][0]


FORBIDDEN = {"calls": ["torch.sigmoid", "torch.nn.functional.sigmoid"], "functions": ["sigmoid"],
             "reason": "do not call `torch.sigmoid`"}


def test_the_real_course_loads_with_its_tasks_and_points():
    """Does the repository's own course.yaml load, each assignment's points the sum of its tasks' as its file says?"""
    course = load_course(ROOT / "course.yaml")
    written = yaml.safe_load((ROOT / "course.yaml").read_text())["assignments"]  # the file, read without the loader
    assert [a.id for a in course.assignments] == [a["id"] for a in written] and course.root == ROOT
    for a, raw in zip(course.assignments, written):
        assert [(t.id, t.points) for t in a.tasks] == [(t["id"], t["points"]) for t in raw["tasks"]]
        assert a.points == sum(t["points"] for t in raw["tasks"]) > 0
        assert (course.root / a.notebook).is_file() and (course.root / a.grader).is_file()


def test_the_course_is_found_by_walking_up_from_a_subfolder(tmp_path, monkeypatch):
    """Run from a folder inside the course (or given one), is the course.yaml above it found?"""
    path = write_course(tmp_path, valid_manifest())
    monkeypatch.chdir(tmp_path / "nb")
    assert load_course().path == path
    assert load_course(tmp_path / "graders").path == path


def test_defaults_are_merged_and_overridable(tmp_path):
    """Does an assignment inherit defaults.limits and the built-in limits, and override the ones it names?"""
    course = load_course(write_course(tmp_path, valid_manifest()))
    built_in = LimitsConfig()
    first, second = course.settings("a00_warmup"), course.settings("a01_mlp")
    assert (first.limits.call_seconds, first.limits.memory_mb, first.limits.cpu_seconds) == (5, 512, built_in.cpu_seconds)
    assert (second.limits.call_seconds, second.limits.memory_mb) == (5, built_in.memory_mb)
    assert first.origin["limits.memory_mb"] == "assignment"
    assert first.origin["limits.call_seconds"] == "defaults"
    assert first.origin["limits.cpu_seconds"] == "built-in"
    assert course.limits("a01_mlp") == second.limits
    assert (first.device, second.device) == ("cpu", "auto")
    assert course.device("a00_warmup") == "cpu" and course.device("a01_mlp") in ("cpu", "cuda")


def test_tolerances_override_the_code_table_dtype_by_dtype(tmp_path):
    """Does defaults.tolerances replace only the dtypes it names, keeping grader/compare.py's others?"""
    course = load_course(write_course(tmp_path, valid_manifest()))
    tolerances = course.settings("a00_warmup").tolerances
    assert (tolerances["float32"].rtol, tolerances["float32"].atol) == (1e-3, 1e-4)
    assert (tolerances["float64"].rtol, tolerances["float64"].atol) == TOLERANCES["float64"]
    assert dict(course.tolerances) == {"float32": {"rtol": 1e-3, "atol": 1e-4}}  # as written
    origin = course.settings("a00_warmup").origin
    assert (origin["tolerances.float32.rtol"], origin["tolerances.float64.atol"]) == ("defaults", "grader/compare.py")


def test_settings_are_frozen(tmp_path):
    """Can loaded settings be changed by accident? (They must not.)"""
    course = load_course(write_course(tmp_path, valid_manifest()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        course.assignment("a00_warmup").tasks[0].points = 10
    with pytest.raises(TypeError):
        course.assignment("a00_warmup").limits["memory_mb"] = 1


def test_an_unknown_assignment_lists_the_known_ids(tmp_path):
    """Does asking for an assignment that is not there say which ones are?"""
    course = load_course(write_course(tmp_path, valid_manifest()))
    with pytest.raises(KeyError, match="a00_warmup, a01_mlp"):
        course.assignment("a02_cnn")


ERRORS = {
    # id: (change, key path in the message, what the message expects)
    "task-key-typo": (lambda d: first_task(d).update(pionts=2), "assignments[0].tasks[0].pionts", "did you mean 'points'?"),
    "limit-key-typo": (lambda d: d["defaults"]["limits"].update(memory=1), "defaults.limits.memory", "did you mean 'memory_mb'?"),
    "override-key-typo": (
        lambda d: d["assignments"][1].update(limits={"call_second": 3}), "assignments[1].limits.call_second",
        "did you mean 'call_seconds'?",
    ),
    "top-level-typo": (lambda d: d.update(assignemnts=[]), "assignemnts", "did you mean 'assignments'?"),
    "unknown-key-lists-known": (lambda d: d["course"].update(zzz=1), "course.zzz", "expected one of: name, variant_key"),
    "dtype-typo": (lambda d: d["defaults"]["tolerances"].update(float23={}), "defaults.tolerances.float23", "did you mean"),
    "string-points": (lambda d: first_task(d).update(points="two"), "assignments[0].tasks[0].points", "expected a number, found 'two' (str)"),
    "bool-points": (lambda d: first_task(d).update(points=True), "assignments[0].tasks[0].points", "expected a number, found True (bool)"),
    "bool-limit": (lambda d: d["defaults"]["limits"].update(cpu_seconds=True), "defaults.limits.cpu_seconds", "expected an integer, found True"),
    "float-for-int": (lambda d: d["defaults"]["limits"].update(memory_mb=1.5), "defaults.limits.memory_mb", "expected an integer, found 1.5"),
    "number-title": (lambda d: d["assignments"][0].update(title=3), "assignments[0].title", "expected a string, found 3 (int)"),
    "tasks-not-a-list": (lambda d: d["assignments"][0].update(tasks={"id": "x"}), "assignments[0].tasks", "expected a list of tasks, found a mapping"),
    "task-not-a-mapping": (lambda d: d["assignments"][0]["tasks"].append("relu"), "assignments[0].tasks[2]", "expected a mapping"),
    "missing-grader": (lambda d: d["assignments"][0].pop("grader"), "assignments[0].grader", "required key is missing (pytest grader file"),
    "missing-points": (lambda d: first_task(d).pop("points"), "assignments[0].tasks[0].points", "required key is missing"),
    "missing-course-name": (lambda d: d["course"].pop("name"), "course.name", "required key is missing"),
    "missing-assignments": (lambda d: d.pop("assignments"), "assignments", "required key is missing"),
    "no-tasks": (lambda d: d["assignments"][0].update(tasks=[]), "assignments[0].tasks", "expected at least one task"),
    "zero-points": (lambda d: first_task(d).update(points=0), "assignments[0].tasks[0].points", "expected a positive number, found 0 (int)"),
    "negative-points": (lambda d: first_task(d).update(points=-1), "assignments[0].tasks[0].points", "expected a positive number, found -1 (int)"),
    "zero-limit": (lambda d: d["defaults"]["limits"].update(call_seconds=0), "defaults.limits.call_seconds", "expected a positive number"),
    "negative-override": (lambda d: d["assignments"][0]["limits"].update(memory_mb=-5), "assignments[0].limits.memory_mb", "positive"),
    "negative-atol": (lambda d: d["defaults"]["tolerances"]["float32"].update(atol=-1.0), "defaults.tolerances.float32.atol", ">= 0"),
    "zero-rtol": (lambda d: d["defaults"]["tolerances"]["float32"].update(rtol=0), "defaults.tolerances.float32.rtol", "expected a positive number"),
    "tolerance-key-typo": (lambda d: d["defaults"]["tolerances"]["float32"].update(rtool=1e-3), "defaults.tolerances.float32.rtool", "did you mean 'rtol'?"),
    "empty-tolerance": (lambda d: d["defaults"]["tolerances"].update(float64={}), "defaults.tolerances.float64", "expected rtol or atol (or both), found an empty mapping"),
    "missing-notebook-file": (lambda d: d["assignments"][0].update(notebook="nb/nope.ipynb"), "assignments[0].notebook", "expected an existing file, found 'nb/nope.ipynb'"),
    "missing-grader-file": (lambda d: d["assignments"][1].update(grader="graders/test_nope.py"), "assignments[1].grader", "expected an existing file"),
    "notebook-not-ipynb": (lambda d: d["assignments"][0].update(notebook="graders/test_a00.py"), "assignments[0].notebook", "expected a .ipynb file"),
    "path-outside-course": (lambda d: d["assignments"][0].update(grader="../test_a00.py"), "assignments[0].grader", "expected a path inside the course"),
    "duplicate-assignment": (lambda d: d["assignments"][1].update(id="a00_warmup"), "assignments[1].id", "duplicate assignment id 'a00_warmup' (also at assignments[0])"),
    "duplicate-task": (lambda d: d["assignments"][0]["tasks"].append({"id": "relu", "points": 1}), "assignments[0].tasks[2].id", "duplicate task id 'relu'"),
    "bad-assignment-id": (lambda d: d["assignments"][0].update(id="A-1"), "assignments[0].id", "expected an id of lowercase letters, digits and _"),
    "bad-task-id": (lambda d: first_task(d).update(id="Sig moid"), "assignments[0].tasks[0].id", "found 'Sig moid'"),
    "bad-device": (lambda d: d["defaults"].update(device="tpu"), "defaults.device", "expected one of cpu, cuda, auto, found 'tpu'"),
    "bad-device-override": (lambda d: d["assignments"][1].update(device="gpu"), "assignments[1].device", "expected one of cpu, cuda, auto"),
    "forbidden-call-without-module": (
        lambda d: first_task(d).update(forbidden={**FORBIDDEN, "calls": ["conv2d"]}), "assignments[0].tasks[0].forbidden.calls[0]",
        "expected a dotted name with its module, such as torch.nn.functional.conv2d, found 'conv2d'",
    ),
    "forbidden-calls-empty": (
        lambda d: first_task(d).update(forbidden={**FORBIDDEN, "calls": []}), "assignments[0].tasks[0].forbidden.calls",
        "expected at least one name",
    ),
    "forbidden-calls-not-a-list": (
        lambda d: first_task(d).update(forbidden={**FORBIDDEN, "calls": "torch.conv2d"}), "assignments[0].tasks[0].forbidden.calls",
        "expected a list of names, found 'torch.conv2d'",
    ),
    "forbidden-function-not-a-name": (
        lambda d: first_task(d).update(forbidden={**FORBIDDEN, "functions": ["my conv"]}),
        "assignments[0].tasks[0].forbidden.functions[0]", "expected a Python name, such as conv2d, found 'my conv'",
    ),
    "forbidden-without-reason": (
        lambda d: first_task(d).update(forbidden={k: v for k, v in FORBIDDEN.items() if k != "reason"}),
        "assignments[0].tasks[0].forbidden.reason", "required key is missing (what students see as the reason",
    ),
    "forbidden-typo": (
        lambda d: first_task(d).update(forbidden={**FORBIDDEN, "call": ["torch.conv2d"]}),
        "assignments[0].tasks[0].forbidden.call", "did you mean 'calls'?",
    ),
}


@pytest.mark.parametrize("change, key, expectation", ERRORS.values(), ids=ERRORS.keys())
def test_each_error_names_file_key_and_expectation(tmp_path, change, key, expectation):
    """Does a bad course.yaml give one CourseConfigError naming the file, the key path and what was expected?"""
    with pytest.raises(CourseConfigError) as err:
        load_course(write_course(tmp_path, mutated(change)))
    message = str(err.value)
    assert message.startswith((f"course.yaml: {key} (line", f"course.yaml: {key}: ")), message
    assert expectation in message, message


def test_errors_give_the_line_of_the_bad_key(tmp_path):
    """Is the line of the offending key in the message, so an editor can jump to it?"""
    text = yaml.safe_dump(mutated(lambda d: first_task(d).update(points="two")), sort_keys=False)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "points: two" in row)
    with pytest.raises(CourseConfigError, match=rf"^course.yaml: assignments\[0\].tasks\[0\].points \(line {line}\): "):
        load_course(write_course(tmp_path, text))


def test_yaml_syntax_errors_give_the_line(tmp_path):
    """Is a YAML syntax error reported with its line, and the line where the unclosed construct starts?"""
    with pytest.raises(CourseConfigError, match=r"^course.yaml: line 4: not valid YAML: .* starts on line 3"):
        load_course(write_course(tmp_path, "course:\n  name: x\n  bad: [unclosed\nassignments: []\n"))


def test_a_key_written_twice_is_an_error(tmp_path):
    """Is a key repeated in one mapping refused (YAML would silently keep the second)?"""
    text = yaml.safe_dump(valid_manifest(), sort_keys=False).replace("  variant_key: k\n", "  variant_key: k\n  name: Other\n")
    with pytest.raises(CourseConfigError, match=r"^course.yaml: line 4: .*key 'name' appears twice"):
        load_course(write_course(tmp_path, text))


def test_an_empty_file_says_what_it_should_contain(tmp_path):
    """Does an empty course.yaml say which top-level keys are expected?"""
    with pytest.raises(CourseConfigError, match="course.yaml: .*empty; expected a mapping with keys course, defaults, assignments"):
        load_course(write_course(tmp_path, ""))


def test_a_missing_course_file_says_where_to_run(tmp_path):
    """Run outside a course, or given a path that does not exist, does the message say what to do?"""
    with pytest.raises(CourseConfigError, match="no course.yaml in .* or pass --course"):
        load_course(tmp_path)
    with pytest.raises(CourseConfigError, match="does not exist"):
        load_course(tmp_path / "course.yaml")


# ------------------------------------------------------------------------- checks against the files (course validate)
GRADER = """import pytest


@pytest.mark.task("sigmoid")
@pytest.mark.points(1)
def test_sigmoid_values(submission):
    pass


@pytest.mark.task("sigmoid")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_sigmoid_is_stable(submission):
    pass


@pytest.mark.task("relu")
@pytest.mark.points(1)
def test_relu(submission):
    pass
"""


def course_with_files(folder: Path, change: Callable[[dict], object] = lambda d: None, grader: str = GRADER) -> Path:
    """The valid manifest with a real notebook (an answer cell, a sentence forbidding a call) and graders."""
    import nbformat

    doc = mutated(change)
    path = write_course(folder, doc)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Write the sigmoid;\ndo not call `torch.sigmoid`. It overflows otherwise."),
        nbformat.v4.new_code_cell("def sigmoid(x):\n    return 1 / (1 + (-x).exp())\n",
                                  metadata={"nbgrader": {"solution": True, "grade_id": "sigmoid"}}),
    ]
    nbformat.write(nb, str(folder / "nb/a00.ipynb"))
    (folder / "graders/test_a00.py").write_text(grader)
    (folder / "graders/test_a01.py").write_text(
        'import pytest\n\n\n@pytest.mark.task("forward")\n@pytest.mark.points(3)\ndef test_forward():\n    pass\n'
    )
    return path


def test_the_real_course_passes_the_file_checks():
    """Do the real course's points match its graders' markers, and its rules its notebooks?"""
    check_course(load_course(ROOT))


def test_a_course_whose_points_match_its_markers_passes(tmp_path):
    """With matching points, a rule whose reason is the notebook's sentence and whose function is an answer: OK?"""
    check_course(load_course(course_with_files(tmp_path, lambda d: first_task(d).update(forbidden=FORBIDDEN))))


def test_points_that_differ_from_the_markers_name_both_numbers(tmp_path):
    """Does a task worth 3 in course.yaml whose tests add up to 2 fail validation, naming 3, 2 and the tests?"""
    path = course_with_files(tmp_path, lambda d: first_task(d).update(points=3))
    with pytest.raises(CourseConfigError) as err:
        check_course(load_course(path))
    message = str(err.value)
    assert message.startswith("course.yaml: assignments[0].tasks[0].points: ")
    assert "worth 3 points in course.yaml" in message and "add up to 2 " in message
    assert "test_sigmoid_values 1 + test_sigmoid_is_stable 1" in message


@pytest.mark.parametrize("grader, expectation", [
    (GRADER.replace('task("relu")', 'task("rleu")'), "has tests of task 'rleu' (test_relu), which course.yaml does not list"),
    (GRADER.replace('@pytest.mark.task("relu")\n', ""), "test_relu has no @pytest.mark.task"),
    (GRADER.replace("points(1)\ndef test_relu", "points(n)\ndef test_relu"), "test_relu (line"),
    (GRADER.split('@pytest.mark.task("relu")')[0], "'relu' is worth 1 points in course.yaml, but its tests in "
                                                     "graders/test_a00.py add up to 0 (no tests)"),
], ids=["unknown-task", "no-task-marker", "points-not-a-literal", "task-without-tests"])
def test_grader_markers_that_do_not_fit_the_tasks_are_errors(tmp_path, grader, expectation):
    """Is a test of an unknown task, a test without a task or literal points, and a task without tests refused?"""
    with pytest.raises(CourseConfigError, match=re.escape(expectation)):
        check_course(load_course(course_with_files(tmp_path, grader=grader)))


def test_points_count_each_literal_parametrize_case(tmp_path):
    """Is a parametrized test worth its points once per case, as pytest grades it?"""
    path = tmp_path / "test_x.py"
    path.write_text('import pytest\n\n@pytest.mark.task("t")\n@pytest.mark.points(2)\n'
                    '@pytest.mark.parametrize("x", [1, 2, 3])\ndef test_x(x):\n    pass\n')
    assert grader_test_points(path) == [("test_x", "t", 6.0)]


@pytest.mark.parametrize("forbidden, expectation", [
    ({**FORBIDDEN, "reason": "do not call `torch.sigmoid` ever"}, "forbidden.reason: 'do not call `torch.sigmoid` ever' is not in the text"),
    ({**FORBIDDEN, "functions": ["sigmoid", "tanh"]}, "forbidden.functions[1]: 'tanh' is not defined in the answer cells"),
    ({**FORBIDDEN, "calls": ["torch.sigmoid", "torch.nn.functionl.sigmoid"]}, "forbidden.calls[1]: 'torch.nn.functionl.sigmoid' names nothing"),
], ids=["reason-not-in-notebook", "function-not-an-answer", "call-misspelt"])
def test_a_rule_that_does_not_fit_the_notebook_is_an_error(tmp_path, forbidden, expectation):
    """Is a rule refused whose reason the notebook does not say, whose function is no answer, or whose call is not
    a real name (a typo would silently forbid nothing)?"""
    path = course_with_files(tmp_path, lambda d: first_task(d).update(forbidden=forbidden))
    with pytest.raises(CourseConfigError, match=re.escape(expectation)):
        check_course(load_course(path))


def test_a_due_date_and_late_policy_are_read_and_checked(tmp_path):
    """`due` and `late_policy` per assignment: read into the deadline autograde applies, and refused when malformed."""
    from grader.deadlines import deadline_of

    def due(d: dict, when: str, policy: str | None) -> None:
        d["assignments"][0].update(due=when, **({"late_policy": policy} if policy else {}))

    course = load_course(course_with_files(tmp_path / "ok", lambda d: due(d, "2027-01-15T23:59:00+01:00", "per_day:10,max_days:3")))
    check_course(course)
    deadline = deadline_of(course.assignments[0])
    assert deadline is not None and deadline.policy.per_day == 10 and deadline.policy.max_days == 3
    for folder, when, policy, expectation in (("tz", "2027-01-15T23:59:00", None, "UTC offset"),
                                              ("policy", "2027-01-15T23:59:00+01:00", "half", "late_policy")):
        with pytest.raises(CourseConfigError, match=expectation):
            check_course(load_course(course_with_files(tmp_path / folder, lambda d: due(d, when, policy))))
