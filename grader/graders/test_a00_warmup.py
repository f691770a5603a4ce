"""Grader for a00_warmup: the sigmoid, ReLU and a numerically stable softmax (lecture: activation functions).

Each test builds inputs here from the seeded `rng`, calls the student's function in the sandbox, and compares
with the float64 reference in reference.activations. Known mistakes are named in the feedback.
"""
import numpy as np
import pytest
import torch

from grader.compare import Mistake, assert_close
from reference import activations as ref

SUBMISSION_NAMES = ("sigmoid", "relu", "softmax")

# What a NaN or infinity most likely means in each exercise (assert_close's own message names no cause).
SIGMOID_NAN_HINT = ("e^x overflows to inf beyond x ≈ 709, and inf / inf is NaN: rewrite the formula so that it never "
                    "divides one overflowing exponential by another")
SOFTMAX_NAN_HINT = ("e^x overflows to inf beyond x ≈ 709 and underflows to 0 below −745: subtract the maximum along dim "
                    "before exp")


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


@pytest.mark.task("sigmoid")
@pytest.mark.points(1)
def test_sigmoid_on_random_inputs(submission, rng):
    """sigmoid(x) = 1 / (1 + e^(-x)) elementwise on a random matrix"""
    x = rng.normal(0.0, 3.0, size=(4, 5))
    got = submission.call("sigmoid", x)
    assert_close(
        actual=got, expected=ref.sigmoid(t(x)).numpy(), name="sigmoid(x)",
        mistakes=[
            Mistake("1 / (1 + e^x): the sign in the exponent is flipped", 1 / (1 + np.exp(x))),
            Mistake("tanh(x) instead of the sigmoid", np.tanh(x)),
            Mistake("1 + e^(-x): the reciprocal is missing", 1 + np.exp(-x)),
        ],
    )


@pytest.mark.task("sigmoid")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_sigmoid_keeps_shape_and_large_inputs(submission, rng):
    """sigmoid keeps any shape and saturates to 0 and 1 for large |x| without NaN"""
    x = rng.normal(0.0, 40.0, size=(2, 3, 4))
    # e^{|x|} overflows float64 beyond 709: e^x / (1 + e^x) gives inf / inf = NaN at the positive one
    x[0, 0, :2] = rng.uniform(750.0, 1000.0), -rng.uniform(750.0, 1000.0)
    got = submission.call("sigmoid", x)
    assert_close(actual=got, expected=ref.sigmoid(t(x)).numpy(), name="sigmoid(x) for large |x|",
                 nan_hint=SIGMOID_NAN_HINT)


@pytest.mark.task("relu")
@pytest.mark.points(1)
def test_relu_on_random_inputs(submission, rng):
    """relu(x) = max(0, x) elementwise"""
    x = rng.normal(size=(6, 7))
    got = submission.call("relu", x)
    assert_close(
        actual=got, expected=ref.relu(t(x)).numpy(), name="relu(x)",
        mistakes=[
            Mistake("min(0, x): the negative part instead of the positive part", np.minimum(0, x)),
            Mistake("|x|: negative inputs must become 0, not positive", np.abs(x)),
            Mistake("a leaky ReLU (0.01·x for x < 0)", np.where(x > 0, x, 0.01 * x)),
        ],
    )


@pytest.mark.task("softmax")
@pytest.mark.points(1)
def test_softmax_rows_of_a_batch(submission, rng):
    """softmax over the last axis of a batch of logits: each row is a probability distribution"""
    x = rng.normal(size=(5, 4))
    got = submission.call("softmax", x)
    expected = ref.softmax(t(x), dim=-1).numpy()
    e = np.exp(x)
    assert_close(
        actual=got, expected=expected, name="softmax(x)", nan_hint=SOFTMAX_NAN_HINT,
        mistakes=[
            Mistake("a softmax over the wrong axis (columns instead of rows)", e / e.sum(axis=0, keepdims=True)),
            Mistake("normalised over all elements at once instead of per row", e / e.sum()),
            Mistake("the log-softmax", x - np.log(e.sum(axis=-1, keepdims=True))),
            Mistake("the exponentials without dividing by their sum", e),
        ],
    )


def hard_logits(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Rows of logits that each break one common unstable softmax, and for each row what breaks there.

    e^x overflows float64 beyond 709.8 and underflows to 0 below -745, so each row puts the values where one
    shortcut leaves that range while x - max(x along dim) stays in [-1100, 0] for every row.
    """
    near_plus = 1000.0 + rng.normal(0.0, 5.0, size=6)
    near_minus = -1000.0 + rng.normal(0.0, 5.0, size=6)
    # two values near 1100 among values near 0: x - min reaches 1100 and x - mean about 1100 * 2/3 = 733
    spread = rng.normal(0.0, 5.0, size=6)
    spread[rng.choice(6, size=2, replace=False)] += 1100.0
    rows = np.stack([near_plus, near_minus, spread])
    cases = [
        "logits near +1000 (e^x overflows to inf unless the maximum is subtracted first)",
        "logits near -1000 (every e^x underflows to 0, so 0/0, unless each row's own maximum is subtracted, "
        "not the maximum of the whole batch)",
        "logits spread over 1100 (subtracting the minimum or the mean still overflows; subtract the maximum)",
    ]
    return rows, cases


@pytest.mark.task("softmax")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_softmax_is_stable_for_large_logits(submission, rng):
    """softmax of logits near ±1000 and spread over 1100 has no overflow (subtract each row's max before exp)"""
    x, cases = hard_logits(rng)
    got = submission.call("softmax", x)
    expected = ref.softmax(t(x), dim=-1).numpy()
    if not (isinstance(got, np.ndarray) and got.shape == x.shape):  # a wrong type or shape is named as a whole
        assert_close(actual=got, expected=expected, name="softmax(x)", nan_hint=SOFTMAX_NAN_HINT)
    for row, case in enumerate(cases):  # one row per unstable variant, so the feedback says which one broke
        assert_close(actual=got[row], expected=expected[row], name=f"softmax(x) row {row}, {case}",
                     nan_hint=SOFTMAX_NAN_HINT)


@pytest.mark.task("softmax")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_softmax_respects_dim(submission, rng):
    """softmax(x, dim=0) normalises along the axis it is given"""
    x = rng.normal(size=(3, 5))
    got = submission.call("softmax", x, dim=0)
    assert_close(actual=got, expected=ref.softmax(t(x), dim=0).numpy(), name="softmax(x, dim=0)",
                 nan_hint=SOFTMAX_NAN_HINT)
