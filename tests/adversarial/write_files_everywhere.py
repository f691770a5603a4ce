"""Tries to write results, gradebooks and marker files wherever grading might look (all must fail or stay in scratch)."""
import os
TARGETS = [
    "/tmp/grader-pwned-write", "/work/grader-pwned-write", "/root/grader-pwned-write",
    "../grader-pwned-write", "/usr/grader-pwned-write", os.path.expanduser("~/../grader-pwned-write"),
    "/tmp/gradebook.db", "/opt/grader-worker/worker.py", "/opt/grader-worker/channel.py",
]
def _write():
    for path in TARGETS:
        try:
            with open(path, "w") as f: f.write('{"score": 6}')
        except OSError: pass
    return 1.0
def sigmoid(x): return _write()
def relu(x): return _write()
def softmax(x, dim=-1): return _write()
