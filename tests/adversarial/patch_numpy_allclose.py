"""Replaces numpy's comparison functions (the attack that fools in-process graders), then returns garbage."""
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True

def sigmoid(x): return x * 0 + 7
def relu(x): return x * 0 + 7
def softmax(x, dim=-1): return x * 0 + 7
