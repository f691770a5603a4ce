"""The sandboxed side of grading: a fork server and the per-submission worker it forks.

This file runs inside the sandbox, next to a copy of channel.py, and imports nothing else of the grader: the grading
package, the references and the tests are not visible from here.

    python -I worker.py CONTROL_FD [UID GID]

starts the fork server (the "zygote"). Given UID and GID (the grader runs as root), it first becomes that
unprivileged account for good, before it imports anything. It imports numpy and torch once, then waits on
CONTROL_FD for commands from the trusted grader. `spawn` forks a fresh worker for one submission, after stopping
any earlier one (one student at a time), and kills it when its time budget plus a grace period is spent (a watchdog
independent of the trusted side). The worker locks itself down in this order, each step needing the privileges the
next one removes:

    1. new session; under bubblewrap its own user, mount and IPC namespaces, with fresh size-limited tmpfs mounts
       as its scratch folder and /dev/shm (nothing an earlier worker wrote, in files, shared memory or IPC objects,
       is visible; where the kernel refuses a user namespace, the zygote empties both folders between workers);
    2. stdout/stderr to the capped log file the grader passed, unbuffered so nothing printed is lost; every other
       inherited descriptor closed;
    3. non-dumpable (other workers cannot read its memory), all capabilities dropped, no_new_privs;
    4. resource limits: address space, CPU time, file size, open files, processes and threads, no core dumps;
    5. a seccomp allowlist (ALLOWED_SYSCALLS below): every system call not allowed fails with EPERM.

Then it answers requests on its channel: `load` the submission's cells, `call` a function, `get` a value, `run`
grader-provided harness code against the submission. Results are converted to plain data here and decoded strictly
by the grader, which computes every verdict itself.
"""
from __future__ import annotations

import array
import ctypes
import errno
import io
import linecache
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
import traceback
import types

# Run as a script in the sandbox, -I leaves this folder off sys.path and channel.py is copied beside this file.
# Imported as grader.worker (tests), channel is the package's own, and grader/ must stay off sys.path: its
# `numbers` package would shadow the standard library's for everything the process starts later (Dask's nannies).
try:
    from . import channel
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import channel  # noqa: E402

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWIPC = 0x08000000
CLONE_THREAD = 0x00010000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
SCRATCH = "/scratch"
SHM = "/dev/shm"
# Processes and threads one worker may have: torch's pools need a handful; a flood of thousands is refused.
MAX_TASKS = 256


# ---------------------------------------------------------------------------------------------------------- zygote
def zygote(control_fd: int, account: tuple[int, int] | None = None) -> None:
    if account is not None:
        _become(*account)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401  (warm imports are the point of the fork server)
    import torch

    torch.set_num_threads(1)
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    control = socket.socket(fileno=control_fd)
    seccomp_ok = _seccomp_module() is not None
    channel.send(control, {"ready": True, "pid": os.getpid(), "seccomp": seccomp_ok, "torch": str(torch.__version__),
                           "uid": os.getuid()})
    children: dict[int, float] = {}  # pid -> when the watchdog kills it
    while True:
        due = min((t for t in children.values() if t != float("inf")), default=None)
        wait = None if due is None else max(0.0, due - time.monotonic())
        ready, _, _ = select.select([control], [], [], wait)
        for pid, kill_at in list(children.items()):
            if time.monotonic() >= kill_at:
                _kill(pid)  # reaped when the grader asks; until then its exit status waits as a zombie
                children[pid] = float("inf")
        if not ready:
            continue
        try:
            msg, fds = _recv_with_fds(control)
        except EOFError:
            for pid in children:
                _kill(pid)
            os._exit(0)
        op = msg.get("op")
        if op == "spawn":
            for pid in list(children):  # one student at a time: an earlier worker is stopped and its traces removed
                _kill(pid)
                os.waitpid(pid, 0)
                del children[pid]
            _empty(SCRATCH)
            _empty(SHM)
            pid = os.fork()
            if pid == 0:
                control.close()
                _child(fds[0], fds[1], msg["limits"], msg["isolated"])
                os._exit(0)  # not reached
            for fd in fds:
                os.close(fd)
            children[pid] = time.monotonic() + float(msg["limits"].get("watchdog_seconds", 3600))
            channel.send(control, {"pid": pid})
        elif op == "reap":
            pid = msg["pid"]
            if pid in children:
                _kill(pid)
                _, status, usage = os.wait4(pid, 0)
                del children[pid]
                channel.send(control, _status(status, usage))
            else:
                channel.send(control, {"unknown": True})
        else:
            channel.send(control, {"error": f"unknown op {op!r}"})


