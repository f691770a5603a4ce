"""Running student code in a separate, resource-limited worker process.

`Sandbox` starts one fork server (worker.py) per grading process, under bubblewrap where it is installed: new user,
PID, network, IPC and UTS namespaces, a read-only view of the Python installation only (not the course repository:
no solutions, references, graders or gradebook), no writable folder but each worker's own scratch tmpfs. The fork
server imports numpy and torch once, so a submission does not pay for that import. `Sandbox.spawn` forks a fresh
`Worker` per submission, which locks itself down (see worker.py) before it reads any student code.

Student code never runs as the host's root. When the grader runs as root (Docker images, CI runners, Gradescope's
containers), bubblewrap and the fork server are started as an unprivileged host account (`grader-worker`, which
`make setup` creates, else `nobody`; `GRADER_WORKER_UID` overrides), so that uid 0 inside the namespaces is that
account outside: host files, `/proc/sys` and device nodes refuse it as they refuse any user, and RLIMIT_NPROC binds.
Inside, `/dev` is a read-only tmpfs holding only null, zero, random and urandom (and the GPU's nodes for `cuda`).

Where bubblewrap or seccomp is missing, or no unprivileged account can be had, grading still runs with resource limits
only, and `Sandbox.warning` says so loudly; `Sandbox(require_isolation=True)` refuses instead.
"""
from __future__ import annotations

import array
import importlib.util
import os
import pwd
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
from grader.cgroups import WorkerCgroup, child_by_namespace_pid, python_descendant

WORKER_FILES = ("worker.py", "channel.py")
WORKER_DIR_IN_SANDBOX = "/opt/grader-worker"
STARTUP_SECONDS = 120.0  # a cold torch import on a busy 2-core machine can take tens of seconds
WORKER_USER = "grader-worker"
NOBODY_UID = 65534
# What the trusted side waits for a fork-server command (spawn, reap), which runs no student code.
COMMAND_SECONDS = 30.0
# The zygote kills a worker this long after its submission budget is spent, whatever the trusted side is doing.
WATCHDOG_GRACE_SECONDS = 5.0
DEVICE_NODES = ("null", "zero", "random", "urandom")
HIDDEN_OUTPUT_NOTE = b"\n[printed during a hidden test: not shown]\n"
# A worker's cgroup: its memory limit plus this, for the pages of the preloaded numpy and torch it copies on write.
CGROUP_SLACK_MB = 512
CGROUP_MAX_TASKS = 264  # the worker's RLIMIT_NPROC (256) and a few for the runtime


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


@dataclass(frozen=True)
class WorkerAccount:
    """The unprivileged host account the sandbox runs as when the grader itself runs as root."""

    uid: int
    gid: int
    name: str


