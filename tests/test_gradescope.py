"""Does the Gradescope autograder zip grade a submission the way Gradescope runs it, and keep the solutions out?"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.course import load_course
from grader.gradescope import (
    RESULTS_FILE,
    SECRET_FILE,
    TORCH_VERSION,
    BundleError,
    find_submission,
    run_autograder,
    write_bundle,
)
from tests.examples_manifest import check_example, expected_score, load_examples

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = "a00_warmup"  # graded in seconds; a05-a07 would train models. Points: course.yaml; outcomes: the manifest
SCHEMA = json.loads((ROOT / "tests/data/export/gradescope_results.schema.json").read_text())
MANIFEST = load_examples(COURSE, A)
RIGHT = next(e for e in MANIFEST.values() if e.full_marks)
NAMED = next(e for e in MANIFEST.values() if any(f.feedback for f in e.fails))  # mistakes the feedback names


def references() -> list[str]:
    """The reference modules the assignment's grader imports (`from reference import x` or `import reference.x`)."""
    import ast

    tree = ast.parse((ROOT / COURSE.assignment(A).grader).read_text())
    found = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "reference"
             for alias in node.names]
    found += [alias.name.split(".", 1)[1] for node in ast.walk(tree) if isinstance(node, ast.Import)
              for alias in node.names if alias.name.startswith("reference.")]
    assert found, "the grader imports no reference module: this test would check nothing"
    return found


def gradescope_verdicts(doc: dict) -> list[dict]:
    """A results.json's tests as the manifest's checks read them (the task is the first tag)."""
    return [{"test": t["extra_data"]["test"], "task": t["tags"][0] if t.get("tags") else None,
             "status": t["extra_data"]["status"], "score": t["score"], "max_score": t["max_score"],
             "feedback": t.get("output", "")} for t in doc["tests"]]


def solution_lines() -> list[str]:
    """The code lines inside the solution notebook's BEGIN/END SOLUTION regions (longer than a keyword)."""
    notebook = json.loads((ROOT / COURSE.assignment(A).notebook).read_text())
    lines, inside = [], False
    for cell in notebook["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    assert lines, "the solution notebook has no solution region: this test would check nothing"
    return lines


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return write_bundle(COURSE, A, tmp_path_factory.mktemp("zip") / "autograder.zip", secret=b"test-secret")


def simulated_autograder(bundle: Path, tmp_path: Path, submission: Path | None, *, user_id: int = 4711,
                         sid: str = "") -> Path:
    """A tree laid out as Gradescope's container lays out /autograder, under tmp_path."""
    autograder = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            if name.startswith("source/"):
                target = autograder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    (autograder / "submission").mkdir()
    if submission is not None:
        (autograder / "submission" / submission.name).write_bytes(submission.read_bytes())
    (autograder / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"id": user_id, "email": "student@example.edu", "name": "A Student", "sid": sid}],
         "created_at": "2026-12-01T10:00:00.000000-08:00"}))
    return autograder


def run_script(bundle: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "run_autograder"
    with zipfile.ZipFile(bundle) as zf:
        script.write_bytes(zf.read("run_autograder"))
    script.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(tmp_path), "AUTOGRADER_PYTHON": sys.executable}
    return subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=240)


# --------------------------------------------------------------------------------------------- the zip


def test_the_zip_has_gradescopes_two_scripts_at_the_top_and_executable(bundle):
    """Gradescope runs setup.sh and run_autograder from the zip's top level; both must be executable."""
    with zipfile.ZipFile(bundle) as zf:
        for name in ("setup.sh", "run_autograder"):
            mode = zf.getinfo(name).external_attr >> 16
            assert mode & stat.S_IXUSR, f"{name} is not executable"
            assert zf.read(name).startswith(b"#!/usr/bin/env bash\n")
        setup = zf.read("setup.sh").decode()
    assert "apt-get install" in setup and "bubblewrap" in setup
    assert f"torch=={TORCH_VERSION}" in setup and "download.pytorch.org/whl/cpu" in setup
    assert "pip install /autograder/source" in setup
    # Installed into a venv outside /usr, where grader/sandbox.py can mask the package from student code.
    assert "python3 -m venv /autograder/venv" in setup


def test_the_zip_holds_no_solution_and_references_only_outside_what_students_see(bundle):
    """No solutions notebook or solution text anywhere; references only in source/, never in a results path."""
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        contents = {name: zf.read(name) for name in names}
    assert not [n for n in names if "solutions/" in n]
    assert [n for n in names if n.endswith(".ipynb")] == [f"source/assignments/{A}/{A}.ipynb"]
    # The references compute the same things (that is their job): they are the one place such lines may be.
    leaked = [(n, line) for line in solution_lines() for n, data in contents.items()
              if line.encode() in data and not n.startswith("source/reference/")]
    assert not leaked, "the instructor's solution code is in the zip"
    assert all(n.startswith("source/") for n in names if n not in ("setup.sh", "run_autograder"))
    assert not [n for n in names if n.startswith(("source/submission", "source/results", "results/"))]
    assert all(f"source/reference/{m}.py" in names for m in references())  # the trusted process computes with them
    graders = [n for n in names if n.startswith("source/grader/graders/test_")]
    assert graders == [f"source/grader/graders/test_{A}.py"]  # other assignments' graders stay home
    course = contents["source/course.yaml"].decode()
    assert f"assignments/{A}/{A}.ipynb" in course and "solutions/" not in course
    assert contents[f"source/{SECRET_FILE}"] == b"test-secret"


