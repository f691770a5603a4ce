"""The quality gate of every assignment in course.yaml: are its graders valid?

For each assignment: the instructor's solution gets full marks and the release skeleton gets 0; every mutant in
tests/mutants/<id>.py (the solution with one known mistake) loses points and its feedback names the mistake; every
named `Mistake` in the grader is reached by some mutant; other correct styles get full marks; and the points of the
grader's tests add up to course.yaml's tasks.
"""
from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import nbformat
import pytest

from grader.course import load_course
from grader.engine import GradeReport, grade
from grader.preview import not_named_for
from grader.sandbox import Sandbox
from grader.submission import declared_student_id
from tests.mutants import Mutant, Style

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
ASSIGNMENTS = [a.id for a in COURSE.assignments]
STUDENT = "quality-gate"


# The grading secret the gate draws every input from, set by tests/conftest.py: fixed, so that a red gate can be
# rerun and debugged. benchmarks/gate_sweep.py runs the gate under many secrets (GATE_SECRET=...), which is how thin
# tolerances and fragile named mistakes are found: a grader that fails a correct style for one secret in fifty
# fails real students.
SECRET = os.environ["GATE_SECRET"].encode()


def mutants_module(assignment_id: str):
    try:
        return importlib.import_module(f"tests.mutants.{assignment_id}")
    except ModuleNotFoundError:
        return None


def declared(kind: str) -> list[tuple[str, int, object]]:
    found = []
    for aid in ASSIGNMENTS:
        module = mutants_module(aid)
        for i, item in enumerate(getattr(module, kind, ()) if module else ()):
            found.append((aid, i, item))
    return found


MUTANTS = declared("MUTANTS")
STYLES = declared("STYLES")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


_reports: dict[str, GradeReport] = {}


def _grade(path: Path, assignment_id: str, sandbox: Sandbox, tasks: frozenset[str] | None = None) -> GradeReport:
    # Graded as the id the notebook declares (the solution's per-student answers are the self-learner's numbers).
    student = declared_student_id(path) or STUDENT
    return grade(path, assignment_id=assignment_id, student=student, course=COURSE, sandbox=sandbox, tasks=tasks,
                 secret=SECRET)


def tasks_of(assignment_id: str, cells) -> frozenset[str] | None:
    """The tasks whose tests can see an edit of these answer cells, or None for all tests.

    A cell counts for the tasks its mutants module lists in CELL_TASKS, else for the task of the same name; a cell
    with neither (a shared model or training function) counts for every task. Grading only those tests keeps the
    gate fast where other tasks train models, and the tests of the untouched cells are the solution's, which
    test_the_solution_gets_full_marks grades in full.
    """
    module = mutants_module(assignment_id)
    declared = getattr(module, "CELL_TASKS", {}) if module else {}
    task_ids = {t.id for t in COURSE.assignment(assignment_id).tasks}
    found: set[str] = set()
    for cell in cells:
        if cell in declared:
            found |= set(declared[cell])
        elif cell in task_ids:
            found.add(cell)
        else:
            return None
    unknown = found - task_ids
    assert not unknown, f"CELL_TASKS of {assignment_id} names tasks that course.yaml does not have: {sorted(unknown)}"
    return frozenset(found)


def solution_report(assignment_id: str, sandbox: Sandbox) -> GradeReport:
    if assignment_id not in _reports:
        _reports[assignment_id] = _grade(ROOT / COURSE.assignment(assignment_id).notebook, assignment_id, sandbox)
    return _reports[assignment_id]


def not_passed(report: GradeReport) -> list[tuple[str, str, str]]:
    return [(t.name, t.status, t.feedback) for t in report.tests if t.status != "passed"]


def edited_solution(assignment_id: str, tmp_path: Path, cells: dict[str, str]) -> Path:
    """A copy of the solution notebook with answer cells replaced (grade_id -> new source)."""
    source = ROOT / COURSE.assignment(assignment_id).notebook
    nb = nbformat.read(str(source), as_version=4)
    ids = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for grade_id, text in cells.items():
        assert grade_id in ids, f"{assignment_id} has no answer cell {grade_id!r} (answer cells: {sorted(ids)})"
        ids[grade_id].source = text
    path = tmp_path / source.name
    nbformat.write(nb, str(path))
    return path