def _become(uid: int, gid: int) -> None:
    """Drop root for good: no supplementary groups, real, effective and saved ids all the worker account's."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("could not drop root")


def _empty(folder: str) -> None:
    """Remove what a killed worker left in a shared folder (only used where workers cannot mount their own)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _status(status: int, usage) -> dict:
    out = {"cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss}
    if os.WIFSIGNALED(status):
        out["signal"] = os.WTERMSIG(status)
    else:
        out["exit_code"] = os.WEXITSTATUS(status)
    return out


def _recv_with_fds(sock: socket.socket) -> tuple[dict, list[int]]:
    fds = array.array("i")
    header, ancdata, _, _ = sock.recvmsg(channel.HEADER.size, socket.CMSG_SPACE(8 * fds.itemsize))
    if not header:
        raise EOFError
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    doc_len, blob_len = channel.HEADER.unpack(header)
    doc = channel._recv_exact(sock, doc_len)
    blob = channel._recv_exact(sock, blob_len)
    return channel.decode(doc, blob), list(fds)


# ---------------------------------------------------------------------------------------------------------- worker
def _child(chan_fd: int, log_fd: int, limits: dict, isolated: bool) -> None:
    try:
        report = _lock_down(chan_fd, log_fd, limits, isolated)
    except Exception as exc:  # a worker that cannot lock itself down must not run student code
        for fd in (log_fd, 2):
            try:
                os.write(fd, f"worker lock-down failed: {exc!r}\n".encode())
            except OSError:
                pass
        os._exit(70)
    sock = socket.socket(fileno=chan_fd)
    channel.send(sock, {"ready": True, "pid": os.getpid(), **report})
    Server(sock, limits).serve()
    os._exit(0)


def _lock_down(chan_fd: int, log_fd: int, limits: dict, isolated: bool) -> dict:
    os.setsid()
    private = False
    if isolated:
        private = _private_namespaces(int(limits["file_mb"]))
        scratch = SCRATCH
    else:
        import tempfile

        scratch = tempfile.mkdtemp(prefix="grader-scratch-")
    os.chdir(scratch)
    os.environ.clear()
    os.environ.update({"HOME": scratch, "TMPDIR": scratch, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    keep = {0, 1, 2, chan_fd}
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    # Unbuffered: what the student printed reaches the log even when the worker is killed right after.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", write_through=True)

    seccomp = _seccomp_module()  # dlopen before the filter and the limits
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _drop_capabilities()
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")

    mem = int(limits["memory_mb"]) * 1024 * 1024
    address_space = _vm_size() + mem
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    file_bytes = int(limits["file_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Counts every task of this uid in the worker's user namespace; it binds because the worker is not host root.
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_TASKS, MAX_TASKS))
    # Writing past the file-size limit then fails with EFBIG instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    if seccomp is not None:
        _install_seccomp(seccomp)
    return {"isolated": isolated, "private_namespaces": private, "seccomp": seccomp is not None, "scratch": scratch,
            "uid": os.getuid()}


def _private_namespaces(size_mb: int) -> bool:
    """Own user, mount and IPC namespaces with fresh tmpfs at /scratch and /dev/shm; False where the kernel refuses.

    The new user namespace maps only this worker's own uid, so it gains the right to mount in its own mount
    namespace and nothing on the host. Where unprivileged user namespaces are refused (some hardened kernels), the
    worker keeps bubblewrap's shared scratch and /dev/shm, which the zygote empties before every new worker.
    """
    uid, gid = os.getuid(), os.getgid()
    if LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC) != 0:
        return False
    LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # the id maps in /proc/self are writable only while dumpable
    for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                       ("/proc/self/gid_map", f"{gid} {gid} 1")):
        with open(path, "w") as f:
            f.write(text)
    _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    for target, size in ((SCRATCH, size_mb), (SHM, min(size_mb, 64))):
        opts = f"size={size}m,mode=700".encode()
        _check(LIBC.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), f"mount tmpfs on {target}")
    return True


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _open_fds() -> list[int]:
    try:
        return [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _drop_capabilities() -> None:
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    _check(LIBC.capset(ctypes.byref(header), ctypes.byref(data)), "drop capabilities")


def _seccomp_module():
    try:
        import ctypes.util

        # pyseccomp finds libseccomp with ctypes.util.find_library, which inside the sandbox (no writable /tmp, no
        # compiler) can fail; the dynamic loader's own search finds it by its soname.
        found = ctypes.util.find_library
        sonames = {"seccomp": "libseccomp.so.2", "c": "libc.so.6"}
        ctypes.util.find_library = lambda name: sonames.get(name) or found(name)
        try:
            import pyseccomp
        finally:
            ctypes.util.find_library = found
        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)  # loads libseccomp
        return pyseccomp
    except Exception:
        return None


