"""Ignores SIGTERM and SIGINT, then loops: the grader must still stop it."""
import signal
def _stubborn():
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass
def sigmoid(x): return _stubborn()
def relu(x): return _stubborn()
def softmax(x, dim=-1): return _stubborn()
