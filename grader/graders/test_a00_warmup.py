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
    got = submission.call("sigmoid", x)
    assert_close(actual=got, expected=ref.sigmoid(t(x)).numpy(), name="sigmoid(x) for large |x|")


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
        actual=got, expected=expected, name="softmax(x)",
        mistakes=[
            Mistake("a softmax over the wrong axis (columns instead of rows)", e / e.sum(axis=0, keepdims=True)),
            Mistake("normalised over all elements at once instead of per row", e / e.sum()),
            Mistake("the log-softmax", x - np.log(e.sum(axis=-1, keepdims=True))),
            Mistake("the exponentials without dividing by their sum", e),
        ],
    )


@pytest.mark.task("softmax")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_softmax_is_stable_for_large_logits(submission, rng):
    """softmax of logits near 1000 has no overflow (subtract the max before exp)"""
    x = 1000.0 + rng.normal(0.0, 5.0, size=(3, 6))
    got = submission.call("softmax", x)
    assert_close(actual=got, expected=ref.softmax(t(x), dim=-1).numpy(), name="softmax(x) for logits near 1000")


@pytest.mark.task("softmax")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_softmax_respects_dim(submission, rng):
    """softmax(x, dim=0) normalises along the axis it is given"""
    x = rng.normal(size=(3, 5))
    got = submission.call("softmax", x, dim=0)
    assert_close(actual=got, expected=ref.softmax(t(x), dim=0).numpy(), name="softmax(x, dim=0)")