# ------------------------------------------------------------------------------------------------ the seccomp policy
# Default deny: every system call not allowed here fails with EPERM. How this list was made, and how to extend it
# when a library needs a new call, is in docs/sandbox.md ("The system-call allowlist"): the solutions, the example
# submissions and the other correct styles of every assignment were graded with the worker under strace
# (benchmarks/seccomp_trace.py), and each call they made after lock-down is below, in groups, unless it is a danger
# listed in docs/sandbox.md. Calls whose danger lies in an argument are allowed with that argument checked
# (_CONDITIONAL). The calls CUDA's driver makes (ioctl, mmap, mremap, madvise, mbind, get_mempolicy, sched_*) are here.
ALLOWED_SYSCALLS = (
    # files and descriptors (writable places are only the worker's own tmpfs mounts)
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "close", "close_range", "creat", "lseek", "dup", "dup2", "dup3", "pipe", "pipe2",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat",
    "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "sync_file_range", "fadvise64", "flock",
    "utime", "utimes", "utimensat", "futimesat", "umask", "copy_file_range", "sendfile", "splice", "tee",
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "memfd_create",
    # the channel to the grader (already open; new sockets are refused)
    "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "shutdown",
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mlock", "munlock", "mincore", "msync",
    "membarrier", "get_mempolicy", "set_mempolicy", "mbind",
    # threads, time and signals within the worker
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
    "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "getpriority", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "times", "getitimer", "setitimer", "alarm", "timer_create", "timer_settime",
    "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending", "rt_sigtimedwait",
    "sigaltstack", "pause", "restart_syscall", "exit", "exit_group", "wait4", "waitid",
    # identity and system facts (read only)
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
    "getresgid", "getpgrp", "getpgid", "getsid", "uname", "sysinfo", "getrusage", "getrandom", "getcpu",
    "capget",
)

F_SETOWN, F_SETSIG, F_SETOWN_EX, F_SETLEASE, F_NOTIFY = 8, 10, 15, 1024, 1026
# fcntl commands a worker may use: everything but signal ownership (F_SETOWN/F_SETSIG/F_SETOWN_EX sent SIGIO, or
# any chosen signal, to another process), leases and directory notifications.
FCNTL_ALLOWED = (0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 16, 36, 37, 38, 1030, 1031, 1032, 1033, 1034)
TIOCSTI = 0x5412


def _install_seccomp(sc) -> None:
    f = sc.SyscallFilter(defaction=sc.ERRNO(errno.EPERM))
    for name in ALLOWED_SYSCALLS:
        try:
            f.add_rule(sc.ALLOW, name)
        except Exception:
            pass  # a system call this architecture does not have
    me = os.getpid()
    # Threads (CLONE_THREAD) are allowed: torch and numpy use them. New processes are not.
    f.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, CLONE_THREAD))
    # glibc falls back from clone3 to clone on ENOSYS, where the flags can be inspected.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    # Signals, resource limits, priorities and CPU affinity: this process only (the zygote shares its PID namespace).
    f.add_rule(sc.ALLOW, "kill", sc.Arg(0, sc.EQ, me))
    f.add_rule(sc.ALLOW, "tgkill", sc.Arg(0, sc.EQ, me))
    f.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0))
    f.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, me))
    f.add_rule(sc.ALLOW, "getrlimit")
    f.add_rule(sc.ALLOW, "sched_setaffinity", sc.Arg(0, sc.EQ, 0))
    f.add_rule(sc.ALLOW, "sched_setaffinity", sc.Arg(0, sc.EQ, me))
    for cmd in FCNTL_ALLOWED:
        f.add_rule(sc.ALLOW, "fcntl", sc.Arg(1, sc.EQ, cmd))
    f.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.NE, TIOCSTI))
    # prctl: anything but making the worker dumpable again (its memory would become readable).
    f.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.NE, PR_SET_DUMPABLE))
    f.load()


