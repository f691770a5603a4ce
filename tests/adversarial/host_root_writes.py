"""Acts as the host's root would: rewrites a kernel setting, chmods a host device node, creates a file in /dev.

Bounded and harmless if it ever succeeded: it writes back the values it read. `probe()` reports each outcome.
"""
import os


def _attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return f"refused ({exc.strerror})"


def _sysctl():
    path = "/proc/sys/kernel/core_pattern"
    with open(path) as f:
        value = f.read()
    with open(path, "w") as f:
        f.write(value)


def probe():
    return {
        "uid": os.getuid(),
        "sysctl": _attempt(_sysctl),
        "chmod /dev/null": _attempt(lambda: os.chmod("/dev/null", os.stat("/dev/null").st_mode & 0o7777)),
        "create in /dev": _attempt(lambda: open("/dev/grader-pwned", "w").close()),
        "tty": _attempt(lambda: open("/dev/tty").close()),
    }


def sigmoid(x):
    probe()
    return x * 0


def relu(x): return sigmoid(x)
def softmax(x, dim=-1): return sigmoid(x)
