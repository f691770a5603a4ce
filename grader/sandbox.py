"""Running student code in a separate, resource-limited worker process.

`Sandbox` starts one fork server (worker.py) per grading process, under bubblewrap where it is installed: new user,
PID, network, IPC and UTS namespaces, a read-only view of the Python installation only (not the course repository:
no solutions, references, graders or gradebook), no writable folder but each worker's own scratch tmpfs. The fork
server imports numpy and torch once, so a submission does not pay for that import. `Sandbox.spawn` forks a fresh
`Worker` per submission, which locks itself down (see worker.py) before it reads any student code.

Where bubblewrap or seccomp is missing, grading still runs with resource limits only, and `Sandbox.warning` says so
loudly; `Sandbox(require_isolation=True)` refuses instead.
"""
from __future__ import annotations

import array
import importlib.util
import os
import secrets
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader import channel

WORKER_FILES = ("worker.py", "channel.py")
WORKER_DIR_IN_SANDBOX = "/opt/grader-worker"
STARTUP_SECONDS = 120.0  # a cold torch import on a busy 2-core machine can take tens of seconds


@dataclass(frozen=True)
class Limits:
    """Per-submission budgets; course.yaml sets them per assignment."""

    submission_seconds: float = 120.0
    call_seconds: float = 10.0
    cpu_seconds: int = 120
    memory_mb: int = 3072
    output_kb: int = 256
    file_mb: int = 16


class SandboxError(Exception):
    """The sandbox itself cannot run (a grader problem, not the student's)."""