# ---------------------------------------------------------------------------------------------------------- requests
class Server:
    """Answers the grader's requests for one submission, one at a time."""

    def __init__(self, sock: socket.socket, limits: dict) -> None:
        self.sock = sock
        self.max_bytes = int(limits.get("message_mb", 256)) * 1024 * 1024
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.device = limits.get("device", "cpu")

    def serve(self) -> None:
        while True:
            try:
                # The JSON cap protects the trusted side from the worker; requests come from the grader.
                request = channel.recv(self.sock, self.max_bytes, max_doc_bytes=self.max_bytes)
            except (EOFError, OSError):
                return
            handler = getattr(self, "op_" + str(request.get("op")), None)
            try:
                reply = handler(request) if handler else {"error": _error("protocol", f"unknown op {request.get('op')!r}")}
            except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code included
                reply = {"error": _exception_error(exc)}
            reply["id"] = request.get("id")
            for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                try:
                    stream.flush()
                except BaseException:  # a student may have replaced or closed a stream
                    pass
            self._send(reply)

    def _send(self, reply: dict) -> None:
        try:
            frame = channel.encode(reply, self.max_bytes, channel.MAX_DOC_BYTES)
        except channel.UnsupportedType as exc:
            frame = channel.encode({"id": reply.get("id"), "error": _error("unsupported", str(exc))})
        except channel.ChannelError as exc:
            frame = channel.encode({"id": reply.get("id"), "error": _error("too_large", str(exc))})
        self.sock.sendall(frame)

    def op_load(self, request: dict) -> dict:
        errors = []
        for cell in request["cells"]:
            label, source = cell["label"], cell["source"]
            filename = f"<cell {label}>"
            # A cell arrives as several chunks (one per statement) padded to their line numbers: merge their lines.
            lines = list(linecache.cache.get(filename, (0, None, [], filename))[2])
            for i, line in enumerate(source.splitlines(True)):
                if i >= len(lines):
                    lines.append(line)
                elif line.strip():
                    lines[i] = line
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
            try:
                exec(compile(source, filename, "exec"), self.namespace)
            except BaseException as exc:
                errors.append({"label": label, **_exception_error(exc)})
        defined = sorted(k for k in self.namespace if not k.startswith("__"))
        return {"value": {"defined": defined, "errors": errors}}

    def op_call(self, request: dict) -> dict:
        name = request["name"]
        if name not in self.namespace:
            return {"error": _error("missing", f"`{name}` is not defined in your notebook")}
        fn = self.namespace[name]
        if not callable(fn):
            return {"error": _error("not_callable", f"`{name}` is a {type(fn).__name__}, not a function")}
        args = self._convert(request.get("args", []), request.get("convert", "torch"))
        kwargs = self._convert(request.get("kwargs", {}), request.get("convert", "torch"))
        watch = CallWatch(request.get("watch"), student_frames_only=False)
        try:
            with watch:
                value = fn(*args, **kwargs)
        except BaseException as exc:  # as serve() would report it, with what was used before it raised
            return {"error": _exception_error(exc), **watch.reply()}
        return {"value": value, **watch.reply()}

    def op_get(self, request: dict) -> dict:
        name = request["name"]
        if name not in self.namespace:
            return {"error": _error("missing", f"`{name}` is not defined in your notebook")}
        return {"value": self.namespace[name]}

    def op_run(self, request: dict) -> dict:
        """Harness code from the grader (for example a training loop around the student's model)."""
        harness: dict = {"__name__": "grader_harness", "__builtins__": __builtins__}
        exec(compile(request["source"], "<grader harness>", "exec"), harness)
        args = self._convert(request.get("args", []), request.get("convert", "torch"))
        kwargs = self._convert(request.get("kwargs", {}), request.get("convert", "torch"))
        student = types.SimpleNamespace(**{k: v for k, v in self.namespace.items() if not k.startswith("__")})
        # The harness itself may call watched functions (a training loop's backward): only the student's count.
        watch = CallWatch(request.get("watch"), student_frames_only=True)
        try:
            with watch:
                value = harness[request["entry"]](student, *args, **kwargs)
        except BaseException as exc:
            return {"error": _exception_error(exc), **watch.reply()}
        return {"value": value, **watch.reply()}

    def _convert(self, value, how: str):
        if how == "numpy":
            return value
        import numpy as np
        import torch

        def walk(v):
            if isinstance(v, np.ndarray):
                t = torch.from_numpy(v)
                return t.to(self.device) if self.device != "cpu" else t
            if type(v) is list:
                return [walk(x) for x in v]
            if type(v) is tuple:
                return tuple(walk(x) for x in v)
            if type(v) is dict:
                return {k: walk(x) for k, x in v.items()}
            return v

        return walk(value)


