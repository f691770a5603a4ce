"""Tries to lift its own resource limits and capabilities, then do expensive work."""
import resource, ctypes
def _lift(x):
    for limit in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE):
        try: resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except (ValueError, OSError): pass
    libc = ctypes.CDLL(None)
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE back on
    libc.unshare(0x10000000)   # CLONE_NEWUSER
    return x * 0 - 1
def sigmoid(x): return _lift(x)
def relu(x): return _lift(x)
def softmax(x, dim=-1): return _lift(x)
