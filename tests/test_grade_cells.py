"""nbgrader grade cells in the releases (grader/grade_cells.py): one per task, worth course.yaml's points, and
`nbgrader validate` (the real command) fails on an unfilled release and passes on a correct one."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.course import load_course
from grader.grade_cells import GradeCellError, add_grade_cells, checked_task, grade_cell_tasks
from tests.test_export import formgrader  # noqa: F401 (a real formgrader on 127.0.0.1, as a fixture)

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)


def release_of(assignment_id: str) -> Path:
    return ROOT / "assignments" / assignment_id / Path(COURSE.assignment(assignment_id).notebook).name


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_every_release_has_one_locked_grade_cell_per_task_worth_its_points(assignment_id):
    nb = nbformat.read(str(release_of(assignment_id)), as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    tasks = {t.id: t.points for t in COURSE.assignment(assignment_id).tasks}
    by_task = {checked_task(c.source): c for c in graded}
    assert sorted(by_task) == sorted(tasks) and len(graded) == len(tasks), "one grade cell per task, and no other"
    for task, cell in by_task.items():
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["solution"] and meta["points"] == tasks[task], (task, meta)
        assert cell.source == f'check("{task}", strict=True)'
    assert sum(c.metadata["nbgrader"]["points"] for c in graded) == COURSE.assignment(assignment_id).points
    assert set(grade_cell_tasks(release_of(assignment_id)).values()) == set(tasks)


def test_a_task_without_a_check_cell_stops_the_release_with_what_to_add():
    doc = json.loads((ROOT / COURSE.assignment("a00_warmup").notebook).read_text(encoding="utf-8"))
    with pytest.raises(GradeCellError, match=r'no locked `check\("no_such_task"\)` cell for task .no_such_task.*add one after'):
        add_grade_cells(doc, {"sigmoid": 2, "no_such_task": 2}, "a00_warmup.ipynb")


@pytest.mark.parametrize("source, task", [('check("relu")', "relu"), ('check("relu", strict=True)', "relu"),
                                          ('check()', None), ('print(1)\ncheck("relu")', None), ("check(relu)", None),
                                          ("check(", None)])
def test_only_a_single_check_call_is_a_tasks_check_cell(source, task):
    assert checked_task(source) == task


def _validate(notebook: Path) -> subprocess.CompletedProcess:
    """The real `nbgrader validate`, run where a student would run it: in the notebook's folder."""
    return subprocess.run([sys.executable, "-m", "nbgrader", "validate", notebook.name], cwd=notebook.parent,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """nbgrader validate on a00's release as handed out, and with the solution's answers typed in."""
    folder = tmp_path_factory.mktemp("student")
    unfilled = folder / "unfilled" / release_of("a00_warmup").name
    filled = folder / "filled" / release_of("a00_warmup").name
    for path in (unfilled, filled):
        path.parent.mkdir()
        shutil.copy(release_of("a00_warmup"), path)
    solution = nbformat.read(str(ROOT / COURSE.assignment("a00_warmup").notebook), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(str(filled), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(nb, str(filled))
    return _validate(unfilled), _validate(filled)


def test_nbgrader_validate_fails_on_the_unfilled_release(validated):
    unfilled, _ = validated
    text = unfilled.stdout + unfilled.stderr
    assert "Success! Your notebook passes all the tests." not in text
    assert "VALIDATION FAILED" in text and "not every public check passes" in text, text[-2000:]


def test_nbgrader_validate_passes_a_correct_notebook(validated):
    _, filled = validated
    assert "Success! Your notebook passes all the tests." in filled.stdout + filled.stderr, (filled.stdout + filled.stderr)[-3000:]


def test_the_kits_check_raises_in_a_grade_cell_only_when_a_check_fails(monkeypatch, capsys):
    """coursecheck's `check(task, strict=True)` (the kit's grade cells): prints the feedback, then raises only on a
    failing check; without strict it never raises."""
    import torch

    import coursecheck
    from coursecheck import kernel, runner

    data = ROOT / "kits" / "a00_warmup" / "coursecheck" / "assignments" / "a00_warmup"
    monkeypatch.setattr(runner, "installed_kits", lambda: {"a00_warmup": data})

    wrong = {"sigmoid": lambda x: 1 / (1 + torch.exp(x)), "STUDENT_ID": "self-learner"}
    right = {"sigmoid": lambda x: 1 / (1 + torch.exp(-x)), "STUDENT_ID": "self-learner"}
    for namespace, raises in ((wrong, True), (right, False)):
        monkeypatch.setattr(kernel, "user_namespace", lambda ns=namespace: ns)
        coursecheck.check("sigmoid", assignment="a00_warmup")  # never raises
        if raises:
            with pytest.raises(coursecheck.ChecksFailed):
                coursecheck.check("sigmoid", assignment="a00_warmup", strict=True)
            assert "sign in the exponent" in capsys.readouterr().out
        else:
            coursecheck.check("sigmoid", assignment="a00_warmup", strict=True)
            assert "All public checks pass" in capsys.readouterr().out


def test_the_nbgrader_export_files_each_task_under_its_grade_cell(tmp_path):
    """The formgrader's notebook for a real submission: exactly the release's grade cells are graded (worth the
    task's points, carrying our feedback), and an answer cell named like its task is an answer, not a grade."""
    from grader.export import StudentScore, TestScore, autograded_notebook, grade_cell_names

    tasks = {t.id: t.points for t in COURSE.assignment("a00_warmup").tasks}
    assert grade_cell_names(COURSE, "a00_warmup") == {t: f"check-{t}" for t in tasks}
    submission = tmp_path / "a00_warmup.ipynb"
    shutil.copy(release_of("a00_warmup"), submission)
    score = StudentScore(
        student="ana", status="graded", reason="", total=1.0, by_task={t: 0.0 for t in tasks}, problems=(), seconds=1.0,
        tests=(TestScore("test_x", "relu", "relu(x)", "public", "failed", 0.0, 1.0, "it looks like |x|."),),
        submission_hash="h", grader_version="v")
    nb = autograded_notebook(COURSE, "a00_warmup", score, submission)
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert sorted(graded) == sorted(f"check-{t}" for t in tasks)
    assert {g: c.metadata["nbgrader"]["points"] for g, c in graded.items()} == {f"check-{t}": p for t, p in tasks.items()}
    assert "it looks like |x|" in "".join(o.get("text", "") for o in graded["check-relu"].outputs)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") in tasks]
    assert answers and all(c.metadata["nbgrader"]["solution"] and not c.metadata["nbgrader"]["grade"] for c in answers)


def test_a_real_formgrader_shows_the_examples_scores_under_the_release_grade_cells(tmp_path, formgrader):
    """The bundled a00 examples graded as a class (`grader demo`), exported to nbgrader: does a real formgrader on
    127.0.0.1 list the assignment at course.yaml's points, each example's score, and on a wrong example's page our
    named mistake under the task's grade cell (check-<task>) with the task's points?"""
    from grader.demo import run_demo
    from grader.export import grade_cell_names, write_nbgrader
    from grader.gradebook import Gradebook

    course_dir, get = formgrader
    run_demo(COURSE, tmp_path / "demo", only=["a00_warmup"], progress=False, workers=0)
    with Gradebook(tmp_path / "demo" / "gradebook.sqlite") as gb:
        totals = {s["student"]: s["score"] for s in gb.submissions("a00_warmup")}
        write_nbgrader(gb, COURSE, "a00_warmup", course_dir / "gradebook.db", nbgrader_course=course_dir)
    points = COURSE.assignment("a00_warmup").points
    assert [(a["name"], a["max_score"]) for a in json.loads(get("/api/assignments"))] == [("a00_warmup", points)]
    listed = {s["student"]: round(s["score"], 6) for s in json.loads(get("/api/submissions/a00_warmup"))}
    assert listed == {student: round(score, 6) for student, score in totals.items()}
    notebooks = {n["student"]: n for n in json.loads(get("/api/submitted_notebooks/a00_warmup/a00_warmup"))}
    page = get(f"/submissions/{notebooks['bob']['id']}/")
    softmax = grade_cell_names(COURSE, "a00_warmup")["softmax"]
    assert softmax == "check-softmax" and f'id="{softmax}"' in page
    assert "wrong axis" in page  # bob's named mistake, in our feedback on that cell
