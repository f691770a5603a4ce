"""Activation functions and their derivatives (lecture: Deep Learning 2, "Activation functions").

A layer computes x_i = σ_i(A_i x_{i-1} + b_i); σ_i acts elementwise, except the softmax, which normalises along an
axis. Every function keeps the shape, dtype and device of its input. Each `*_grad` is the derivative dσ/dz
evaluated at the pre-activation z, as used by manual back-propagation.
"""
from __future__ import annotations

from typing import Callable

import torch

Tensor = torch.Tensor


def linear(z: Tensor) -> Tensor:
    """σ(z) = z (final activation for regression)."""
    return z


def linear_grad(z: Tensor) -> Tensor:
    """σ'(z) = 1."""
    return torch.ones_like(z)


def sigmoid(z: Tensor) -> Tensor:
    """σ(z) = 1 / (1 + e^{-z}).

    Written as 1/(1 + e^{-z}): for very negative z, e^{-z} overflows to inf and the result is exactly 0, never NaN.
    """
    return 1.0 / (1.0 + torch.exp(-z))


def sigmoid_grad(z: Tensor) -> Tensor:
    """σ'(z) = σ(z)(1 − σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: Tensor) -> Tensor:
    """σ(z) = (e^z − e^{−z}) / (e^z + e^{−z}); torch.tanh avoids the overflow of the literal formula."""
    return torch.tanh(z)


def tanh_grad(z: Tensor) -> Tensor:
    """σ'(z) = 1 − tanh²(z)."""
    return 1.0 - torch.tanh(z) ** 2


def relu(z: Tensor) -> Tensor:
    """σ(z) = max{0, z}."""
    return torch.clamp(z, min=0.0)


def relu_grad(z: Tensor) -> Tensor:
    """σ'(z) = 1 for z > 0, else 0 (the convention at z = 0, as in PyTorch's autograd)."""
    return (z > 0).to(z.dtype)


def leaky_relu(z: Tensor, alpha: float = 0.01) -> Tensor:
    """σ(z) = max{αz, z} for 0 < α < 1."""
    return torch.where(z > 0, z, alpha * z)


def leaky_relu_grad(z: Tensor, alpha: float = 0.01) -> Tensor:
    """σ'(z) = 1 for z > 0, else α."""
    return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, alpha))


def elu(z: Tensor, alpha: float = 1.0) -> Tensor:
    """σ(z) = α(e^z − 1) for z < 0, z for z ≥ 0; expm1 keeps precision near 0."""
    return torch.where(z >= 0, z, alpha * torch.expm1(torch.clamp(z, max=0.0)))


def elu_grad(z: Tensor, alpha: float = 1.0) -> Tensor:
    """σ'(z) = αe^z for z < 0, 1 for z ≥ 0."""
    return torch.where(z >= 0, torch.ones_like(z), alpha * torch.exp(torch.clamp(z, max=0.0)))


def swish(z: Tensor) -> Tensor:
    """σ(z) = z / (1 + e^{−z}) = z·sigmoid(z) (sigmoid-weighted linear unit)."""
    return z * sigmoid(z)


def swish_grad(z: Tensor) -> Tensor:
    """σ'(z) = s + z·s(1 − s) with s = sigmoid(z)."""
    s = sigmoid(z)
    return s + z * s * (1.0 - s)


def softmax(z: Tensor, dim: int = -1) -> Tensor:
    """σ(z)_k = e^{z_k} / Σ_i e^{z_i} along `dim`.

    Stable: σ(z − c) = σ(z) for any constant c, so the maximum along `dim` is subtracted first and no e^{z}
    overflows (logits near 1000 would otherwise give inf/inf = NaN).
    """
    shifted = z - z.amax(dim=dim, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(z: Tensor, dim: int = -1) -> Tensor:
    """log σ(z)_k = z_k − log Σ_i e^{z_i}, computed with the same max shift (log-sum-exp)."""
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def softmax_jacobian(s: Tensor) -> Tensor:
    """∂σ_k/∂z_j = σ_k(δ_kj − σ_j) for one probability vector s of shape (K,); returns (K, K)."""
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