class StudentCodeFailure(Exception):
    """The student's code could not produce a value: the test that asked fails with this message."""

    status = "error"

    def __init__(self, message: str, *, kind: str = "exception", details: dict | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details or {}


class WorkerTimeout(StudentCodeFailure):
    status = "timeout"


class WorkerCrashed(StudentCodeFailure):
    status = "crashed"


@lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """True when bwrap exists and can create the namespaces we use on this machine."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    try:
        probe = subprocess.run(
            [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--", "/bin/true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class Sandbox:
    """A fork server for sandboxed workers. Use as a context manager, or call close()."""

    def __init__(self, *, device: str = "cpu", require_isolation: bool = False, use_namespaces: bool | None = None) -> None:
        self.device = device
        self.namespaces = bubblewrap_works() if use_namespaces is None else use_namespaces
        if use_namespaces and not bubblewrap_works():
            raise SandboxError("namespaces were requested but bubblewrap (bwrap) is not usable here")
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        weakref.finalize(self, shutil.rmtree, self._dir, True)  # also when close() is never called
        for name in WORKER_FILES:
            shutil.copy(Path(__file__).with_name(name), self._dir / name)
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self.seccomp = False
        self._start()
        if require_isolation and self.warning:
            self.close()
            raise SandboxError(self.warning + " Refusing to grade because isolation is required (--require-sandbox).")

    # --------------------------------------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        argv = self._argv(theirs.fileno())
        env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1"}
        self._proc = subprocess.Popen(
            argv, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/", start_new_session=True,
        )
        theirs.close()
        ours.settimeout(STARTUP_SECONDS)
        try:
            hello = channel.recv(ours)
        except (EOFError, OSError, channel.ChannelError) as exc:
            err = self._proc.stderr.read().decode(errors="replace")[-2000:] if self._proc.poll() is not None else ""
            self._proc.kill()
            raise SandboxError(f"the sandboxed worker did not start ({exc}). {err}".strip()) from None
        ours.settimeout(None)
        self._control = ours
        self.seccomp = bool(hello.get("seccomp"))
        self.torch_version = hello.get("torch")

    def _argv(self, fd: int) -> list[str]:
        worker = [sys.executable, "-I"]
        if not self.namespaces:
            return worker + [str(self._dir / "worker.py"), str(fd)]
        args = [
            shutil.which("bwrap"), "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            # Kept inside the new user namespace only, so each worker can mount its own scratch tmpfs; workers drop it.
            "--cap-add", "CAP_SYS_ADMIN",
            "--ro-bind", "/usr", "/usr",
        ]
        for path in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
            args += ["--ro-bind-try", path, path]
        for path in _python_paths():
            args += ["--ro-bind", path, path]
        for path in _project_paths_inside(_python_paths()):
            args += ["--tmpfs", path]  # a non-editable install of the course would otherwise be readable
        if self.device == "cuda":
            for dev in sorted(Path("/dev").glob("nvidia*")):
                args += ["--dev-bind", str(dev), str(dev)]
            args += ["--ro-bind-try", "/sys", "/sys", "--ro-bind-try", "/usr/local/nvidia", "/usr/local/nvidia"]
        args += [
            "--ro-bind", str(self._dir), WORKER_DIR_IN_SANDBOX,
            "--proc", "/proc", "--dev", "/dev", "--dir", "/scratch", "--remount-ro", "/", "--chdir", "/",
        ]
        return args + ["--"] + worker + [f"{WORKER_DIR_IN_SANDBOX}/worker.py", str(fd)]

    @property
    def warning(self) -> str | None:
        missing = []
        if not self.namespaces:
            missing.append("namespaces (install bubblewrap: apt-get install bubblewrap)")
        if not self.seccomp:
            missing.append("seccomp (pip install pyseccomp; needs libseccomp2)")
        if not missing:
            return None
        return (
            "WARNING: student code ran WITHOUT full isolation: missing " + " and ".join(missing) + ". "
            "Resource limits still apply, but a malicious submission could read or write files of this machine."
        )

    @property
    def isolation(self) -> dict[str, Any]:
        return {"namespaces": self.namespaces, "seccomp": self.seccomp, "warning": self.warning}

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
            self._proc.stderr.close()
            self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------------------------- workers
    def _command(self, msg: dict, fds: list[int] | None = None) -> dict:
        with self._lock:
            if not self.alive():
                self._start()
            frame = channel.encode(msg)
            if fds:
                self._control.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            else:
                self._control.sendall(frame)
            self._control.settimeout(30)
            try:
                return channel.recv(self._control)
            except (EOFError, OSError) as exc:
                self._proc.kill()
                raise SandboxError(f"the fork server stopped answering: {exc}") from None
            finally:
                self._control.settimeout(None)

    def spawn(self, limits: Limits) -> Worker:
        """A fresh locked-down worker with its own scratch folder, for one submission."""
        ours, theirs = socket.socketpair()
        log = tempfile.TemporaryFile(prefix="grader-output-")
        payload = {**asdict(limits), "device": self.device}
        reply = self._command({"op": "spawn", "limits": payload, "isolated": self.namespaces}, [theirs.fileno(), log.fileno()])
        theirs.close()
        worker = Worker(self, reply["pid"], ours, log, limits)
        worker.handshake()
        return worker

    def reap(self, pid: int) -> dict:
        return self._command({"op": "reap", "pid": pid})


class Worker:
    """One submission's worker process; every request is bounded in time and in reply size."""

    def __init__(self, sandbox: Sandbox, pid: int, sock: socket.socket, log, limits: Limits) -> None:
        self.sandbox = sandbox
        self.pid = pid
        self.sock = sock
        self.log = log
        self.limits = limits
        self.deadline = time.monotonic() + limits.submission_seconds
        self.status: dict | None = None
        self.report: dict = {}

    def handshake(self) -> None:
        self.sock.settimeout(30)
        try:
            self.report = channel.recv(self.sock)
        except (EOFError, OSError, channel.ChannelError):
            status = self.close()
            raise SandboxError(f"a worker could not lock itself down ({describe_exit(status, self.limits)}): {self.output()}") from None

    def request(self, msg: dict, timeout: float | None = None) -> Any:
        """The worker's reply to `msg`, or StudentCodeFailure (error, timeout or crash) explaining why there is none."""
        if self.status is not None:
            raise WorkerCrashed("the worker had already stopped")
        remaining = self.deadline - time.monotonic()
        budget = min(timeout or self.limits.call_seconds, remaining)
        if budget <= 0:
            self.close()
            raise WorkerTimeout(f"the submission used up its total time budget of {self.limits.submission_seconds:g} s")
        msg = {**msg, "id": secrets.token_hex(8)}
        try:
            frame = channel.encode(msg)
        except channel.ChannelError as exc:  # the grader's own arguments: a grader bug, not the student's
            raise TypeError(f"grader bug: cannot send the request to the worker ({exc})") from None
        try:
            self.sock.settimeout(budget)
            self.sock.sendall(frame)
            reply = channel.recv(self.sock)
        except (socket.timeout, TimeoutError):
            self.close()
            # Worded from the limits, not the time left, so that a regrade gives the same feedback.
            if budget < remaining:
                raise WorkerTimeout(f"did not finish within the {budget:g} s call time limit (infinite loop?)") from None
            raise WorkerTimeout(
                f"did not finish before the submission's total time budget of {self.limits.submission_seconds:g} s ran out "
                "(infinite loop, or too slow?)"
            ) from None
        except (EOFError, ConnectionError, OSError):
            status = self.close()
            raise WorkerCrashed(f"your code crashed the worker process: {describe_exit(status, self.limits)}") from None
        except channel.ChannelError as exc:
            self.close()
            raise StudentCodeFailure(f"the worker sent a malformed reply ({exc})", kind="protocol") from None
        if type(reply) is not dict or reply.get("id") != msg["id"]:
            self.close()
            raise StudentCodeFailure("the worker sent a reply that does not answer the request", kind="protocol")
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is dict else {"kind": "protocol", "message": str(reply["error"])}
            raise StudentCodeFailure(format_error(error), kind=str(error.get("kind")), details=error)
        return reply.get("value")

    def output(self) -> str:
        """What the student's code printed, capped at the output limit."""
        try:
            self.log.seek(0)
            data = self.log.read(self.limits.output_kb * 1024 + 1)
        except (OSError, ValueError):
            return ""
        text = data[: self.limits.output_kb * 1024].decode(errors="replace")
        if len(data) > self.limits.output_kb * 1024:
            text += f"\n[output truncated at {self.limits.output_kb} KB]"
        return text

    def close(self) -> dict:
        """Stop the worker (and any threads it left behind) and return how it ended."""
        if self.status is None:
            self.sock.close()
            try:
                self.status = self.sandbox.reap(self.pid)
            except SandboxError as exc:
                self.status = {"unknown": True, "error": str(exc)}
        return self.status


def format_error(error: dict) -> str:
    kind = error.get("kind")
    message = str(error.get("message", ""))
    if kind != "exception":
        return message
    where = ""
    frames = error.get("frames") or []
    if frames and type(frames[-1]) is dict:
        fr = frames[-1]
        where = f" (in cell '{fr.get('cell')}', line {fr.get('line')}: `{fr.get('code')}`)"
    return f"your code raised {error.get('type', 'an exception')}: {message}{where}"


def describe_exit(status: dict | None, limits: Limits) -> str:
    if not status or status.get("unknown"):
        return "the worker stopped"
    sig = status.get("signal")
    cpu = status.get("cpu_seconds", 0.0)
    if sig in (signal.SIGXCPU, signal.SIGKILL) and cpu >= limits.cpu_seconds - 0.5:
        return f"it used more than the {limits.cpu_seconds} s CPU-time limit"
    if sig == signal.SIGSEGV:
        return "segmentation fault (SIGSEGV), e.g. from ctypes or a native extension"
    if sig == signal.SIGKILL:
        return "killed (SIGKILL)"
    if sig is not None:
        return f"killed by signal {signal.Signals(sig).name}"
    code = status.get("exit_code")
    return f"the process exited with code {code} (os._exit or a fatal error), which is not allowed while grading"


def _python_paths() -> list[str]:
    """The folders holding this Python and its packages, outermost only."""
    candidates = {sys.base_prefix, sys.prefix, *site.getsitepackages()}
    real = sorted({os.path.realpath(p) for p in candidates if os.path.isdir(p)} | {p for p in candidates if os.path.isdir(p)})
    outer: list[str] = []
    for path in real:
        if not any(path == o or path.startswith(o + os.sep) for o in outer):
            if not path.startswith("/usr" + os.sep):
                outer.append(path)
    return outer


def _project_paths_inside(roots: list[str]) -> list[str]:
    out = []
    for name in ("grader", "reference"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                if any(loc.startswith(r + os.sep) for r in roots):
                    out.append(loc)
    return out
