"""Closes every file descriptor it can find, the channel included."""
import os
def _close():
    for fd in range(0, 256):
        try: os.close(fd)
        except OSError: pass
    return 0
def sigmoid(x): return _close()
def relu(x): return _close()
def softmax(x, dim=-1): return _close()
