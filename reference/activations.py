"""Activation functions and their derivatives (lecture: Deep Learning 2, "Activation functions").

A layer computes x_i = σ_i(A_i x_{i-1} + b_i); σ_i acts elementwise, except the softmax, which normalises along
one axis. Every function keeps the shape, dtype and device of its input. Each `<name>_grad(x)` is the derivative
dσ/dx with respect to the pre-activation, evaluated at x, as manual back-propagation uses it. At a kink
(x = 0 for ReLU, leaky ReLU and ELU) the derivative is a convention: PyTorch's autograd one is used, so that
relu_grad(0) = 0, leaky_relu_grad(0) = α and elu_grad(0) = α.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

Tensor = torch.Tensor


def linear(x: Tensor) -> Tensor:
    """σ(x) = x, the final activation for regression.

    Inputs: x (any shape). Returns: x itself (same shape).
    """
    return x


def linear_grad(x: Tensor) -> Tensor:
    """σ'(x) = 1.

    Inputs: x (any shape). Returns: ones, the shape of x.
    """
    return torch.ones_like(x)


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e^{-x}).

    The slide's formula is used for x ≥ 0 and the equal form e^{x} / (1 + e^{x}) for x < 0: both only ever
    exponentiate −|x|, so nothing overflows and even σ(−745) keeps its tiny relative precision.
    Inputs: x (any shape). Returns: σ(x), the shape of x, values in [0, 1].
    """
    e = torch.exp(-x.abs())  # in (0, 1]
    return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: Tensor) -> Tensor:
    """σ'(x) = σ(x)(1 − σ(x)).

    Inputs: x (any shape). Returns: σ'(x), the shape of x.
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: Tensor) -> Tensor:
    """σ(x) = (e^{x} − e^{−x}) / (e^{x} + e^{−x}).

    The literal formula gives inf/inf = NaN once e^{|x|} overflows (|x| > 710 in float64). Dividing through by
    e^{|x|} gives sign(x)(1 − e^{−2|x|}) / (1 + e^{−2|x|}); expm1 keeps the relative precision of 1 − e^{−2|x|}
    for tiny x.
    Inputs: x (any shape). Returns: tanh(x), the shape of x, values in [−1, 1].
    """
    e = torch.exp(-2.0 * x.abs())
    return torch.sign(x) * -torch.expm1(-2.0 * x.abs()) / (1.0 + e)


def tanh_grad(x: Tensor) -> Tensor:
    """σ'(x) = 1 − tanh²(x).

    Inputs: x (any shape). Returns: σ'(x), the shape of x.
    """
    return 1.0 - tanh(x) ** 2


def relu(x: Tensor) -> Tensor:
    """σ(x) = max{0, x}.

    Inputs: x (any shape). Returns: σ(x), the shape of x.
    """
    return torch.clamp(x, min=0.0)


def relu_grad(x: Tensor) -> Tensor:
    """σ'(x) = 1 for x > 0, 0 for x ≤ 0.

    Inputs: x (any shape). Returns: σ'(x) in x's dtype, the shape of x.
    """
    return (x > 0).to(x.dtype)


def leaky_relu(x: Tensor, alpha: float = 0.01) -> Tensor:
    """σ(x) = max{αx, x} for 0 < α < 1, written as x for x > 0 and αx otherwise (valid for any α).

    Inputs: x (any shape), alpha the slope for negative inputs. Returns: σ(x), the shape of x.
    """
    return torch.where(x > 0, x, alpha * x)


def leaky_relu_grad(x: Tensor, alpha: float = 0.01) -> Tensor:
    """σ'(x) = 1 for x > 0, α for x ≤ 0.

    Inputs: x (any shape), alpha. Returns: σ'(x), the shape of x.
    """
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """σ(x) = α(e^{x} − 1) for x < 0, x for x ≥ 0.

    expm1 keeps the precision of e^{x} − 1 near 0; the clamp stops e^{x} overflowing in the branch that
    torch.where discards for large positive x.
    Inputs: x (any shape), alpha the negative saturation value −α. Returns: σ(x), the shape of x.
    """
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0.0)))


def elu_grad(x: Tensor, alpha: float = 1.0) -> Tensor:
    """σ'(x) = 1 for x > 0, αe^{x} for x ≤ 0.

    Inputs: x (any shape), alpha. Returns: σ'(x), the shape of x.
    """
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0.0)))


def swish(x: Tensor) -> Tensor:
    """σ(x) = x / (1 + e^{−x}) = x · sigmoid(x), the sigmoid-weighted linear unit (PyTorch's SiLU).

    Inputs: x (any shape). Returns: σ(x), the shape of x.
    """
    return x * sigmoid(x)


def swish_grad(x: Tensor) -> Tensor:
    """σ'(x) = s + x · s(1 − s) with s = sigmoid(x).

    Inputs: x (any shape). Returns: σ'(x), the shape of x.
    """
    s = sigmoid(x)
    return s + x * s * (1.0 - s)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """σ(x)_k = e^{x_k} / Σ_i e^{x_i}, along `dim`.

    softmax(x − c) = softmax(x) for any constant c, so the maximum along `dim` is subtracted first: the largest
    exponent is then e^0 = 1, and logits like 1000 give no inf/inf = NaN.
    Inputs: x (any shape), dim the axis that sums to one. Returns: probabilities, the shape of x.
    """
    e = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log σ(x)_k = x_k − log Σ_i e^{x_i}, with the same shift by the maximum (the log-sum-exp trick).

    log(softmax(x)) would give log(0) = −inf for a logit far below the others; this form stays finite.
    Inputs: x (any shape), dim. Returns: log-probabilities, the shape of x.
    """
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def softmax_jacobian(s: Tensor) -> Tensor:
    """∂σ_k/∂x_j = σ_k(δ_kj − σ_j), i.e. diag(s) − s sᵀ, for one probability vector s = softmax(x).

    The softmax is not elementwise, so its derivative is this matrix rather than a `softmax_grad(x)` of x's shape.
    Inputs: s (K,). Returns: the Jacobian (K, K), symmetric, each row summing to 0.
    """
    return torch.diag(s) - torch.outer(s, s)


ACTIVATIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "linear": (linear, linear_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "swish": (swish, swish_grad),
}
"""The elementwise activations by name, each as (σ, σ'); leaky_relu and elu with their default α."""
