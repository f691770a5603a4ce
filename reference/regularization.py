"""Regularisation: L2 (Tikhonov) and L1 (LASSO) updates, inverted dropout, and batch normalisation in training mode
(lectures: "Explicit regularization terms", "Dropout", "Batch normalization").
"""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def l2_update(w: Tensor, grad: Tensor, lr: float, lam: float) -> Tensor:
    """w ← w − η(∂Loss/∂w + 2λw), one step on J(W) + λ‖W‖²."""
    return w - lr * (grad + 2 * lam * w)


def l1_update(w: Tensor, grad: Tensor, lr: float, lam: float) -> Tensor:
    """w ← w − η(∂Loss/∂w + λ sign(w)), one step on J(W) + λ‖W‖₁ (sign(0) = 0, the subgradient torch uses)."""
    return w - lr * (grad + lam * torch.sign(w))


def dropout_mask(shape: tuple[int, ...], p: float, generator: torch.Generator | None = None,
                 device: torch.device | None = None, dtype: torch.dtype = torch.float64) -> Tensor:
    """1 with probability 1 − p (the unit is kept), 0 with probability p."""
    return (torch.rand(shape, generator=generator, dtype=dtype).to(device) >= p).to(dtype)


def dropout(x: Tensor, p: float, mask: Tensor | None = None, generator: torch.Generator | None = None,
            training: bool = True) -> tuple[Tensor, Tensor]:
    """Inverted dropout: y = x ⊙ mask / (1 − p) in training, y = x at evaluation.

    Dividing the kept units by 1 − p keeps E[y] = x, so the next layer sees the same scale in training and at
    test time, when nothing is dropped. p = 1 drops everything (y = 0 rather than 0/0).
    Returns: y and the mask used (all ones at evaluation).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x, torch.ones_like(x)
    if mask is None:
        mask = dropout_mask(tuple(x.shape), p, generator, x.device, x.dtype)
    if p == 1.0:
        return torch.zeros_like(x), mask
    return x * mask / (1.0 - p), mask


def batch_norm_train(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """y = γ (x − μ_B)/√(σ²_B + ε) + β with the statistics of the batch, per feature or channel.

    μ_B = (1/b) Σ x_i and σ²_B = (1/b) Σ (x_i − μ_B)² (the biased variance, as in training mode); the slide writes
    1/b for one and 1/m for the other, both mean the batch size.
    Inputs: x (N, C) or (N, C, H, W); gamma, beta (C,). Returns: y (shape of x), mean (C,), var (C,).
    """
    dims = (0,) if x.dim() == 2 else (0, 2, 3)
    shape = (1, -1) if x.dim() == 2 else (1, -1, 1, 1)
    mean = x.mean(dim=dims)
    var = ((x - mean.view(shape)) ** 2).mean(dim=dims)
    x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return gamma.view(shape) * x_hat + beta.view(shape), mean, var
