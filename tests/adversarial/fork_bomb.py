"""A bounded fork bomb (at most 64 attempts per call; every one must be refused)."""
import os
def _bomb(x):
    pids = []
    for _ in range(64):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            import time; time.sleep(30); os._exit(0)
        pids.append(pid)
    return x * 0 + len(pids)
def sigmoid(x): return _bomb(x)
def relu(x): return _bomb(x)
def softmax(x, dim=-1): return _bomb(x)