def test_a_bundle_for_an_unknown_assignment_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(BundleError, match=A):
        write_bundle(COURSE, "a99_nothing", tmp_path / "x.zip")


# --------------------------------------------------------------------------------------------- the run


@pytest.mark.parametrize("example", [RIGHT, NAMED], ids=[RIGHT.path.name, NAMED.path.name])
def test_run_autograder_writes_a_results_json_gradescope_accepts(bundle, tmp_path, example):
    """The script, run as Gradescope runs it, grades the example and writes a schema-valid results.json with the
    score and named mistakes its manifest gives."""
    autograder = simulated_autograder(bundle, tmp_path, example.path)
    done = run_script(bundle, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((autograder / RESULTS_FILE).read_text())
    jsonschema.validate(doc, SCHEMA)
    assert check_example(example, gradescope_verdicts(doc)) == []
    assert doc["score"] == expected_score(example, gradescope_verdicts(doc)) > 0
    assert sum(t["max_score"] for t in doc["tests"]) == COURSE.assignment(A).points
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "after_published"}
    assert doc["stdout_visibility"] == "hidden"
    assert doc["execution_time"] > 0
    if example.fails:
        assert any(t["status"] == "failed" and t["score"] == 0 for t in doc["tests"])
    reference = "\n".join((ROOT / "reference" / f"{m}.py").read_text() for m in references())
    body_lines = [line.strip() for line in reference.splitlines() if line.strip().startswith("return ")]
    assert not [line for line in body_lines if line in json.dumps(doc)], "a reference line reached the student"


def test_a_container_without_namespaces_grades_with_the_warning_at_the_top(bundle, tmp_path):
    """No user namespaces: the rlimit+seccomp worker grades, and the student-visible output says so."""
    autograder = simulated_autograder(bundle, tmp_path, RIGHT.path)
    doc = run_autograder(autograder, use_namespaces=False)
    jsonschema.validate(doc, SCHEMA)
    assert doc["output"].startswith("Warning: ") and "namespaces" in doc["output"]
    assert doc["score"] == expected_score(RIGHT, gradescope_verdicts(doc)) > 0
    assert doc["extra_data"]["isolation"]["namespaces"] is False
    assert json.loads((autograder / RESULTS_FILE).read_text()) == doc


def test_an_upload_without_a_notebook_gets_zero_and_says_what_to_upload(bundle, tmp_path):
    autograder = simulated_autograder(bundle, tmp_path, None)
    (autograder / "submission" / "notes.txt").write_text("oops")
    doc = run_autograder(autograder)
    jsonschema.validate(doc, SCHEMA)
    assert doc["score"] == 0 and doc["tests"] == []
    assert f"upload your notebook as {A}.ipynb" in doc["output"] and "no .ipynb or .py file" in doc["output"]


def test_the_student_id_comes_from_gradescopes_roster_and_a_named_notebook_wins(bundle, tmp_path):
    """Per-student numbers and hidden inputs are drawn for the roster's sid (else email, else Gradescope's id)."""
    autograder = simulated_autograder(bundle, tmp_path, RIGHT.path, user_id=99, sid="s1234")
    (autograder / "submission" / f"{A}.ipynb").write_text("{}")
    found = find_submission(autograder, f"{A}.ipynb")
    assert found.student == "s1234" and found.path.name == f"{A}.ipynb"
    meta = json.loads((autograder / "submission_metadata.json").read_text())
    meta["users"][0]["sid"] = ""
    (autograder / "submission_metadata.json").write_text(json.dumps(meta))
    assert find_submission(autograder, f"{A}.ipynb").student == "student@example.edu"
    (autograder / "submission_metadata.json").write_text("not json")
    assert find_submission(autograder, f"{A}.ipynb").student == "anonymous"


def test_the_command_line_writes_the_zip(tmp_path, capsys):
    from grader.cli import main

    out = tmp_path / "autograder.zip"
    assert main(["gradescope", A, "--out", str(out), "--course", str(ROOT / "course.yaml")]) == 0
    assert zipfile.is_zipfile(out) and "Zip file upload" in capsys.readouterr().out
    assert main(["gradescope", "a99_nothing", "--out", str(out), "--course", str(ROOT / "course.yaml")]) == 2
