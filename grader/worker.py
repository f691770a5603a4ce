"""The sandboxed side of grading: a fork server and the per-submission worker it forks.

This file runs inside the sandbox, next to a copy of channel.py, and imports nothing else of the grader: the grading
package, the references and the tests are not visible from here.

    python -I worker.py CONTROL_FD

starts the fork server (the "zygote"): it imports numpy and torch once, then waits on CONTROL_FD for commands from
the trusted grader. `spawn` forks a fresh worker for one submission; the worker locks itself down in this order,
each step needing the privileges the next one removes:

    1. new session, new mount namespace with a fresh size-limited tmpfs as its scratch folder (under bubblewrap);
    2. stdout/stderr to the capped log file the grader passed; every other inherited descriptor closed;
    3. non-dumpable (other workers cannot read its memory), all capabilities dropped, no_new_privs;
    4. resource limits: address space, CPU time, file size, open files, no core dumps;
    5. a seccomp filter: no new processes (RLIMIT_NPROC does not bind root), no exec, no sockets, no signals to
       other processes, no ptrace, mounts or namespaces.

Then it answers requests on its channel: `load` the submission's cells, `call` a function, `get` a value, `run`
grader-provided harness code against the submission. Results are converted to plain data here and decoded strictly
by the grader, which computes every verdict itself.
"""
from __future__ import annotations

import array
import ctypes
import errno
import linecache
import os
import resource
import signal
import socket
import sys
import traceback
import types

# -I leaves the script's folder off sys.path; channel.py is copied beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import channel  # noqa: E402

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
CLONE_THREAD = 0x00010000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
SCRATCH = "/scratch"


# ---------------------------------------------------------------------------------------------------------- zygote
def zygote(control_fd: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401  (warm imports are the point of the fork server)
    import torch

    torch.set_num_threads(1)
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    control = socket.socket(fileno=control_fd)
    seccomp_ok = _seccomp_module() is not None
    channel.send(control, {"ready": True, "pid": os.getpid(), "seccomp": seccomp_ok, "torch": str(torch.__version__)})
    children: set[int] = set()
    while True:
        try:
            msg, fds = _recv_with_fds(control)
        except EOFError:
            for pid in children:
                _kill(pid)
            os._exit(0)
        op = msg.get("op")
        if op == "spawn":
            pid = os.fork()
            if pid == 0:
                control.close()
                _child(fds[0], fds[1], msg["limits"], msg["isolated"])
                os._exit(0)  # not reached
            for fd in fds:
                os.close(fd)
            children.add(pid)
            channel.send(control, {"pid": pid})
        elif op == "reap":
            pid = msg["pid"]
            if pid in children:
                _kill(pid)
                _, status, usage = os.wait4(pid, 0)
                children.discard(pid)
                channel.send(control, _status(status, usage))
            else:
                channel.send(control, {"unknown": True})
        else:
            channel.send(control, {"error": f"unknown op {op!r}"})


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
        os.write(2, f"worker lock-down failed: {exc!r}\n".encode())
        os._exit(70)
    sock = socket.socket(fileno=chan_fd)
    channel.send(sock, {"ready": True, "pid": os.getpid(), **report})
    Server(sock, limits).serve()
    os._exit(0)


def _lock_down(chan_fd: int, log_fd: int, limits: dict, isolated: bool) -> dict:
    os.setsid()
    if isolated:
        _check(LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
        opts = f"size={int(limits['file_mb'])}m,mode=700".encode()
        _check(LIBC.mount(b"tmpfs", SCRATCH.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), "mount scratch tmpfs")
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
    # Writing past the file-size limit then fails with EFBIG instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    if seccomp is not None:
        _install_seccomp(seccomp)
    return {"isolated": isolated, "seccomp": seccomp is not None, "scratch": scratch}


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
        import pyseccomp

        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)  # loads libseccomp
        return pyseccomp
    except Exception:
        return None


def _install_seccomp(sc) -> None:
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in (
        "fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
        "mount", "umount2", "unshare", "setns", "pivot_root", "chroot", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "bpf", "perf_event_open", "keyctl", "add_key",
        "request_key", "userfaultfd", "socketpair", "connect", "bind", "listen", "accept", "accept4",
        "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "tkill",
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "capset", "open_by_handle_at",
        "name_to_handle_at", "mknod", "mknodat", "swapon", "swapoff", "reboot", "acct", "settimeofday",
        "clock_settime", "adjtimex", "syslog", "quotactl", "iopl", "ioperm", "lookup_dcookie",
    ):
        try:
            f.add_rule(deny, name)
        except Exception:
            pass  # a system call this architecture does not have
    f.add_rule(sc.ERRNO(errno.EACCES), "socket")
    # Threads (CLONE_THREAD) are allowed: torch and numpy use them. New processes are not.
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # glibc falls back from clone3 to clone on ENOSYS, where the flags can be inspected.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    me = os.getpid()
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "prctl", sc.Arg(0, sc.EQ, PR_SET_DUMPABLE))
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
                request = channel.recv(self.sock, self.max_bytes)
            except (EOFError, OSError):
                return
            handler = getattr(self, "op_" + str(request.get("op")), None)
            try:
                reply = handler(request) if handler else {"error": _error("protocol", f"unknown op {request.get('op')!r}")}
            except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code included
                reply = {"error": _exception_error(exc)}
            reply["id"] = request.get("id")
            self._send(reply)

    def _send(self, reply: dict) -> None:
        try:
            frame = channel.encode(reply, self.max_bytes)
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
        return {"value": fn(*args, **kwargs)}

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
        return {"value": harness[request["entry"]](student, *args, **kwargs)}

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


if __name__ == "__main__":
    zygote(int(sys.argv[1]))