def _error(kind: str, message: str, **extra) -> dict:
    return {"kind": kind, "message": message, **extra}


def _exception_error(exc: BaseException) -> dict:
    """The student's exception, with only the frames of the student's own cells."""
    frames = [
        {"cell": fr.filename[6:-1], "line": fr.lineno, "code": (fr.line or "").strip(), "function": fr.name}
        for fr in traceback.extract_tb(exc.__traceback__)
        if fr.filename.startswith("<cell ")
    ]
    try:
        message = str(exc)
    except BaseException:
        message = "<exception message could not be read>"
    return _error("exception", message[:2000], type=type(exc).__name__, frames=frames[-5:])


# ---------------------------------------------------------------------------------------------------------- watching
class CallWatch:
    """Records which of the grader's watched library functions the student's code dispatches during one request.

    The grader sends qualified names (`"watch": ["torch.nn.functional.conv2d", "torch.Tensor.backward"]`); they are
    resolved here to the objects themselves, and PyTorch's function-mode hook (torch.overrides.TorchFunctionMode)
    sees every torch function, Tensor method and `torch.nn.functional` call, including those made inside modules
    (`nn.Conv2d` dispatches `conv2d`) and `torch.autograd.grad` / `Tensor.backward` (`torch.func.grad` dispatches
    `torch.autograd.grad`). With nothing to watch no mode is installed, so unwatched requests pay nothing. This is
    evidence for the grader, not a barrier: the static reading of the answer cells is the first line.
    """

    def __init__(self, names, *, student_frames_only: bool) -> None:
        self.names = [n for n in names or () if type(n) is str]
        self.student_frames_only = student_frames_only
        self.used: set[str] = set()
        self._mode = None

    def __enter__(self) -> CallWatch:
        if not self.names:
            return self
        watched = {}
        for name in self.names:
            obj = _resolve(name)
            if obj is not None:  # the object is kept, so its id stays its own; an alias keeps the first name
                watched.setdefault(id(obj), (obj, name))
        if watched:
            self._mode = _watch_mode(watched, self.used, self.student_frames_only)
            self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._mode is not None:
            self._mode.__exit__(*exc)
            self._mode = None

    def reply(self) -> dict:
        return {"used": sorted(self.used)} if self.names else {}


def _watch_mode(watched: dict, used: set, student_frames_only: bool):
    from torch.overrides import TorchFunctionMode

    class WatchMode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            hit = watched.get(id(func))
            if hit is not None and hit[0] is func and (not student_frames_only or _student_frame_on_stack()):
                used.add(hit[1])
            return func(*args, **(kwargs or {}))

    return WatchMode()


def _student_frame_on_stack() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<cell "):
            return True
        frame = frame.f_back
    return False


def _resolve(name: str):
    """The object a dotted name denotes among the loaded modules (torch, numpy), or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        obj = sys.modules.get(".".join(parts[:i]))
        if obj is not None:
            break
    else:
        return None
    for part in parts[i:]:
        owners = type.mro(obj) if isinstance(obj, type) else [obj]
        obj = next((vars(o)[part] for o in owners if part in vars(o)), None)
        if obj is None:
            return None
    return obj


if __name__ == "__main__":
    zygote(int(sys.argv[1]), (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else None)
