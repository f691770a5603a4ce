"""Grading a class: finding submissions, parallel runs, the gradebook, resuming after kill -9, Dask."""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import autograde as ag
from grader.course import load_course
from grader.gradebook import Gradebook
from tests.examples_manifest import expected_score, grader_tests, load_examples

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = "a00_warmup"  # graded in seconds; points come from course.yaml, the examples' outcomes from their manifest
LIMITS = {"submission_seconds": 30, "call_seconds": 2, "cpu_seconds": 20, "memory_mb": 1024}
SECRET = b"test-secret-0123"
FULL = COURSE.assignment(A).points
TESTS = len(grader_tests(COURSE, A))  # result rows per graded submission
MANIFEST = load_examples(COURSE, A)
RIGHT = [e for e in MANIFEST.values() if e.full_marks]
WRONG = next(e for e in MANIFEST.values() if e.fails and all(f.status in (None, "failed") for f in e.fails))  # no hang
UNREADABLE = next(e for e in MANIFEST.values() if e.unreadable)
KINDS = [RIGHT[0], WRONG, RIGHT[-1], UNREADABLE]  # right, wrong, right in another style, malformed


def make_class(folder: Path, n: int = 12) -> Path:
    """A flat folder of n submissions of a00_warmup: the KINDS of examples in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        source = KINDS[i % len(KINDS)].path
        shutil.copy(source, folder / f"s{i:03d}{source.suffix}")
    return folder


def expected_scores(gradebook: Path) -> dict[str, float]:
    """What each student of make_class must score: its example's expectation on the grader's tests."""
    with Gradebook(gradebook) as gb:
        results = gb.results()
        students = [s["student"] for s in gb.submissions()]
    return {s: expected_score(KINDS[int(s[1:]) % len(KINDS)], [r for r in results if r["student"] == s])
            for s in students}


def snapshot(path: Path) -> tuple[list, list]:
    """What a gradebook says, without times: submissions and every test verdict."""
    with Gradebook(path) as gb:
        subs = sorted((s["student"], s["status"], s["score"], s["max_score"], s["submission_hash"], s["reason"]) for s in gb.submissions())
        tests = sorted((r["student"], r["test"], r["status"], r["score"], r["feedback"]) for r in gb.results())
    return subs, tests


def run_inline(folder: Path, gradebook: Path, **kw) -> ag.RunSummary:
    subs = ag.find_submissions(folder, COURSE, A)
    return ag.autograde(subs, COURSE, gradebook, executor=ag.LocalExecutor(0), limits=LIMITS, secret=SECRET,
                        progress=False, **kw)


# ------------------------------------------------------------------------------------------------- finding
def test_nbgrader_layout_is_found_from_the_course_folder_or_submitted(tmp_path):
    for student in ("ann", "ben"):
        target = tmp_path / "submitted" / student / A
        target.mkdir(parents=True)
        shutil.copy(RIGHT[0].path, target / "a00_warmup.py")
    (tmp_path / "submitted" / "ann" / A / "a00_warmup.ipynb").write_text("{}")
    for where in (tmp_path, tmp_path / "submitted"):
        found = ag.find_submissions(where, COURSE)
        assert [(s.assignment, s.student) for s in found] == [(A, "ann"), (A, "ben")]
    ann, ben = found
    assert ann.path.name == "a00_warmup.ipynb"  # the release's notebook name is preferred
    assert ben.path.is_dir()  # otherwise the folder, whose one file the engine grades


def test_a_flat_folder_needs_the_assignment_and_one_file_per_student(tmp_path):
    make_class(tmp_path / "flat", 3)
    with pytest.raises(ag.AutogradeError, match="--assignment"):
        ag.find_submissions(tmp_path / "flat", COURSE)
    assert [s.student for s in ag.find_submissions(tmp_path / "flat", COURSE, A)] == ["s000", "s001", "s002"]
    shutil.copy(WRONG.path, tmp_path / "flat" / "s001.ipynb")
    with pytest.raises(ag.AutogradeError, match="s001"):
        ag.find_submissions(tmp_path / "flat", COURSE, A)


@pytest.mark.parametrize(("setup", "message"), [
    (lambda p: p.mkdir(), "no submissions found"),
    (lambda p: None, "is not a folder"),
])
def test_nothing_to_grade_says_what_was_expected(tmp_path, setup, message):
    setup(tmp_path / "x")
    with pytest.raises(ag.AutogradeError, match=message):
        ag.find_submissions(tmp_path / "x", COURSE, A)


def test_an_unknown_assignment_is_refused_with_the_known_ones(tmp_path):
    make_class(tmp_path / "c", 1)
    with pytest.raises(ag.AutogradeError, match=A):
        ag.find_submissions(tmp_path / "c", COURSE, "a99_nope")


# ------------------------------------------------------------------------------------------------- one run
def test_a_class_is_graded_into_the_gradebook_and_unchanged_work_is_not_regraded(tmp_path):
    folder = make_class(tmp_path / "c", 8)
    gradebook = tmp_path / "g.sqlite"
    first = run_inline(folder, gradebook)
    assert (first.graded, first.failed, first.skipped) == (8, 0, 0)
    with Gradebook(gradebook) as gb:
        scores = {s["student"]: s["score"] for s in gb.submissions()}
        assert len(gb.results()) == 8 * TESTS and gb.integrity() == "ok"
    assert scores == expected_scores(gradebook)
    assert scores["s000"] > 0 and scores["s002"] > 0  # right, in two styles
    assert 0 < scores["s001"] < scores["s000"] and scores["s003"] == 0  # mistakes; a malformed notebook
    with Gradebook(gradebook) as gb:
        (malformed,) = [s for s in gb.submissions() if s["student"] == "s003"]
        assert malformed["status"] == "graded" and any(UNREADABLE.unreadable in p for p in malformed["problems"])

    again = run_inline(folder, gradebook)
    assert (again.graded, again.skipped) == (0, 8)
    shutil.copy(RIGHT[0].path, folder / "s001.py")  # the wrong one is fixed
    fixed = run_inline(folder, gradebook)
    assert (fixed.graded, fixed.skipped) == (1, 7)
    with Gradebook(gradebook) as gb:
        assert {s["student"]: s["score"] for s in gb.submissions()}["s001"] == scores["s000"]
        assert len(gb.results()) == 8 * TESTS  # replaced, not added
    assert run_inline(folder, gradebook, force=True).graded == 8


def test_a_new_grader_version_regrades_everything(tmp_path, monkeypatch):
    folder = make_class(tmp_path / "c", 3)
    run_inline(folder, tmp_path / "g.sqlite")
    monkeypatch.setattr(ag, "grader_version", lambda course, aid: "a-new-grader")
    assert run_inline(folder, tmp_path / "g.sqlite").graded == 3


def test_the_grader_version_follows_the_assignments_own_files(tmp_path):
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    shutil.copy(ROOT / "course.yaml", course_dir / "course.yaml")
    for a in COURSE.assignments:
        for rel in (a.notebook, a.grader):
            (course_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, course_dir / rel)
    versions = lambda: {a.id: ag.grader_version(load_course(course_dir / "course.yaml"), a.id) for a in COURSE.assignments}
    before = versions()
    grader = course_dir / COURSE.assignment(A).grader
    grader.write_text(grader.read_text() + "\n# a fix\n")
    after = versions()
    assert after[A] != before[A]
    assert all(after[a] == before[a] for a in before if a != A)  # the other assignments keep theirs


class FlakyExecutor(ag.LocalExecutor):
    """In-process grading, except that the grading process 'dies' on the students named, every time."""

    def __init__(self, dies_on: set[str]) -> None:
        super().__init__(0)
        self.dies_on = dies_on
        self.restarts = 0

    def submit(self, job):
        if job["student"] in self.dies_on:
            future = cf.Future()
            future.set_exception(BrokenProcessPool("a grading process terminated abruptly"))
            return future
        return super().submit(job)

    def restart(self):
        self.restarts += 1


def test_a_submission_that_kills_its_grading_process_is_recorded_failed_and_the_run_goes_on(tmp_path):
    folder = make_class(tmp_path / "c", 4)
    subs = ag.find_submissions(folder, COURSE, A)
    executor = FlakyExecutor({"s001"})
    summary = ag.autograde(subs, COURSE, tmp_path / "g.sqlite", executor=executor, limits=LIMITS, secret=SECRET, progress=False)
    assert (summary.graded, summary.failed) == (3, 1) and executor.restarts >= 2
    with Gradebook(tmp_path / "g.sqlite") as gb:
        (failed,) = [s for s in gb.submissions() if s["status"] == "failed"]
    assert failed["student"] == "s001" and failed["score"] == 0 and "died 3 times" in failed["reason"]


def test_a_grader_that_raises_fails_that_submission_with_the_reason(tmp_path, monkeypatch):
    folder = make_class(tmp_path / "c", 2)

    def broken_grade(*args, **kwargs):
        raise RuntimeError("the grader file does not import")

    monkeypatch.setattr("grader.engine.grade", broken_grade)
    summary = run_inline(folder, tmp_path / "g.sqlite")
    assert (summary.graded, summary.failed) == (0, 2)
    with Gradebook(tmp_path / "g.sqlite") as gb:
        assert all("does not import" in s["reason"] and s["max_score"] == FULL for s in gb.submissions())


def test_a_foreign_file_is_refused_as_a_gradebook(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are not grades" * 100)
    from grader.gradebook import GradebookError

    with pytest.raises(GradebookError, match="not a usable gradebook"):
        Gradebook(bad)


# ------------------------------------------------------------------------------------------------- processes
def cli(*args: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "GRADER_SECRET": SECRET.decode(), **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "autograde", *args, "--no-progress", "--course", str(ROOT / "course.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True, text=True,
    )


def count_graded(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kill_9_at_random_points_then_resume_gives_the_uninterrupted_gradebook(tmp_path):
    """The Done criterion of a class run: interrupted twice with SIGKILL, resumed, identical to a clean run."""
    folder = make_class(tmp_path / "c", 12)
    clean = tmp_path / "clean.sqlite"
    proc = cli(str(folder), "--assignment", A, "--gradebook", str(clean), "--workers", "2")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "graded 12, failed 0" in out, out

    resumed = tmp_path / "resumed.sqlite"
    rng = random.Random(os.getpid())
    for _ in range(2):
        target = count_graded(resumed) + rng.randint(1, 4)
        proc = cli(str(folder), "--assignment", A, "--gradebook", str(resumed), "--workers", "2")
        deadline = time.monotonic() + 240
        while count_graded(resumed) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    interrupted_at = count_graded(resumed)
    assert interrupted_at < 12, "the run finished before it could be killed; kill earlier"
    proc = cli(str(folder), "--assignment", A, "--gradebook", str(resumed), "--workers", "2")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and f"unchanged (skipped) {interrupted_at}" in out, out
    assert snapshot(resumed) == snapshot(clean)
    with Gradebook(resumed) as gb:
        assert gb.integrity() == "ok"


def test_two_runs_at_once_on_one_gradebook_do_not_corrupt_it(tmp_path):
    folder = make_class(tmp_path / "c", 8)
    gradebook = tmp_path / "g.sqlite"
    runs = [cli(str(folder), "--assignment", A, "--gradebook", str(gradebook), "--workers", "1", "--force")
            for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    assert all(p.returncode == 0 for p in runs), outputs
    with Gradebook(gradebook) as gb:
        assert gb.integrity() == "ok"
        subs = gb.submissions()
        assert len(subs) == 8 and len(gb.results()) == 8 * TESTS
    assert {s["student"]: s["score"] for s in subs} == expected_scores(gradebook)


def test_the_command_line_reports_a_bad_folder_without_a_traceback(tmp_path):
    proc = cli(str(tmp_path / "missing"), "--assignment", A, "--gradebook", str(tmp_path / "g.sqlite"))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "is not a folder" in out and "Traceback" not in out


def test_dask_local_cluster_grades_the_same_as_the_local_pool(tmp_path):
    import distributed
    folder = make_class(tmp_path / "c", 4)
    subs = ag.find_submissions(folder, COURSE, A)
    local = tmp_path / "local.sqlite"
    ag.autograde(subs, COURSE, local, executor=ag.LocalExecutor(0), limits=LIMITS, secret=SECRET, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        summary = ag.autograde(subs, COURSE, tmp_path / "dask.sqlite", executor=ag.DaskExecutor(client), limits=LIMITS,
                               secret=SECRET, progress=False)
    assert (summary.graded, summary.failed) == (4, 0)
    assert snapshot(tmp_path / "dask.sqlite") == snapshot(local)


def test_gradebook_rows_are_plain_json_ready_data(tmp_path):
    folder = make_class(tmp_path / "c", 2)
    run_inline(folder, tmp_path / "g.sqlite")
    with Gradebook(tmp_path / "g.sqlite") as gb:
        json.dumps(gb.submissions())
        json.dumps(gb.results())


def test_a_blank_untitled_notebook_beside_the_work_is_not_graded_instead(tmp_path):
    """autograde used to grade the first file alphabetically: a blank Untitled.ipynb scored 0 for a full-marks
    student."""
    import nbformat

    release = ROOT / "assignments" / A / "a00_warmup.ipynb"
    solution = ROOT / "solutions" / A / "a00_warmup.ipynb"
    for student, work_name in (("ann", "a00_warmup.ipynb"), ("ben", "my answers.ipynb")):
        folder = tmp_path / "submitted" / student / A
        folder.mkdir(parents=True)
        shutil.copy(solution, folder / work_name)
        nbformat.write(nbformat.v4.new_notebook(), str(folder / "Untitled.ipynb"))
    copy = tmp_path / "submitted" / "cat" / A
    copy.mkdir(parents=True)
    shutil.copy(release, copy / "a copy.ipynb")
    shutil.copy(solution, copy / "b copy.ipynb")
    summary = ag.autograde(ag.find_submissions(tmp_path, COURSE, A), COURSE, tmp_path / "gb.sqlite",
                           executor=ag.LocalExecutor(0), limits=LIMITS, secret=SECRET, progress=False)
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        rows = {s["student"]: s for s in gb.submissions(A)}
    assert rows["ann"]["score"] == rows["ben"]["score"] == FULL
    assert not any("which notebook" in p for p in rows["ann"]["problems"] + rows["ben"]["problems"])
    # cat: two notebooks with the answer cells, the later one graded, and the choice named for the instructor
    assert any("which notebook was graded" in p for p in rows["cat"]["problems"]), rows["cat"]["problems"]
    assert [c[1] for c in summary.notebook_choices] == ["cat"]
