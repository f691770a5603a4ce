"""Does the `grader` command line validate, show and release the course, with exit 2 and no traceback on errors?"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")


def copy_course(folder: Path) -> Path:
    """course.yaml with the notebooks and graders it names, copied into `folder` (tests never write into the repo)."""
    shutil.copy(ROOT / "course.yaml", folder / "course.yaml")
    for a in COURSE.assignments:
        for rel in (a.notebook, a.grader):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, folder / rel)
    return folder / "course.yaml"


def run_grader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_validate_the_real_course():
    """Does `python -m grader course validate`, run in the repository, exit 0 with the course's totals?"""
    tasks = sum(len(a.tasks) for a in COURSE.assignments)
    points = sum(t.points for a in COURSE.assignments for t in a.tasks)
    result = run_grader("course", "validate", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("course.yaml OK: ")
    assert f" {tasks} tasks, {points:g} points" in result.stdout


def test_validate_a_broken_copy_names_the_key_without_a_traceback(tmp_path):
    """On a course.yaml with a misspelt key, is the exit code 2 with one line naming the key, and no traceback?"""
    path = copy_course(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if re.search(r"\bpoints:", line.split("#")[0]))  # the first task's
    lines[first] = re.sub(r"\bpoints:", "pionts:", lines[first], count=1)
    path.write_text("".join(lines))
    result = run_grader("course", "validate", "--course", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("grader: error: course.yaml: assignments[0].tasks[0].pionts (line ")
    assert "did you mean 'points'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_course_is_an_error_not_a_traceback(tmp_path, capsys):
    """Given a course path that does not exist, does `grader course validate` exit 2 with a message?"""
    assert main(["course", "validate", "--course", str(tmp_path / "nope.yaml")]) == 2
    assert "grader: error: " in capsys.readouterr().err


def test_show_prints_effective_settings_with_their_meaning(capsys):
    """Does `grader course show` print each assignment's merged limits, where they come from, and what they mean?"""
    assert main(["course", "show", "--course", str(ROOT)]) == 0
    out = capsys.readouterr().out
    for a in COURSE.assignments:
        limits = COURSE.limits(a.id)
        assert f"{a.id}: {a.title}" in out
        assert f"limits.submission_seconds  {limits.submission_seconds:g}" in out
    assert "wall clock for one call into the student's code" in out  # a description from the schema
    assert "[assignment]" in out and "[defaults]" in out


def test_release_writes_the_notebook_into_the_given_course(tmp_path, capsys):
    """Does `grader release a00_warmup --course COPY` write the copy's release, the same as the committed one?"""
    path = copy_course(tmp_path)
    assert main(["release", "a00_warmup", "--course", str(path)]) == 0
    written = tmp_path / "assignments" / "a00_warmup" / "a00_warmup.ipynb"
    assert capsys.readouterr().out == "wrote assignments/a00_warmup/a00_warmup.ipynb\n"
    assert written.read_bytes() == (ROOT / "assignments/a00_warmup/a00_warmup.ipynb").read_bytes()


BAD_ARGUMENTS = {
    "unknown-assignment": (["release", "a99_nope", "--course", str(ROOT)], "grader: error: no assignment 'a99_nope' in course.yaml (known: "),
    "unknown-action": (["course", "frobnicate"], "grader course: error: argument action: invalid choice: 'frobnicate'"),
    "no-command": ([], "grader: error: the following arguments are required: command"),
}


@pytest.mark.parametrize("argv, message", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    """Do an unknown assignment, an unknown action or no command at all return 2 with a message saying so?"""
    assert main(argv) == 2
    assert message in capsys.readouterr().err
