"""Does each worker see only its own scratch folder, stay within its limits, and leave nothing for the next?"""
from __future__ import annotations

import numpy as np
import pytest

from grader.sandbox import Limits, Sandbox, StudentCodeFailure, WorkerCrashed, WorkerTimeout, bubblewrap_works

LIMITS = Limits(submission_seconds=20, call_seconds=2, cpu_seconds=10, memory_mb=512, output_kb=4, file_mb=4)
namespaces_only = pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap")

TOOLS = '''
import os, time
def write(path, text): open(path, "w").write(text); return os.path.abspath(path)
def read(path): return open(path).read()
def listdir(path): return sorted(os.listdir(path))
def spin(): 
    while True: pass
def chatter(n): print("x" * n); return n
def cwd(): return os.getcwd()
def echo(*args, **kwargs): return [list(args), kwargs]
'''


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def worker_with_tools(sandbox):
    worker = sandbox.spawn(LIMITS)
    worker.request({"op": "load", "cells": [{"label": "tools", "source": TOOLS}]})
    return worker


def call(worker, name, *args):
    return worker.request({"op": "call", "name": name, "args": list(args), "convert": "numpy"})


def test_arguments_and_results_cross_as_plain_data(sandbox):
    """Do arrays, nested lists and keyword arguments reach the student's function and come back unchanged?"""
    worker = worker_with_tools(sandbox)
    x = np.arange(6.0).reshape(2, 3)
    out = worker.request({"op": "call", "name": "echo", "args": [x, [1, (2, 3)]], "kwargs": {"k": "v"}, "convert": "numpy"})
    worker.close()
    np.testing.assert_array_equal(out[0][0], x)
    assert out[0][1] == [1, (2, 3)] and out[1] == {"k": "v"}


@namespaces_only
def test_each_submission_gets_a_fresh_scratch_folder(sandbox):
    """Can a file written by one submission be read by the next one? (It must not.)"""
    first = worker_with_tools(sandbox)
    call(first, "write", "answers.txt", "copied")
    assert call(first, "listdir", ".") == ["answers.txt"]
    first.close()
    second = worker_with_tools(sandbox)
    assert call(second, "listdir", ".") == []
    second.close()


@namespaces_only
def test_the_course_files_are_invisible(sandbox):
    """Can student code see the repository (solutions, references, graders, course.yaml) or home folders?

    A virtual environment inside the checkout (make's .venv) is bound read-only, so the folders above it exist in
    the sandbox, but nothing else of the repository does.
    """
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    worker = worker_with_tools(sandbox)
    hidden = [root / "solutions", root / "reference", root / "grader" / "graders", root / "course.yaml", root / "tests",
              "/home", "/root/.ssh"]
    for path in hidden:
        with pytest.raises(StudentCodeFailure, match="FileNotFoundError|PermissionError"):
            call(worker, "listdir" if not str(path).endswith(".yaml") else "read", str(path))
    venv = Path(sys.prefix)
    if root in venv.parents:
        assert call(worker, "listdir", str(root)) == [venv.relative_to(root).parts[0]]
    worker.close()


def test_a_timeout_kills_the_worker_and_says_so(sandbox):
    """Does an infinite loop end at the call limit with a timeout verdict?"""
    worker = worker_with_tools(sandbox)
    with pytest.raises(WorkerTimeout, match="2 s call time limit"):
        call(worker, "spin")
    assert worker.status is not None


def test_requests_after_a_crash_fail_cleanly(sandbox):
    """After the worker is gone, is every further request a clean failure rather than a hang?"""
    worker = worker_with_tools(sandbox)
    worker.close()
    with pytest.raises(WorkerCrashed):
        call(worker, "cwd")


def test_printed_output_is_captured_and_capped(sandbox):
    """Is what the student prints kept for the report, capped at the output limit, and never taken as a result?"""
    worker = worker_with_tools(sandbox)
    assert call(worker, "chatter", 100_000) == 100_000
    worker.close()
    text = worker.output()
    assert text.startswith("x" * 100) and "truncated at 4 KB" in text and len(text) < 5000


def test_file_size_limit_applies(sandbox):
    """Can a submission fill the disk? (Writes past the file-size limit fail.)"""
    worker = worker_with_tools(sandbox)
    with pytest.raises(StudentCodeFailure, match="File too large|No space left"):
        call(worker, "write", "big.bin", "x" * (6 * 1024 * 1024))
    worker.close()


def test_a_request_the_grader_cannot_encode_is_a_grader_bug_not_the_students(sandbox):
    """An argument the channel refuses (a numpy string) raises TypeError here, and the worker still answers."""
    worker = worker_with_tools(sandbox)
    try:
        with pytest.raises(TypeError, match="grader bug"):
            call(worker, "echo", np.str_("token"))
        assert call(worker, "echo", "token") == [["token"], {}]
    finally:
        worker.close()
