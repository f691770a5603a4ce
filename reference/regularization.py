"""Regularisation: the L2 (Tikhonov) and L1 (LASSO) weight updates, inverted dropout, and batch normalisation in
training mode (lectures: "Explicit regularization terms", Deep Learning 2 "Drop out", "Batch normalization").
"""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def l2_update(w: Tensor, grad: Tensor, lr: float, lam: float) -> Tensor:
    """w_i ← w_i − η(∂Loss/∂w_i + 2λw_i), one gradient step on J(W; X, y) + λ‖W‖² (‖W‖² the sum of squares).

    This is "weight decay": torch.optim.SGD(weight_decay=2λ) takes the same step.
    Inputs: w (any shape) the weights; grad (shape of w) ∂Loss/∂w of the unpenalised loss; lr = η; lam = λ ≥ 0.
    Returns: the new weights, a new tensor of w's shape.
    """
    return w - lr * (grad + 2.0 * lam * w)


def l1_update(w: Tensor, grad: Tensor, lr: float, lam: float) -> Tensor:
    """w_i ← w_i − η(∂Loss/∂w_i + λ sign(w_i)), one (sub)gradient step on J(W; X, y) + λ‖W‖₁.

    The slide writes the penalty as λ‖W‖; the update's sign(w) shows the L1 norm Σ|w_i| is meant. |w| has no
    derivative at 0; sign(0) = 0 is the subgradient PyTorch's autograd uses for abs.
    Inputs: w (any shape); grad (shape of w) ∂Loss/∂w; lr = η; lam = λ ≥ 0.
    Returns: the new weights, a new tensor of w's shape.
    """
    return w - lr * (grad + lam * torch.sign(w))


def dropout_mask(shape: tuple[int, ...], p: float, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> Tensor:
    """A keep-mask: each entry is True (the unit is kept) with probability 1 − p, False (dropped) with probability p.

    The uniform draws are made on the generator's device and then moved to `device`, so a seeded CPU generator
    gives the same mask whatever device the tensors live on.
    Inputs: shape; p the drop probability in [0, 1]; generator (or None for the global one); device of the mask.
    Returns: a bool tensor of the given shape on `device`.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the drop probability p must be in [0, 1], got {p}")
    draw_device = generator.device if generator is not None else device
    u = torch.rand(shape, generator=generator, device=draw_device)  # uniform on [0, 1)
    return (u >= p).to(device)  # P(u ≥ p) = 1 − p; p = 0 keeps all, p = 1 drops all


def dropout(x: Tensor, p: float, mask: Tensor | None = None, generator: torch.Generator | None = None,
            training: bool = True) -> tuple[Tensor, Tensor]:
    """Inverted dropout: y = x ⊙ mask / (1 − p) in training, y = x at evaluation.

    Why divide by 1 − p: each unit is kept with probability 1 − p, so E[mask] = 1 − p and E[y] = x. The next
    layer sees activations of the same scale in training and at test time, when nothing is dropped and no
    rescaling is needed (PyTorch's F.dropout and nn.Dropout do the same).
    Edge cases: p = 0 and evaluation (training=False) return x unchanged with an all-True mask; p = 1 drops
    every unit and returns zeros (x·0/0 would be NaN).
    Inputs: x (any shape); p the drop probability in [0, 1]; mask (shape of x), bool or 0/1 values, True/1 =
            kept, to reuse a given draw (when None, one is drawn with `generator`); training.
    Returns: y (shape and dtype of x), and the mask used (bool, shape of x).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the drop probability p must be in [0, 1], got {p}")
    if mask is not None and mask.shape != x.shape:
        raise ValueError(f"the mask has shape {tuple(mask.shape)} but x has shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x, torch.ones(x.shape, dtype=torch.bool, device=x.device)
    keep = dropout_mask(tuple(x.shape), p, generator, x.device) if mask is None else mask.to(torch.bool)
    if p == 1.0:
        return torch.zeros_like(x), keep
    return x * keep / (1.0 - p), keep


def batch_norm_train(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalisation with the batch's statistics, per feature (x of shape (N, C)) or channel ((N, C, H, W)):

        μ_B = (1/b) Σ_i x_i,   σ²_B = (1/b) Σ_i (x_i − μ_B)²,   x̄_i = (x_i − μ_B) / √(σ²_B + ε),   y_i = γ x̄_i + β

    where the sums run over the b = N samples of the mini-batch (and, for images, over the H·W positions too).
    The slide writes 1/b for the mean and 1/m for the variance: both are the batch size, so the variance is the
    biased one (divided by b, not b − 1), as nn.BatchNorm uses to normalise in training mode. (The module's
    running_var, used at evaluation, is updated with the unbiased variance instead.)
    Inputs: x (N, C) or (N, C, H, W) (any (N, C, ...)); gamma, beta (C,); eps.
    Returns: y (shape of x); mean μ_B (C,); var σ²_B (C,), biased.
    """
    if x.dim() < 2:
        raise ValueError(f"x must have shape (N, C) or (N, C, H, W), got {tuple(x.shape)}")
    dims = (0, *range(2, x.dim()))  # every axis but the channel
    shape = (1, -1) + (1,) * (x.dim() - 2)  # broadcasts a (C,) vector along those axes
    mean = x.mean(dim=dims)  # (C,)
    centred = x - mean.view(shape)
    var = (centred**2).mean(dim=dims)  # (C,), divided by the number of values per channel
    x_bar = centred / torch.sqrt(var.view(shape) + eps)
    return gamma.view(shape) * x_bar + beta.view(shape), mean, var
