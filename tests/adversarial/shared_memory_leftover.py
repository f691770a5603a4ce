"""Leaves 32 MiB in /dev/shm and tries System V and POSIX IPC objects for the next student's worker to find."""
import ctypes
import os

LIBC = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000


def leave():
    outcomes = {}
    try:
        with open("/dev/shm/grader-leftover", "wb") as f:
            f.write(b"x" * (32 << 20))
        outcomes["/dev/shm"] = "written"
    except OSError as exc:
        outcomes["/dev/shm"] = f"refused ({exc.strerror})"
    outcomes["shmget"] = "allowed" if LIBC.shmget(0x6772, 1 << 20, IPC_CREAT | 0o666) >= 0 else "refused"
    outcomes["msgget"] = "allowed" if LIBC.msgget(0x6772, IPC_CREAT | 0o666) >= 0 else "refused"
    outcomes["semget"] = "allowed" if LIBC.semget(0x6772, 1, IPC_CREAT | 0o666) >= 0 else "refused"
    return outcomes


def find():
    """What a later worker sees of the above."""
    return {"/dev/shm": sorted(os.listdir("/dev/shm")), "shmget": LIBC.shmget(0x6772, 0, 0) >= 0}


def sigmoid(x):
    leave()
    return x * 0


def relu(x): return sigmoid(x)
def softmax(x, dim=-1): return sigmoid(x)