def answer_cell(assignment_id: str, grade_id: str) -> str:
    nb = nbformat.read(str(ROOT / COURSE.assignment(assignment_id).notebook), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") == grade_id:
            return cell.source
    raise AssertionError(f"{assignment_id} has no answer cell {grade_id!r}")


def mistake_names(grader_file: Path) -> set[str]:
    """The literal names of every `Mistake("...")` written in a grader file."""
    names = set()
    for node in ast.walk(ast.parse(grader_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            if called == "Mistake" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


# ------------------------------------------------------------------------------------------------------ the gate
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_solution_gets_full_marks(assignment_id, sandbox):
    """Does the instructor's solution notebook get every point, with no problem reported?"""
    report = solution_report(assignment_id, sandbox)
    assert report.tests, f"{assignment_id}: the grader ran no test"
    assert report.score == report.max_score == COURSE.assignment(assignment_id).points, not_passed(report)
    assert report.problems == [], report.problems


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_release_skeleton_gets_zero(assignment_id, sandbox):
    """Does the unsolved student release score 0, every test with a verdict and none a grader error?"""
    assignment = COURSE.assignment(assignment_id)
    report = _grade(ROOT / "assignments" / assignment_id / Path(assignment.notebook).name, assignment_id, sandbox)
    assert report.score == 0, [(t.name, t.status) for t in report.tests if t.status == "passed"]
    assert len(report.tests) == len(solution_report(assignment_id, sandbox).tests)
    assert not report.grader_errors, [(t.name, t.feedback) for t in report.grader_errors]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_points_are_declared_on_tests_and_add_up_to_the_tasks(assignment_id, sandbox):
    """Does every test belong to a course.yaml task, do their points add up to it, and are there hidden tests?"""
    assignment = COURSE.assignment(assignment_id)
    report = solution_report(assignment_id, sandbox)
    by_task: dict[str, float] = {}
    for t in report.tests:
        assert t.task in {tk.id for tk in assignment.tasks}, f"{t.name} has task {t.task!r}, not a task of {assignment_id}"
        by_task[t.task] = by_task.get(t.task, 0.0) + t.max_points
    assert by_task == {tk.id: tk.points for tk in assignment.tasks}
    visibilities = {t.visibility for t in report.tests}
    assert visibilities == {"public", "hidden"}, f"{assignment_id} needs both public and hidden tests"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_named_mistake_is_reached_by_a_mutant(assignment_id):
    """Is each `Mistake` the grader names produced by at least one wrong solution in tests/mutants/<id>.py?"""
    module = mutants_module(assignment_id)
    assert module is not None, f"write tests/mutants/{assignment_id}.py (MUTANTS and STYLES)"
    names = mistake_names(ROOT / COURSE.assignment(assignment_id).grader)
    assert names, f"{assignment_id}'s grader names no mistake"
    covered = {m.feedback for m in module.MUTANTS}
    assert sorted(n for n in names if not any(c in n for c in covered)) == []
    assert len(getattr(module, "STYLES", ())) >= 1, f"{assignment_id}: add at least one other correct style"


@pytest.mark.parametrize(("assignment_id", "index", "mutant"), MUTANTS,
                         ids=[f"{a}-{i}-{m.feedback[:40]}" for a, i, m in MUTANTS])
def test_a_mutant_loses_points_and_its_mistake_is_named(assignment_id, index, mutant: Mutant, sandbox, tmp_path):
    """Does a solution with one known mistake lose points, with feedback that names that mistake?"""
    original = answer_cell(assignment_id, mutant.cell)
    assert mutant.old in original, f"mutant {index}: {mutant.old!r} does not occur in answer cell {mutant.cell!r}"
    path = edited_solution(assignment_id, tmp_path, {mutant.cell: original.replace(mutant.old, mutant.new)})
    report = _grade(path, assignment_id, sandbox, tasks_of(assignment_id, [mutant.cell]))
    assert report.score < report.max_score, f"mutant {index} ({mutant.feedback}) got full marks"
    failing = not_passed(report)
    assert any(mutant.feedback in feedback for _, _, feedback in failing), failing
    assert not report.grader_errors, [(t.name, t.feedback) for t in report.grader_errors]
    # A correct but under-trained submission: the measurement, never a mistake the grader names for this cell.
    told = {m for m in not_named_for(mutant, mutants_module(assignment_id).MUTANTS) for _, _, f in failing if m in f}
    assert not told, f"mutant {index} is correct but weak, and was told {sorted(told)}: {failing}"


@pytest.mark.parametrize(("assignment_id", "index", "style"), STYLES, ids=[f"{a}-{s.name}" for a, _, s in STYLES])
def test_another_correct_style_gets_full_marks(assignment_id, index, style: Style, sandbox, tmp_path):
    """Does a correct solution written differently (loops, numpy, float32) get every point?"""
    path = edited_solution(assignment_id, tmp_path, style.cells)
    report = _grade(path, assignment_id, sandbox, tasks_of(assignment_id, style.cells))
    assert report.tests and report.score == report.max_score, not_passed(report)


def test_the_gate_catches_a_grader_that_cannot_fail(tmp_path, sandbox):
    """Would the gate notice a mutant that still gets full marks? (the check itself can fail)"""
    path = edited_solution("a00_warmup", tmp_path, {"relu": answer_cell("a00_warmup", "relu").replace("min=0.0", "min=0.0 ")})
    report = _grade(path, "a00_warmup", sandbox)
    assert report.score == report.max_score  # a no-op edit: exactly the case the mutant test rejects


# Figures the graders draw for the reports (from plain data the student's code returned), at least this many.
FIGURES = {"a04_attention": 1, "a05_autoencoders": 1, "a06_vae": 1, "a07_gan": 1}


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_figures_for_the_report_are_pngs(assignment_id, sandbox):
    """Are the figures a grader drew for the student's report real PNG images, as many as expected?"""
    figures = solution_report(assignment_id, sandbox).figures
    assert len(figures) >= FIGURES.get(assignment_id, 0)
    for f in figures:
        assert f["png"].startswith(b"\x89PNG\r\n\x1a\n") and len(f["png"]) > 1000 and f["name"], f["name"]