@lru_cache(maxsize=1)
def worker_account() -> WorkerAccount | None:
    """The account to drop to, or None when the grader is not root (it then runs the sandbox as itself)."""
    if os.geteuid() != 0:
        return None
    override = os.environ.get("GRADER_WORKER_UID")
    if override:
        uid = int(override)
        if uid == 0:
            raise SandboxError("GRADER_WORKER_UID=0 would run student code as root; choose an unprivileged uid")
        try:
            entry = pwd.getpwuid(uid)
            return WorkerAccount(uid, entry.pw_gid, entry.pw_name)
        except KeyError:
            return WorkerAccount(uid, uid, f"uid {uid}")
    for name in (WORKER_USER, "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return WorkerAccount(entry.pw_uid, entry.pw_gid, name)
    return WorkerAccount(NOBODY_UID, NOBODY_UID, f"uid {NOBODY_UID}")


def _as_worker_account() -> dict[str, Any]:
    """subprocess.Popen arguments that start a child as the worker account (nothing when not root)."""
    account = worker_account()
    if account is None:
        return {}
    return {"user": account.uid, "group": account.gid, "extra_groups": []}


@lru_cache(maxsize=1)
def can_drop_root() -> bool:
    """Without namespaces, as root: can a child started as the worker account run this Python? (The installation
    must be readable by it, which a Python under a private /root is not.) Always True when not root."""
    if worker_account() is None:
        return True
    try:
        probe = subprocess.run([sys.executable, "-I", "-c", "import os, numpy; print(os.getuid())"],
                               capture_output=True, timeout=60, cwd="/", **_as_worker_account())
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0 and probe.stdout.strip() != b"0"


@lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """True when bwrap exists and can create the namespaces we use on this machine."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    try:
        probe = subprocess.run(
            [bwrap, *_user_namespace_args(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--ro-bind", "/", "/",
             "--tmpfs", "/dev", "--dev-bind", "/dev/null", "/dev/null", "--", "/bin/true"],
            capture_output=True, timeout=20, cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _user_namespace_args() -> list[str]:
    """As root, bubblewrap needs no user namespace (the zygote drops to the worker account itself, which keeps the
    Python installation reachable under a private /root); as anyone else it needs one to create the others."""
    return [] if os.geteuid() == 0 else ["--unshare-user"]


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def check_device(device: str) -> None:
    """Refuse a device this machine cannot grade on: the instructor's error, never the students' (who would all get 0)."""
    if device not in ("cpu", "cuda"):
        raise SandboxError(f"unknown device {device!r}: use cpu or cuda")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SandboxError(
                "--device cuda (or `device: cuda` in course.yaml) was asked for, but this machine has no usable CUDA "
                f"(torch {torch.__version__}: torch.cuda.is_available() is False). Grade with --device cpu, set "
                "`device: auto` in course.yaml, or run on a machine with a GPU and a CUDA build of torch."
            )


class Sandbox:
    """A fork server for sandboxed workers. Use as a context manager, or call close()."""

    def __init__(self, *, device: str = "cpu", require_isolation: bool = False, use_namespaces: bool | None = None) -> None:
        check_device(device)
        self.device = device
        self.namespaces = bubblewrap_works() if use_namespaces is None else use_namespaces
        if use_namespaces and not bubblewrap_works():
            raise SandboxError("namespaces were requested but bubblewrap (bwrap) is not usable here")
        self._lock = threading.Lock()
        self.account = worker_account()
        self.dropped_root = self.account is None or (not self.namespaces and can_drop_root())
        self._dir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        weakref.finalize(self, shutil.rmtree, self._dir, True)  # also when close() is never called
        for name in WORKER_FILES:
            shutil.copy(Path(__file__).with_name(name), self._dir / name)
        self._dir.chmod(0o755)  # readable by the worker account; the files are copies, so writable by root only
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._active: Worker | None = None
        self._zygote_pid: int | None = None
        self.seccomp = False
        self.cgroups = False  # set once a worker has been put in its own cgroup
        self._start()
        if require_isolation and self.warning:
            self.close()
            raise SandboxError(self.warning + " Refusing to grade because isolation is required (--require-sandbox).")

    # --------------------------------------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        self._zygote_pid = None
        ours, theirs = socket.socketpair()
        argv = self._argv(theirs.fileno())
        env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1"}
        drop = _as_worker_account() if self.account is not None and not self.namespaces and self.dropped_root else {}
        self._proc = subprocess.Popen(
            argv, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/", start_new_session=True, **drop,
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
        if self.namespaces and self.account is not None:
            self.dropped_root = hello.get("uid") == self.account.uid
        self.torch_version = hello.get("torch")

    def _argv(self, fd: int) -> list[str]:
        worker = [sys.executable, "-I"]
        if not self.namespaces:
            return worker + [str(self._dir / "worker.py"), str(fd)]
        args = [
            shutil.which("bwrap"), *_user_namespace_args(), "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr",
        ]
        for path in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
            args += ["--ro-bind-try", path, path]
        python = _python_paths()
        # The folders bubblewrap creates above the Python installation are its own: make them traversable.
        for parent in sorted({a for p in python for a in _ancestors(p)}):
            if not any(parent == p or parent.startswith(p + os.sep) for p in python) and not parent.startswith("/usr"):
                args += ["--perms", "0755", "--dir", parent]
        for path in python:
            args += ["--ro-bind", path, path]
        for path in _project_paths_inside(python):
            args += ["--tmpfs", path]  # a non-editable install of the course would otherwise be readable
        # /dev: a tmpfs with only harmless nodes, read-only once built (bubblewrap's --dev would add tty, pts, ...).
        args += ["--tmpfs", "/dev"]
        for node in DEVICE_NODES:
            args += ["--dev-bind", f"/dev/{node}", f"/dev/{node}"]
        if self.device == "cuda":
            for dev in sorted(Path("/dev").glob("nvidia*")):
                args += ["--dev-bind", str(dev), str(dev)]
            args += ["--ro-bind-try", "/sys", "/sys", "--ro-bind-try", "/usr/local/nvidia", "/usr/local/nvidia"]
        args += ["--symlink", "/proc/self/fd", "/dev/fd"]
        for i, name in enumerate(("stdin", "stdout", "stderr")):
            args += ["--symlink", f"/proc/self/fd/{i}", f"/dev/{name}"]
        # Scratch and /dev/shm: each worker mounts its own over these; where it cannot, these shared ones are used
        # and the zygote empties them between workers.
        size = str(64 * 1024 * 1024)
        args += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm", "--perms", "1777", "--size", size, "--tmpfs", "/scratch"]
        args += [
            "--ro-bind", str(self._dir), WORKER_DIR_IN_SANDBOX,
            "--proc", "/proc", "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/",
        ]
        drop = [str(self.account.uid), str(self.account.gid)] if self.account is not None else []
        return args + ["--"] + worker + [f"{WORKER_DIR_IN_SANDBOX}/worker.py", str(fd), *drop]

    @property
    def warning(self) -> str | None:
        missing = []
        if not self.dropped_root:
            missing.append(
                f"an unprivileged account (the grader runs as root and cannot switch to {self.account.name}: "
                "student code would run as the host's root; create the account with `make setup`, or set "
                "GRADER_WORKER_UID)"
            )
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

    @property
    def details(self) -> dict[str, Any]:
        """More than `isolation` (whose keys reports and tests rely on): who the code runs as, cgroups."""
        return {**self.isolation, "runs_as_uid": self.runs_as, "cgroups": self.cgroups}

    @property
    def runs_as(self) -> int:
        """The host uid student code runs as."""
        if self.account is not None and self.dropped_root:
            return self.account.uid
        return os.geteuid()

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
            try:
                if fds:
                    self._control.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                else:
                    self._control.sendall(frame)
                return channel.recv(self._control, deadline=time.monotonic() + COMMAND_SECONDS)
            except (EOFError, OSError, channel.ChannelError) as exc:
                self._proc.kill()
                raise SandboxError(f"the fork server stopped answering: {exc}") from None
            finally:
                self._control.settimeout(None)

    def spawn(self, limits: Limits) -> Worker:
        """A fresh locked-down worker with its own scratch folder, for one submission.

        A fork server serves one student at a time: a worker still open from an earlier submission is stopped first,
        so that no two students' code ever runs side by side in one PID namespace.
        """
        if self._active is not None:
            self._active.close()
        ours, theirs = socket.socketpair()
        log = tempfile.TemporaryFile(prefix="grader-output-")
        payload = {**asdict(limits), "device": self.device, "watchdog_seconds": limits.submission_seconds + WATCHDOG_GRACE_SECONDS}
        reply = self._command({"op": "spawn", "limits": payload, "isolated": self.namespaces}, [theirs.fileno(), log.fileno()])
        theirs.close()
        worker = Worker(self, reply["pid"], ours, log, limits)
        self._active = worker
        worker.cgroup = self._cgroup_for(reply["pid"], limits)  # before the worker hears of any student code
        worker.handshake()
        return worker

    def _cgroup_for(self, pid: int, limits: Limits) -> WorkerCgroup | None:
        """A cgroup bounding the worker's memory (its limit, its scratch and /dev/shm, and slack for the copied
        pages of the preloaded libraries) and its tasks; None where cgroups are not available (rlimits still bind)."""
        if os.geteuid() != 0 or self._proc is None:
            return None
        zygote = self._zygote_pid or python_descendant(self._proc.pid)
        self._zygote_pid = zygote
        host = child_by_namespace_pid(zygote, pid) if zygote else None
        if host is None:
            return None
        memory = (limits.memory_mb + 2 * limits.file_mb + 64 + CGROUP_SLACK_MB) * 1024 * 1024
        group = WorkerCgroup.create(f"{os.getpid()}-{host}", memory_bytes=memory, max_tasks=CGROUP_MAX_TASKS)
        if group is not None and not group.add(host):
            group.remove()
            group = None
        self.cgroups = group is not None
        return group

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
        self.used: set[str] = set()  # watched library functions the student's code called (see worker.Server)
        self.cgroup: WorkerCgroup | None = None
        self.hidden_output: list[tuple[int, int]] = []  # byte ranges of the log printed during hidden tests

    def handshake(self) -> None:
        try:
            self.report = channel.recv(self.sock, deadline=time.monotonic() + COMMAND_SECONDS)
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
            # One deadline for the whole reply: a worker that drips a byte at a time cannot stretch it.
            deadline = time.monotonic() + budget
            self.sock.settimeout(budget)
            self.sock.sendall(frame)
            reply = channel.recv(self.sock, deadline=deadline)
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
        used = reply.get("used")
        if type(used) is list:
            self.used.update(u for u in used if type(u) is str)
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is dict else {"kind": "protocol", "message": str(reply["error"])}
            raise StudentCodeFailure(format_error(error), kind=str(error.get("kind")), details=error)
        return reply.get("value")

    def output_size(self) -> int:
        try:
            return os.fstat(self.log.fileno()).st_size
        except (OSError, ValueError):
            return 0

    def hide_output_since(self, start: int) -> None:
        """Withhold what was printed from byte `start` until now (a hidden test's call) from `output()`."""
        end = self.output_size()
        if end > start:
            self.hidden_output.append((start, end))

    def output(self) -> str:
        """What the student's code printed, capped at the output limit, without what hidden tests' calls printed."""
        try:
            self.log.seek(0)
            data = self.log.read(self.limits.output_kb * 1024 + 1 + sum(e - s for s, e in self.hidden_output))
        except (OSError, ValueError):
            return ""
        if self.hidden_output:
            kept, position = [], 0
            for start, end in sorted(self.hidden_output):
                kept.append(data[position:start])
                if start < len(data):
                    kept.append(HIDDEN_OUTPUT_NOTE)
                position = max(position, end)
            data = b"".join(kept) + data[position:]
        text = data[: self.limits.output_kb * 1024].decode(errors="replace")
        if len(data) > self.limits.output_kb * 1024:
            text += f"\n[output truncated at {self.limits.output_kb} KB]"
        return text

    def close(self) -> dict:
        """Stop the worker (and any threads it left behind) and return how it ended."""
        if self.sandbox._active is self:
            self.sandbox._active = None
        if self.status is None:
            self.sock.close()
            try:
                self.status = self.sandbox.reap(self.pid)
            except SandboxError as exc:
                self.status = {"unknown": True, "error": str(exc)}
            if self.cgroup is not None:
                if self.cgroup.out_of_memory():
                    self.status["out_of_memory"] = True
                self.cgroup.remove()
                self.cgroup = None
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
    if status.get("out_of_memory"):
        return f"it used more than the {limits.memory_mb} MB memory limit"
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
