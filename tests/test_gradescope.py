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

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = "a00_warmup"  # graded in seconds; a05-a07 would train models
SCHEMA = json.loads((ROOT / "tests/data/export/gradescope_results.schema.json").read_text())
EXAMPLES = ROOT / "examples" / A


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
    assert "source/reference/activations.py" in names  # the trusted process computes expected values with it
    graders = [n for n in names if n.startswith("source/grader/graders/test_")]
    assert graders == [f"source/grader/graders/test_{A}.py"]  # other assignments' graders stay home
    course = contents["source/course.yaml"].decode()
    assert f"assignments/{A}/{A}.ipynb" in course and "solutions/" not in course
    assert contents[f"source/{SECRET_FILE}"] == b"test-secret"


def test_a_bundle_for_an_unknown_assignment_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(BundleError, match="a00_warmup"):
        write_bundle(COURSE, "a99_nothing", tmp_path / "x.zip")


# --------------------------------------------------------------------------------------------- the run


@pytest.mark.parametrize(("example", "score", "named_mistake"), [
    ("alice.py", 6.0, None),
    ("bob.py", 3.0, "leaky ReLU"),
])
def test_run_autograder_writes_a_results_json_gradescope_accepts(bundle, tmp_path, example, score, named_mistake):
    """The script, run as Gradescope runs it, grades the example and writes a schema-valid results.json."""
    autograder = simulated_autograder(bundle, tmp_path, EXAMPLES / example)
    done = run_script(bundle, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((autograder / RESULTS_FILE).read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["score"] == score
    assert sum(t["max_score"] for t in doc["tests"]) == COURSE.assignment(A).points
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "after_published"}
    assert doc["stdout_visibility"] == "hidden"
    assert doc["execution_time"] > 0
    feedback = "\n".join(t["output"] for t in doc["tests"])
    if named_mistake:
        assert named_mistake in feedback
        assert any(t["status"] == "failed" and t["score"] == 0 for t in doc["tests"])
    else:
        assert all(t["status"] == "passed" for t in doc["tests"])
    reference = (ROOT / "reference" / "activations.py").read_text()
    body_lines = [line.strip() for line in reference.splitlines() if line.strip().startswith("return ")]
    assert not [line for line in body_lines if line in json.dumps(doc)], "a reference line reached the student"


def test_a_container_without_namespaces_grades_with_the_warning_at_the_top(bundle, tmp_path):
    """No user namespaces: the rlimit+seccomp worker grades, and the student-visible output says so."""
    autograder = simulated_autograder(bundle, tmp_path, EXAMPLES / "alice.py")
    doc = run_autograder(autograder, use_namespaces=False)
    jsonschema.validate(doc, SCHEMA)
    assert doc["output"].startswith("Warning: ") and "namespaces" in doc["output"]
    assert doc["score"] == 6.0
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
    autograder = simulated_autograder(bundle, tmp_path, EXAMPLES / "alice.py", user_id=99, sid="s1234")
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
