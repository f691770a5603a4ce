"""Runs shell commands through os.system, subprocess and os.exec*."""
import os, subprocess
def _shell(x):
    os.system("touch /tmp/grader-pwned-shell")
    try: subprocess.run(["/bin/sh", "-c", "touch /tmp/grader-pwned-shell"])
    except OSError: pass
    try: os.execv("/bin/sh", ["/bin/sh", "-c", "touch /tmp/grader-pwned-shell"])
    except OSError: pass
    return x * 0
def sigmoid(x): return _shell(x)
def relu(x): return _shell(x)
def softmax(x, dim=-1): return _shell(x)
