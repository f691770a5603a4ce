"""The 3-layer perceptron of the lecture, forward and back-propagation by hand, cross-entropy and SGD
(lecture: Deep Learning 2, "The multi-layer perceptron", "Back-propagation", "Stochastic gradient descent").

Notation: x_i = σ_i(A_i x_{i-1} + b_i), batched with samples as rows, so X_i = σ_i(X_{i-1} A_iᵀ + b_i).
A_i has shape (k_i, k_{i-1}), like nn.Linear's weight: the slide writes A_i ∈ R^{k_{i-1}×k_i}, which does not fit
the product A_i x_{i-1}; the standard (and PyTorch's) shape is used here.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

from reference.activations import relu, relu_grad, softmax

Tensor = torch.Tensor
Params = dict[str, Tensor]


def cross_entropy(logits: Tensor, y: Tensor) -> Tensor:
    """L = −(1/N) Σ_n log softmax(z_n)_{y_n}, from logits (N, K) and integer labels (N,), via a stable log-softmax."""
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
    return -log_probs.gather(1, y.view(-1, 1)).mean()


def cross_entropy_from_probs(y_hat: Tensor, y_onehot: Tensor) -> Tensor:
    """The slide's L(ŷ, y) = −(1/N) Σ_i Σ_j y_ij log ŷ_ij, for probabilities ŷ (N, K) and one-hot y (N, K)."""
    return -(y_onehot * torch.log(y_hat)).sum() / y_hat.shape[0]


def mlp3_forward(X: Tensor, params: Params) -> tuple[Tensor, dict[str, Tensor]]:
    """x_1 = ReLU(A_1 x_0 + b_1), x_2 = ReLU(A_2 x_1 + b_2), x_3 = softmax(A_3 x_2 + b_3).

    Inputs: X (N, k_0); params A1 (k_1, k_0), b1 (k_1,), A2 (k_2, k_1), b2 (k_2,), A3 (K, k_2), b3 (K,).
    Returns: probabilities x_3 (N, K) and a cache of x_0..x_3 and the pre-activations z_1..z_3.
    """
    cache = {"x0": X}
    for i, act in ((1, relu), (2, relu), (3, lambda z: softmax(z, dim=-1))):
        z = cache[f"x{i - 1}"] @ params[f"A{i}"].T + params[f"b{i}"]
        cache[f"z{i}"], cache[f"x{i}"] = z, act(z)
    return cache["x3"], cache


def mlp3_backward(cache: dict[str, Tensor], params: Params, y: Tensor) -> Params:
    """Gradients of the mean cross-entropy w.r.t. every A_i and b_i, by the lecture's chain rule.

        ∂l/∂z_3 = (x_3 − y_onehot)/N                     (softmax and cross-entropy together)
        ∂l/∂A_i = (∂l/∂z_i)ᵀ x_{i-1},  ∂l/∂b_i = Σ_n ∂l/∂z_i
        ∂l/∂x_{i-1} = ∂l/∂z_i A_i,     ∂l/∂z_{i-1} = ∂l/∂x_{i-1} ⊙ σ'_{i-1}(z_{i-1})

    Returns: {"A1": ..., "b1": ..., ...}, each the shape of its parameter.
    """
    n = cache["x0"].shape[0]
    onehot = torch.nn.functional.one_hot(y, cache["x3"].shape[1]).to(cache["x3"].dtype)
    dz = (cache["x3"] - onehot) / n  # (N, K)
    grads: Params = {}
    for i in (3, 2, 1):
        grads[f"A{i}"] = dz.T @ cache[f"x{i - 1}"]
        grads[f"b{i}"] = dz.sum(dim=0)
        if i > 1:
            dz = (dz @ params[f"A{i}"]) * relu_grad(cache[f"z{i - 1}"])
    return grads


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """θ ← θ − λ ∇_θ l, returning new tensors (the inputs are left unchanged)."""
    return {k: p - lr * grads[k] for k, p in params.items()}


def minibatches(n: int, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Tensor]:
    """B = ⌊N/b⌋ random mini-batches of indices per epoch, as on the slide (the remainder is dropped)."""
    order = torch.randperm(n, generator=generator)
    for i in range(n // batch_size):
        yield order[i * batch_size : (i + 1) * batch_size]
