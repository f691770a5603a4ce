"""Grade a whole class: every submission in parallel, isolated, resumable, into the SQLite gradebook.

    grader autograde submitted/ [--assignment ID] [--gradebook gradebook.sqlite] [--workers N] [--force]
    grader autograde submitted/ --executor dask --scheduler tcp://host:8786

Layouts (`find_submissions`): nbgrader's `submitted/<student>/<assignment>/<notebook>.ipynb` (the folder given may
be the course root holding `submitted/`, or `submitted/` itself), or a flat folder of `<student>.ipynb` / `.py`
files for one assignment (`--assignment` required).

How a run stays safe and resumable:
- every submission is graded by `grader.engine.grade` in a grading process of a pool (each with its own fork
  server and sandboxed workers); the grading process returns plain data (`GradeReport.to_dict()`), and only this
  coordinating process writes the gradebook, one transaction per submission (grader/gradebook.py);
- a submission whose grading raises, or whose grading process dies, is recorded as `failed` with 0 points and the
  reason, and the run goes on (a process that dies is replaced; a submission that kills two is not retried again);
- a submission is graded again only when its content hash or the grader version changed (`--force` regrades all),
  so a run stopped at any moment, even by kill -9, is resumed by running the same command again.
"""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import hashlib
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.gradebook import FigureRecord, Gradebook, failed_record, records_from_report
from grader.submission import NOTEBOOK_CHOICE

SUBMISSION_SUFFIXES = (".ipynb", ".py")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The modules whose code decides a grade (exports, reports and this file do not).
GRADING_MODULES = ("engine", "plugin", "sandbox", "worker", "channel", "compare", "submission", "course", "variants", "data")


# A job's deadline: the assignment's submission budget, plus starting a grading process's sandbox (a cold torch
# import), plus the trusted side's own work between calls (building inputs, references, figures).
JOB_GRACE_SECONDS = 180.0


class AutogradeError(Exception):
    """The run cannot start (no submissions, unknown assignment, ...); the message says what to do."""


