"""The student's definitions as the kernel has them: what the public tests call instead of a sandboxed worker.

The kit checks what the kernel has run, saved or not. A call gets fresh copies of its inputs (the student's code
may change them in place, and the test still needs them) and its result becomes plain data (numbers, strings,
lists, tuples, dicts, numpy arrays) by the same rules the grader's worker applies before a value leaves the
sandbox, so a value the grader would refuse is refused here with the same words.
"""
from __future__ import annotations

import contextlib
import copy
import os
import signal
import threading
import traceback
import types
from typing import Any

import numpy as np
import torch

MAX_DEPTH = 32


class StudentCodeFailure(Exception):
    """The student's code could not produce a value; the check that asked fails with this message."""

    status = "error"

    def __init__(self, message: str, *, kind: str = "exception") -> None:
        super().__init__(message)
        self.kind = kind


class CallTimeout(StudentCodeFailure):
    status = "timeout"


class _Alarm(BaseException):
    """Raised inside the student's code when its time is up (a BaseException, so `except Exception` cannot eat it)."""


def not_defined(name: str) -> StudentCodeFailure:
    return StudentCodeFailure(f"`{name}` is not defined in your notebook", kind="missing")


class LiveSubmission:
    """`call`, `get` and `run` as grader tests use them, against a namespace (the kernel's user namespace)."""

    def __init__(self, namespace: dict[str, Any], call_seconds: float | None = None, time_limits: bool = True) -> None:
        self.namespace = namespace
        self.call_seconds = call_seconds
        self.time_limits = time_limits
        self.used: set[str] = set()  # the student's names asked for (the kit says which a task needs)

    def call(self, name: str, *args: Any, convert: str = "torch", timeout: float | None = None, **kwargs: Any) -> Any:
        self.used.add(name)
        if name not in self.namespace:
            raise not_defined(name)
        fn = self.namespace[name]
        if not callable(fn):
            raise StudentCodeFailure(f"`{name}` is a {type(fn).__name__}, not a function", kind="not_callable")
        return self._run(fn, _inputs(list(args), convert), _inputs(kwargs, convert), timeout)

    def get(self, name: str) -> Any:
        self.used.add(name)
        if name not in self.namespace:
            raise not_defined(name)
        return plain(self.namespace[name])

    def run(self, harness, *args: Any, convert: str = "torch", timeout: float | None = None, **kwargs: Any) -> Any:
        student = types.SimpleNamespace(**{k: v for k, v in self.namespace.items() if not k.startswith("__")})
        return self._run(harness, [student, *_inputs(list(args), convert)], _inputs(kwargs, convert), timeout)

    def _run(self, fn, args: list, kwargs: dict, timeout: float | None = None) -> Any:
        limit = (timeout or self.call_seconds) if self.time_limits else None
        try:
            with _time_limit(limit):
                value = fn(*args, **kwargs)
        except _Alarm:
            raise CallTimeout(f"did not finish within the {limit:g} s call time limit (infinite loop?)") from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from student code included: it fails this check only
            raise StudentCodeFailure(describe_exception(exc)) from None
        return plain(value)


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """The grader's per-call time limit, where the platform has interval timers (Linux, macOS) and the check runs
    in the main thread (as a kernel's cells do); elsewhere a stuck call is stopped with the kernel's Interrupt."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def alarm(signum, frame):
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _inputs(value: Any, how: str) -> Any:
    """Fresh copies of the test's inputs; arrays become float64 tensors unless the test asks for numpy."""
    def walk(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return torch.from_numpy(v.copy()) if how != "numpy" else v.copy()
        if type(v) is list:
            return [walk(x) for x in v]
        if type(v) is tuple:
            return tuple(walk(x) for x in v)
        if type(v) is dict:
            return {k: walk(x) for k, x in v.items()}
        return copy.deepcopy(v)

    return walk(value)


def plain(value: Any, depth: int = 0, where: str = "") -> Any:
    """The value as the grader's worker would send it: tensors become numpy arrays; other objects are refused."""
    if depth > MAX_DEPTH:
        raise StudentCodeFailure(f"value nested deeper than {MAX_DEPTH} levels at {where or 'top level'}", kind="too_large")
    t = type(value)
    if value is None or t in (bool, str, int, float):
        return value
    if t in (np.float64, np.float32, np.float16):
        return float(value)
    if t in (np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.uint32, np.uint64):
        return int(value)
    if t is np.bool_:
        return bool(value)
    if t is list or t is tuple:
        items = [plain(x, depth + 1, f"{where}[{i}]") for i, x in enumerate(value)]
        return items if t is list else tuple(items)
    if t is dict:
        out = {}
        for k, x in value.items():
            if type(k) is not str:
                raise _unsupported(f"dict key {type(k).__name__}", where)
            out[k] = plain(x, depth + 1, f"{where}[{k!r}]")
        return out
    if isinstance(value, np.ndarray):
        array = np.array(value, copy=True)
    elif isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
            tensor = tensor.float()
        array = np.array(tensor.cpu().numpy(), copy=True)
    else:
        raise _unsupported(t.__name__, where)
    if array.dtype.kind not in "biuf":
        raise _unsupported(f"array of dtype {array.dtype}", where)
    return array


def _unsupported(type_name: str, where: str) -> StudentCodeFailure:
    place = f" at {where}" if where else ""
    return StudentCodeFailure(
        f"returned unsupported type {type_name}{place}; return numbers, strings, booleans, lists, tuples, dicts, "
        "numpy arrays or torch tensors",
        kind="unsupported",
    )


_OWN_FILES = os.path.dirname(os.path.abspath(__file__))


def describe_exception(exc: BaseException) -> str:
    """`your code raised TypeError: ... (line 3: `return x @ w`)`, pointing at the student's own line."""
    try:
        message = str(exc)
    except BaseException:
        message = "<exception message could not be read>"
    where = ""
    student_frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if _is_notebook_code(fr.filename)]
    if student_frames:
        fr = student_frames[-1]
        where = f" (line {fr.lineno}: `{(fr.line or '').strip()}`)"
    return f"your code raised {type(exc).__name__}: {message[:2000]}{where}"


def _is_notebook_code(filename: str) -> bool:
    """Cells run by IPython have file names like /tmp/ipykernel_123/456.py or <ipython-input-1-...>."""
    return "ipykernel_" in filename or filename.startswith("<ipython-input") or filename.startswith("<cell")
