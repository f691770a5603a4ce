"""The sandbox holds against attacks on the machine and on other students, not only on the score.

Each test runs one bounded attack from tests/adversarial/ (which test_adversarial.py also grades, for the score) and
checks what it reached: the host's kernel settings and device nodes, the next student's worker, the machine's task
table, the grading process's memory and time, the report's integrity. The attacks are bounded: one that succeeded
would write back what it read, and every loop has a count.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import re
import signal
import socket
import struct
import time
from pathlib import Path

import pytest

from grader import channel
from grader.cgroups import children, python_descendant
from grader.course import load_course
from grader.engine import grade
from grader.report import table
from grader.safe_text import clean
from grader.sandbox import Limits, Sandbox, StudentCodeFailure, bubblewrap_works
from tests.examples_manifest import grader_tests

HERE = Path(__file__).parent
ATTACKS = HERE / "adversarial"
A = "a00_warmup"  # the attacks in tests/adversarial/ define its functions; its points come from course.yaml
LIMITS = Limits(submission_seconds=30, call_seconds=1.5, cpu_seconds=20, memory_mb=1024, output_kb=64, file_mb=8)
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the grader runs as root only on some machines (CI, containers)")
namespaces_only = pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap")


@pytest.fixture(scope="module")
def course():
    return load_course(HERE.parent)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def loaded(sandbox: Sandbox, attack: str, limits: Limits = LIMITS):
    worker = sandbox.spawn(limits)
    worker.request({"op": "load", "cells": [{"label": attack, "source": (ATTACKS / f"{attack}.py").read_text()}]})
    return worker


def call(worker, name: str, *args):
    return worker.request({"op": "call", "name": name, "args": list(args), "convert": "numpy"})


# --------------------------------------------------------------------------------------------- 1. not the host's root
@as_root
@namespaces_only
def test_student_code_never_runs_as_the_hosts_root(sandbox):
    """Run as root, does the worker run as an unprivileged host uid, refused by /proc/sys and the device nodes?"""
    worker = loaded(sandbox, "host_root_writes")
    outcome = call(worker, "probe")
    worker.close()
    assert sandbox.runs_as != 0 and outcome["uid"] != 0, outcome
    assert not sandbox.warning
    for action in ("sysctl", "chmod /dev/null", "create in /dev", "tty"):
        assert outcome[action].startswith("refused"), (action, outcome)


@namespaces_only
def test_dev_holds_only_harmless_nodes(sandbox):
    """Is /dev a read-only folder of null, zero, random and urandom (no tty, no host devices)?"""
    worker = loaded(sandbox, "host_root_writes")
    worker.request({"op": "load", "cells": [{"label": "ls", "source": "import os\ndef ls(p): return sorted(os.listdir(p))"}]})
    names = call(worker, "ls", "/dev")
    worker.close()
    assert set(names) <= {"null", "zero", "random", "urandom", "shm", "fd", "stdin", "stdout", "stderr"}, names


def test_without_an_unprivileged_account_root_grading_warns_and_can_refuse(monkeypatch):
    """When root cannot switch to the worker account, does the sandbox say so loudly, and refuse if required?"""
    sandbox = Sandbox(use_namespaces=False)
    try:
        sandbox.dropped_root = False
        sandbox.account = type("Account", (), {"name": "grader-worker", "uid": 999, "gid": 999})()
        assert "as the host's root" in sandbox.warning
    finally:
        sandbox.close()


# --------------------------------------------------------------------------------------------- 2. hard deadlines
def test_a_dripping_reply_cannot_stretch_a_call_past_its_limit(sandbox):
    """One byte every half second used to keep a call alive for as long as the bytes lasted."""
    worker = loaded(sandbox, "slow_drip_reply")
    start = time.monotonic()
    with pytest.raises(StudentCodeFailure, match="time limit"):
        worker.request({"op": "call", "name": "sigmoid", "args": [1.0], "convert": "numpy"}, timeout=2.0)
    assert time.monotonic() - start < 2.0 + 1.0


def test_a_slow_drip_submission_is_graded_within_its_budget(course, sandbox):
    """Does the whole grading stay within the submission budget plus a margin?"""
    limits = Limits(submission_seconds=6, call_seconds=1.5, cpu_seconds=20, memory_mb=1024, output_kb=64, file_mb=8)
    report = grade(ATTACKS / "slow_drip_reply.py", assignment_id=A, course=course, sandbox=sandbox, limits=limits)
    assert report.score == 0
    assert report.seconds < 6 + 5


def test_the_watchdog_kills_a_worker_whose_budget_is_spent(sandbox):
    """A worker left spinning in a thread between requests is killed by the fork server after its budget."""
    limits = Limits(submission_seconds=1, call_seconds=1, cpu_seconds=60, memory_mb=512, output_kb=4, file_mb=4)
    worker = sandbox.spawn(limits)
    worker.request({"op": "load", "cells": [{"label": "spin", "source":
                    "import threading\ndef busy():\n    while True:\n        pass\n"
                    "def spin():\n    threading.Thread(target=busy, daemon=True).start()\n    return 1"}]})
    assert call(worker, "spin") == 1
    time.sleep(1 + 5 + 2)  # the budget, the watchdog's grace, and slack for a busy machine
    assert worker_states(sandbox) == ["Z"], "the worker should be dead, waiting to be reaped"
    status = worker.close()
    assert status.get("signal") == signal.SIGKILL


def worker_states(sandbox: Sandbox) -> list[str]:
    """The process states (R, S, Z, ...) of the fork server's children, read from the host's /proc."""
    zygote = python_descendant(sandbox._proc.pid)
    return [Path(f"/proc/{c}/stat").read_text().rsplit(")", 1)[1].split()[0] for c in children(zygote)]


# --------------------------------------------------------------------------------------------- 3. nothing crosses workers
@namespaces_only
def test_nothing_in_shared_memory_or_ipc_reaches_the_next_worker(sandbox):
    """32 MiB left in /dev/shm (outside any RLIMIT_AS) and IPC objects used to outlive the student who made them."""
    first = loaded(sandbox, "shared_memory_leftover")
    left = call(first, "leave")
    first.close()
    assert left["shmget"] == left["msgget"] == left["semget"] == "refused", left
    second = loaded(sandbox, "shared_memory_leftover")
    found = call(second, "find")
    second.close()
    assert found == {"/dev/shm": [], "shmget": False}


@namespaces_only
def test_dev_shm_is_small_and_private(sandbox):
    """Can a worker fill /dev/shm beyond its file limit? (It was half the machine's memory, shared.)"""
    worker = loaded(sandbox, "shared_memory_leftover", Limits(submission_seconds=30, call_seconds=5, cpu_seconds=20,
                                                              memory_mb=1024, output_kb=4, file_mb=16))
    worker.request({"op": "load", "cells": [{"label": "fill", "source":  # 8 MiB files: under the file-size limit
                    "def fill():\n    try:\n        for i in range(25):\n            open(f'/dev/shm/big{i}', 'wb').write(b'x' * (8 << 20))\n"
                    "        return 'written'\n    except OSError as e:\n        return e.strerror"}]})
    outcome = call(worker, "fill")
    worker.close()
    assert outcome != "written"


# --------------------------------------------------------------------------------------------- 4. thread flood
@as_root
def test_a_thread_flood_is_bounded_per_worker(sandbox):
    """About 196,000 threads fit before; now a worker gets at most a few hundred tasks."""
    worker = loaded(sandbox, "thread_flood")
    started = call(worker, "flood", 3000)
    worker.close()
    assert started <= 256, started


# --------------------------------------------------------------------------------------------- 5. seccomp allowlist
def test_the_syscalls_a_default_allow_filter_missed_are_refused(sandbox):
    """io_uring, signal ownership, IPC, chmod/chown, xattrs and limits of the fork server: all refused."""
    if not sandbox.seccomp:
        pytest.skip("libseccomp is not available")
    worker = loaded(sandbox, "seccomp_gaps")
    outcome = call(worker, "probe")
    worker.close()
    assert all(v == "refused" for v in outcome.values()), outcome


def test_the_fork_server_survives_signal_ownership_tricks(course):
    """F_SETOWN + F_SETSIG on the channel once delivered SIGKILL to the fork server at the grader's next request."""
    with Sandbox() as sandbox:
        zygote_before = sandbox._proc.pid
        grade(ATTACKS / "seccomp_gaps.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
        assert sandbox.alive() and sandbox._proc.pid == zygote_before, "the fork server was killed and restarted"


# --------------------------------------------------------------------------------------------- 6. one grading at a time
def test_concurrent_gradings_in_one_process_do_not_interfere(course):
    """Two threads of one process (a Dask worker with nthreads=2) grading at once used to record empty reports."""
    solution = course.root / "solutions" / A / f"{A}.ipynb"
    release = course.root / "assignments" / A / f"{A}.ipynb"
    with Sandbox() as shared, cf.ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(grade, path, assignment_id=A, course=course, sandbox=shared, limits=LIMITS)
                for path in (solution, release, solution, release)]
        scores = [(job.result().score, len(job.result().tests)) for job in jobs]
    points, tests = course.assignment(A).points, len(grader_tests(course, A))
    assert scores == [(points, tests), (0, tests), (points, tests), (0, tests)]


# --------------------------------------------------------------------------------------------- 7. bounded parsing
def test_a_huge_json_reply_is_refused_before_it_is_parsed(course, sandbox):
    """48 MiB of JSON cost the grading process 1.3 GiB; now it is the student's error, named."""
    report = grade(ATTACKS / "huge_json_reply.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    sigmoid = next(t for t in report.tests if t.name == "test_sigmoid_on_random_inputs")
    assert not sigmoid.grader_error and sigmoid.status == "error"
    assert "limit" in sigmoid.feedback, sigmoid.feedback


def test_the_channel_refuses_an_oversized_json_header_without_reading_it():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(struct.pack(">IQ", channel.MAX_DOC_BYTES + 1, 0))
        with pytest.raises(channel.ChannelError, match="JSON"):
            channel.recv(ours, deadline=time.monotonic() + 2)


def test_a_deeply_nested_reply_is_the_students_error(course, sandbox):
    report = grade(ATTACKS / "deeply_nested_reply.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    assert report.tests and not report.grader_errors, [(t.name, t.feedback) for t in report.grader_errors]


# --------------------------------------------------------------------------------------------- 8. feedback integrity
def test_feedback_worded_like_a_grader_failure_is_still_the_students(course, sandbox, tmp_path):
    from grader.gradebook import Gradebook, records_from_report
    from grader.html_report import is_grader_error

    report = grade(ATTACKS / "fake_grader_error.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    assert not report.grader_errors
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record(*records_from_report(report.to_dict(), submission_hash="h", grader_version="v", path="p",
                                       started_at=0.0, finished_at=1.0))
        assert not any(is_grader_error(r) for r in gb.results(A))


def test_terminal_escapes_never_reach_the_table(course, sandbox):
    report = grade(ATTACKS / "terminal_escapes.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    text = table(report)
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text and "\x07" not in text
    assert all("\x1b" not in t.feedback for t in report.tests)
    assert f"score 0/{course.assignment(A).points:g}" in text.splitlines()[0]


def test_clean_keeps_text_and_drops_controls():
    assert clean("a\tb\nc") == "a\tb\nc"
    assert clean("x\x1b[31mred\x1b[0m\x1b]0;title\x07y\x00") == "xredy"


def test_hidden_feedback_shows_neither_inputs_nor_expected_values(course, sandbox):
    """A hidden test names what went wrong, but a student's exception echoing its inputs, or the expected value of a
    hidden comparison, is not shown."""
    report = grade(ATTACKS / "leak_hidden_inputs.py", assignment_id=A, course=course, sandbox=sandbox,
                   limits=LIMITS, secret=b"fixed")
    hidden = [t for t in report.tests if t.visibility == "hidden"]
    public = [t for t in report.tests if t.visibility == "public"]
    assert hidden and all(t.status != "passed" for t in hidden)
    for t in hidden:
        assert not re.search(r"\d\.\d", t.feedback), t.feedback
    assert any("inputs: [" in t.feedback for t in public), [t.feedback for t in public]


def test_printed_output_is_kept_even_without_a_newline(course, sandbox):
    report = grade(ATTACKS / "unflushed_print.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    assert "debug: sigmoid was called" in report.output


# --------------------------------------------------------------------------------------------- autograde's own bounds
class _StuckExecutor:
    """An executor whose jobs never finish (a grading process hung in the grader's own code)."""

    by_value = False

    def __init__(self) -> None:
        self.kills = 0

    def start(self) -> None:
        pass

    def submit(self, job):
        return cf.Future()

    def capacity(self) -> int:
        return 2

    def first_completed(self, futures, timeout=None):
        return cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED).done

    def restart(self) -> None:
        pass

    def kill(self) -> None:
        self.kills += 1

    def close(self) -> None:
        pass


def test_autograde_records_a_job_that_overran_its_deadline_as_failed(course, tmp_path):
    """A job past the assignment's budget plus the grace is recorded as failed with the reason; the run ends."""
    from grader import autograde as ag
    from grader.gradebook import Gradebook

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann", "ben", "cat"):
        (folder / f"{name}.py").write_text((ATTACKS / "unflushed_print.py").read_text())
    executor = _StuckExecutor()
    start = time.monotonic()
    summary = ag.autograde(ag.find_submissions(folder, course, A), course, tmp_path / "gb.sqlite",
                           executor=executor, limits={"submission_seconds": 1}, progress=False, job_grace_seconds=1)
    assert time.monotonic() - start < 20
    assert summary.failed == 3 and summary.graded == 0 and executor.kills >= 1
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        reasons = {s["student"]: s["reason"] for s in gb.submissions(A)}
    assert all("deadline" in r for r in reasons.values()), reasons


def test_a_report_with_no_tests_is_recorded_as_failed_not_graded(course, tmp_path, monkeypatch):
    """A grading that ran no test (a grader file that collected nothing) must not look like a clean 0/0."""
    from grader import autograde as ag
    from grader import engine

    empty = engine.GradeReport(assignment=A, student="ann", tests=[])
    monkeypatch.setattr(engine, "grade", lambda *a, **k: empty)
    outcome = ag.grade_job({"assignment": A, "student": "ann", "path": str(ATTACKS / "unflushed_print.py"),
                            "course": str(course.root / "course.yaml"), "device": "cpu", "require_isolation": False,
                            "limits": None, "secret": b"s", "name": "ann.py", "files": None})
    assert "report" not in outcome and "no test" in outcome["error"]


def test_a_device_this_machine_lacks_is_refused_before_grading(course, tmp_path, monkeypatch):
    """`--device cuda` without CUDA used to grade the whole class 0 with exit 0; now nothing is graded, exit 2."""
    import torch

    from grader.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.ipynb").write_text((course.root / course.assignment(A).notebook).read_text())
    code = main(["autograde", str(folder), "--assignment", A, "--gradebook", str(tmp_path / "gb.sqlite"),
                 "--device", "cuda", "--workers", "0", "--no-progress", "--course", str(course.root / "course.yaml")])
    assert code == 2
    assert not (tmp_path / "gb.sqlite").exists() or not __import__("sqlite3").connect(tmp_path / "gb.sqlite").execute(
        "SELECT count(*) FROM submissions").fetchone()[0]
    with pytest.raises(Exception, match="no usable CUDA"):
        Sandbox(device="cuda")


@as_root
@pytest.mark.skipif(not Path("/sys/fs/cgroup/pids/cgroup.procs").exists() and not Path("/sys/fs/cgroup/cgroup.controllers").exists(),
                    reason="no cgroup hierarchy on this machine")
def test_each_worker_gets_its_own_cgroup_which_is_removed_after(sandbox):
    """Memory and tasks are bounded per worker by a cgroup where the machine has them; nothing is left behind."""
    worker = loaded(sandbox, "thread_flood")
    group = worker.cgroup
    assert group is not None and sandbox.details["cgroups"]
    for controller, folder in group.folders.items():
        assert (folder / "cgroup.procs").read_text().split(), f"the worker is not in its {controller} cgroup"
    limits = {f.name: (f / "pids.max").read_text().strip() for f in group.folders.values() if (f / "pids.max").exists()}
    assert all(v == "264" for v in limits.values()) and limits
    worker.close()
    assert not any(folder.exists() for folder in group.folders.values())


def test_what_hidden_tests_calls_print_is_not_shown(course, sandbox):
    """Printing its inputs is the other way a submission could copy a hidden test onto its feedback page."""
    report = grade(ATTACKS / "print_inputs.py", assignment_id=A, course=course, sandbox=sandbox,
                   limits=LIMITS, secret=b"fixed")
    assert "sigmoid input" in report.output  # the public test's call printed, and that is shown
    assert "[printed during a hidden test: not shown]" in report.output
    assert report.output.count("sigmoid input") == 1, report.output
