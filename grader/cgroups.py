"""A control group per worker, bounding its memory and its processes and threads, where the machine has them.

Rlimits bound a worker too (address space, RLIMIT_NPROC), but they miss memory that is not address space (page
cache, tmpfs pages, kernel memory) and count tasks per uid, not per worker. A cgroup counts what the worker really
uses. The grading process creates one (as root only: cgroup files belong to root) before the worker runs any student
code, moves the worker into it, and removes it after the worker is reaped.

    group = WorkerCgroup.create("w1234", memory_bytes=4 << 30, max_tasks=264)   # None where unavailable
    group.add(host_pid); ...; group.remove()

Both layouts are handled: cgroup v1 (separate `memory` and `pids` hierarchies, as on the machine this was built on)
and v2 (one unified hierarchy, where the controllers must be enabled for the parent).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "grader-workers"


class WorkerCgroup:
    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = folders  # controller ("memory", "pids", or "unified") -> the group's folder

    @classmethod
    def create(cls, name: str, *, memory_bytes: int, max_tasks: int) -> WorkerCgroup | None:
        """A new group with these limits, or None where cgroups cannot be used (not root, none mounted, refused)."""
        if os.geteuid() != 0:
            return None
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():
                return cls._create_v2(name, memory_bytes, max_tasks)
            return cls._create_v1(name, memory_bytes, max_tasks)
        except OSError:
            return None

    @classmethod
    def _create_v1(cls, name: str, memory_bytes: int, max_tasks: int) -> WorkerCgroup | None:
        memory, pids = CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"
        if not (memory / "cgroup.procs").exists() or not (pids / "cgroup.procs").exists():
            return None
        folders = {"memory": memory / PARENT / name, "pids": pids / PARENT / name}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        group = cls(folders)
        try:
            (folders["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
            swap = folders["memory"] / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(memory_bytes))
            (folders["pids"] / "pids.max").write_text(str(max_tasks))
        except OSError:
            group.remove()
            return None
        return group

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, max_tasks: int) -> WorkerCgroup | None:
        parent = CGROUP_ROOT / PARENT
        parent.mkdir(exist_ok=True)
        try:
            (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory +pids")
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
        except OSError:
            return None
        folder = parent / name
        folder.mkdir(exist_ok=True)
        group = cls({"unified": folder})
        try:
            (folder / "memory.max").write_text(str(memory_bytes))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
            (folder / "pids.max").write_text(str(max_tasks))
        except OSError:
            group.remove()
            return None
        return group

    def add(self, pid: int) -> bool:
        """Move a process (with its threads) into the group; False when it could not be moved."""
        try:
            for folder in self.folders.values():
                (folder / "cgroup.procs").write_text(str(pid))
        except OSError:
            return False
        return True

    def out_of_memory(self) -> bool:
        """Whether the group hit its memory limit (the kernel then kills the worker with SIGKILL)."""
        try:
            if "unified" in self.folders:
                events = (self.folders["unified"] / "memory.events").read_text().split()
                return int(dict(zip(events[::2], events[1::2])).get("oom_kill", 0)) > 0
            return int((self.folders["memory"] / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        """Delete the group; its processes are gone by now (a reaped worker), so rmdir succeeds after a moment."""
        for folder in self.folders.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except OSError:
            pass
    return out


def child_by_namespace_pid(parent: int, namespace_pid: int) -> int | None:
    """The host pid of the child of `parent` whose pid in its own PID namespace is `namespace_pid` (the fork server
    knows its workers by their namespace pids; the cgroup files want host pids)."""
    for child in children(parent):
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("NSpid:") and int(line.split()[-1]) == namespace_pid:
                    return child
        except (OSError, ValueError):
            continue
    return None


def python_descendant(pid: int) -> int | None:
    """The first process at or below `pid` that runs Python (the fork server, below bubblewrap's own processes)."""
    level = [pid]
    while level:
        for p in level:
            try:
                argv0 = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if argv0.rsplit(b"/", 1)[-1].startswith(b"python"):
                return p
        level = [c for p in level for c in children(p)]
    return None