@dataclass(frozen=True)
class Submission:
    assignment: str
    student: str
    path: Path
    # When it was handed in (unix time) and where that time comes from, for the late policy (grader/deadlines.py).
    submitted_at: float | None = None
    time_source: str = ""
    marked_late: bool = False  # the platform itself called it late (Canvas's LATE marker)

    def digest(self) -> str:
        """SHA-256 of the submitted files (names and bytes), so that unchanged submissions are not regraded."""
        h = hashlib.sha256()
        files = sorted(p for p in self.path.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts) \
            if self.path.is_dir() else [self.path]
        for p in files:
            h.update(p.relative_to(self.path).as_posix().encode() if self.path.is_dir() else p.name.encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
        return h.hexdigest()


# ------------------------------------------------------------------------------------------------- finding work
def find_submissions(folder: Path, course: Course, assignment_id: str | None = None) -> list[Submission]:
    """Every submission under `folder`, in nbgrader's layout or as a flat folder of files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AutogradeError(f"{folder} is not a folder: give the folder that holds the submissions")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    known = {a.id: a for a in course.assignments}
    if assignment_id is not None and assignment_id not in known:
        raise AutogradeError(f"unknown assignment {assignment_id!r}; course.yaml has: {', '.join(known)}")
    found: list[Submission] = []
    nbgrader_layout = any(
        sub.is_dir() and any((sub / aid).is_dir() for aid in known) for sub in folder.iterdir() if sub.is_dir()
    )
    if nbgrader_layout:
        for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for aid in known:
                if assignment_id not in (None, aid):
                    continue
                sub = student_dir / aid
                if sub.is_dir():
                    notebook = sub / Path(known[aid].notebook).name
                    submitted_at, source = nbgrader_timestamp(sub)
                    found.append(Submission(aid, student_dir.name, notebook if notebook.is_file() else sub,
                                            submitted_at=submitted_at, time_source=source))
    else:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUBMISSION_SUFFIXES)
        if files and assignment_id is None:
            raise AutogradeError(
                f"{folder} is a flat folder of files: say which assignment they are with --assignment "
                f"({', '.join(known)})"
            )
        found = [Submission(assignment_id, p.stem, p, submitted_at=p.stat().st_mtime,  # type: ignore[arg-type]
                            time_source=FILE_TIME) for p in files]
        students = [s.student for s in found]
        twice = sorted({s for s in students if students.count(s) > 1})
        if twice:
            raise AutogradeError(f"several files for the same student in {folder}: {', '.join(twice)}; keep one each")
    if not found:
        raise AutogradeError(
            f"no submissions found in {folder}: expected <student>/<assignment>/<notebook>.ipynb (nbgrader) "
            "or <student>.ipynb / <student>.py files"
        )
    return found


FILE_TIME = "file modification time (no platform record)"


def nbgrader_timestamp(folder: Path) -> tuple[float | None, str]:
    """nbgrader's `timestamp.txt` (written by `nbgrader submit`/`collect`), else the newest file's time, stated."""
    from grader.deadlines import parse_time

    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        try:
            return parse_time(stamp.read_text(encoding="utf-8").strip()), "nbgrader timestamp.txt"
        except ValueError:
            pass  # an unreadable stamp falls back to the file time below, and says so
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file()]
    return (max(times), FILE_TIME) if times else (None, "")


def grader_version(course: Course, assignment_id: str) -> str:
    """A hash of what decides this assignment's grades: engine, references, its grader, notebook, numbers, settings.

    Other assignments' files are left out, so adding or fixing one assignment does not regrade the others.
    """
    assignment = course.assignment(assignment_id)
    h = hashlib.sha256()
    files = [PACKAGE_ROOT / "grader" / f"{name}.py" for name in GRADING_MODULES]
    files += sorted((PACKAGE_ROOT / "reference").glob("*.py"))
    files += [PACKAGE_ROOT / "coursecheck" / "compare.py"]  # the comparisons grader/compare.py re-exports
    files += [PACKAGE_ROOT / "grader" / "numbers" / f"{assignment_id}.py", course.root / assignment.grader,
              course.root / assignment.notebook]
    for p in files:
        if p.is_file():
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(repr((assignment, course.settings(assignment_id), course.variant_key)).encode())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------------- grading side
_SANDBOX = None


def _sandbox(device: str, require_isolation: bool):
    """One fork server per grading process, started on its first submission and reused for the rest."""
    global _SANDBOX
    if _SANDBOX is None:
        import atexit

        from grader.sandbox import Sandbox

        _SANDBOX = Sandbox(device=device, require_isolation=require_isolation)
        atexit.register(_SANDBOX.close)
    return _SANDBOX


def grade_job(job: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission in this grading process; returns plain data only (never raises for a bad submission)."""
    from grader.course import load_course
    from grader.engine import grade
    from grader.sandbox import Limits

    try:
        sandbox = _sandbox(job["device"], job["require_isolation"])  # started once, not part of this submission's time
    except Exception as exc:
        return {"error": f"the sandbox could not start ({type(exc).__name__}: {exc})"[:4000], "started": time.time(),
                "finished": time.time()}
    started = time.time()
    try:
        course = load_course(job["course"])
        path = Path(job["path"])
        with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
            if job.get("files") is not None:  # sent by value (Dask): the worker machine may not see the path
                path = Path(tmp) / job["name"]
                for rel, data in job["files"].items():
                    (path / rel if rel else path).parent.mkdir(parents=True, exist_ok=True)
                    (path / rel if rel else path).write_bytes(data)
            report = grade(
                path, assignment_id=job["assignment"], student=job["student"], course=course, device=job["device"],
                sandbox=sandbox,
                limits=Limits(**job["limits"]) if job.get("limits") else None,
                secret=job["secret"],
            )
        if not report.tests:  # a grade of 0/0 would look like a graded submission with nothing wrong
            return {"error": "the grader ran no test on this submission (its grader file collected none); "
                             "nothing was graded", "started": started, "finished": time.time()}
        return {"report": report.to_dict(), "figures": report.figures,
                "started": started, "finished": time.time()}
    except Exception as exc:  # a grader or engine failure: recorded as this submission's reason, the run goes on
        return {"error": f"{type(exc).__name__}: {exc}"[:4000], "started": started, "finished": time.time()}


def _files_of(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return {"": path.read_bytes()}


# ------------------------------------------------------------------------------------------------- executors
class LocalExecutor:
    """A pool of grading processes on this machine (spawned, not forked: the coordinator may hold threads)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: cf.Executor | None = None

    def start(self) -> None:
        if self.workers == 0:
            self.pool = _InlineExecutor()
        else:
            self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: dict[str, Any]) -> cf.Future:
        assert self.pool is not None
        return self.pool.submit(grade_job, job)

    def capacity(self) -> int:
        return max(1, self.workers)

    def first_completed(self, futures: list[cf.Future], timeout: float | None = None) -> set[cf.Future]:
        return cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED).done

    def restart(self) -> None:
        self.close()
        self.start()

    def kill(self) -> None:
        """Stop every grading process now (a job overran its deadline), then start a fresh pool."""
        pool = self.pool
        if isinstance(pool, cf.ProcessPoolExecutor):
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
        self.start()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    by_value = False


class _InlineExecutor(cf.Executor):
    """workers=0: grade in this process, one after another (tests and debugging)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


class DaskExecutor:
    """The same jobs on a Dask distributed cluster; results come back here, where the gradebook is written."""

    by_value = True  # the submission's bytes travel with the job: the workers need only the course checkout

    def __init__(self, scheduler: str | Any) -> None:
        self.scheduler = scheduler
        self.client = None

    def start(self) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise AutogradeError("--executor dask needs dask's distributed scheduler: pip install 'distributed'") from None
        self.client = self.scheduler if hasattr(self.scheduler, "submit") else Client(self.scheduler)

    def submit(self, job: dict[str, Any]):
        return self.client.submit(grade_job, job, pure=False, key=f"grade-{job['assignment']}-{job['student']}-{time.time_ns()}")

    def capacity(self) -> int:
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info().get("workers", {}).values())
        return max(1, threads) * 2  # keep every worker busy while results travel back

    def first_completed(self, futures: list, timeout: float | None = None) -> set:
        from dask.distributed import wait

        try:
            return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return set()

    def restart(self) -> None:  # Dask replaces lost workers itself
        pass

    def kill(self) -> None:  # an overrun job's future is cancelled where it is noticed; the others go on
        pass

    def close(self) -> None:
        if self.client is not None and not hasattr(self.scheduler, "submit"):
            self.client.close()


# ------------------------------------------------------------------------------------------------- the run
def record_lateness(gb: Gradebook, course: Course, submissions: list[Submission], deadlines: dict[str, Any]) -> None:
    """Each submission's lateness under its assignment's deadline (`deadlines` given, else course.yaml's `due`).

    Recorded for unchanged submissions too, since it depends on the time handed in, not on the grade: a due date set
    after a class run applies on the next run without regrading anyone.
    """
    from grader.deadlines import deadline_of, lateness

    for s in submissions:
        deadline = deadlines.get(s.assignment) or deadline_of(course.assignment(s.assignment))
        if deadline is not None:
            gb.set_lateness(s.assignment, s.student, lateness(deadline, s.submitted_at, time_source=s.time_source,
                                                               marked_late=s.marked_late))


@dataclass
class RunSummary:
    graded: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    notebook_choices: list[tuple[str, str, str]] = field(default_factory=list)  # several files: which was graded

    def line(self) -> str:
        rate = (self.graded + self.failed) / self.seconds if self.seconds else 0.0
        return (f"graded {self.graded}, failed {self.failed}, unchanged (skipped) {self.skipped} "
                f"in {self.seconds:.1f} s ({rate:.2f} submissions/s)")


def autograde(
    submissions: list[Submission],
    course: Course,
    gradebook_path: Path,
    *,
    executor: LocalExecutor | DaskExecutor | None = None,
    force: bool = False,
    device: str | None = None,
    require_isolation: bool = False,
    limits: dict[str, float] | None = None,
    secret: bytes | None = None,
    progress: bool = True,
    max_attempts: int = 3,
    job_grace_seconds: float = JOB_GRACE_SECONDS,
    deadlines: dict[str, Any] | None = None,
) -> RunSummary:
    """Grade `submissions` into the gradebook; returns the counts. Safe to interrupt and run again."""
    from tqdm import tqdm

    start = time.perf_counter()
    executor = executor or LocalExecutor(os.cpu_count() or 1)
    secret = secret or os.environb.get(b"GRADER_SECRET") or os.urandom(16)
    summary = RunSummary()
    versions = {aid: grader_version(course, aid) for aid in {s.assignment for s in submissions}}
    if not executor.by_value:  # a local class run: refuse a device this machine lacks before grading anyone
        from grader.sandbox import SandboxError, check_device

        for aid in sorted(versions):
            try:
                check_device(device or course.device(aid))
            except SandboxError as exc:
                raise AutogradeError(str(exc)) from None
    with Gradebook(gradebook_path) as gb:
        record_lateness(gb, course, submissions, deadlines or {})
        todo = []
        for s in submissions:
            digest = s.digest()
            if force or gb.needs_grading(s.assignment, s.student, digest, versions[s.assignment]):
                todo.append((s, digest))
            else:
                summary.skipped += 1
        bar = tqdm(total=len(todo), unit="submission", desc="grading", disable=not progress, file=sys.stderr,
                   dynamic_ncols=True)
        attempts: dict[tuple[str, str], int] = {}

        def job_of(s: Submission) -> dict[str, Any]:
            job = {
                "assignment": s.assignment, "student": s.student, "path": str(s.path), "course": str(course.root / "course.yaml"),
                "device": device or course.device(s.assignment), "require_isolation": require_isolation,
                "limits": limits, "secret": secret, "name": s.path.name, "files": None,
            }
            if executor.by_value:
                job["files"] = _files_of(s.path)
            return job

        def record(s: Submission, digest: str, outcome: dict[str, Any]) -> None:
            version = versions[s.assignment]
            if "report" in outcome:
                sub, tests = records_from_report(outcome["report"], submission_hash=digest, grader_version=version,
                                                 path=str(s.path), started_at=outcome["started"], finished_at=outcome["finished"])
                figures = [FigureRecord(**f) for f in outcome.get("figures", [])]
                summary.notebook_choices += [(s.assignment, s.student, p) for p in sub.problems
                                             if p.startswith(NOTEBOOK_CHOICE)]
                gb.record(sub, tests, figures)
                summary.graded += 1
            else:
                reason = outcome["error"]
                gb.record(failed_record(s.assignment, s.student, reason, max_score=course.assignment(s.assignment).points,
                                        submission_hash=digest, grader_version=version, path=str(s.path),
                                        started_at=outcome.get("started", time.time())), [])
                summary.failed += 1
                summary.failures.append((s.assignment, s.student, reason))
            bar.update(1)
            bar.set_postfix(done=summary.graded, failed=summary.failed, refresh=False)

        def deadline_of(s: Submission) -> float:
            budget = (limits or {}).get("submission_seconds") or course.limits(s.assignment).submission_seconds
            return float(budget) + job_grace_seconds

        executor.start()
        try:
            queue = list(todo)
            running: dict[Any, tuple[Submission, str]] = {}
            due: dict[Any, float] = {}
            while queue or running:
                # Only as many jobs in flight as the executor runs at once: if a grading process dies, the pool
                # fails every queued job with it, and only the jobs in flight should be charged an attempt.
                while queue and len(running) < executor.capacity():
                    s, digest = queue.pop(0)
                    future = executor.submit(job_of(s))
                    running[future] = (s, digest)
                    due[future] = time.monotonic() + deadline_of(s)
                overdue = [f for f in running if time.monotonic() >= due[f] and not f.done()]
                if overdue:
                    for future in overdue:  # recorded as failed with the reason; its grading process is stopped
                        s, digest = running.pop(future)
                        future.cancel()
                        record(s, digest, {"error": f"grading did not finish within its deadline of "
                                                    f"{deadline_of(s):g} s (the assignment's time budget plus "
                                                    f"{job_grace_seconds:g} s); the grading process was stopped"})
                    if executor.by_value is False:  # a local pool: stop its processes, requeue the other jobs
                        for future, job in running.items():
                            queue.insert(0, job)
                        running.clear()
                        executor.kill()
                    continue
                wait = max(0.05, min(due[f] for f in running) - time.monotonic()) if running else None
                broken = False
                for future in executor.first_completed(list(running), timeout=wait):
                    s, digest = running.pop(future)
                    due.pop(future, None)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the grading process died (killed, out of memory, segfault)
                        broken = broken or isinstance(exc, BrokenProcessPool)
                        key = (s.assignment, s.student)
                        attempts[key] = attempts.get(key, 0) + 1
                        if attempts[key] < max_attempts:
                            queue.insert(0, (s, digest))
                            continue
                        outcome = {"error": f"the grading process died {attempts[key]} times on this submission "
                                            f"({type(exc).__name__}: {exc})"}
                    record(s, digest, outcome)
                if broken:
                    for future, job in running.items():  # failed with the pool, or about to: requeue them
                        queue.insert(0, job)
                    running.clear()
                    executor.restart()
        finally:
            executor.close()
            bar.close()
    summary.seconds = time.perf_counter() - start
    return summary
