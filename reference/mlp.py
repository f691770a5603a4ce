"""The lecture's 3-layer perceptron: forward pass, cross-entropy, back-propagation by hand and (mini-batch) SGD
(lecture: Deep Learning 2, "The multi-layer perceptron", "Stochastic gradient descent", "Back-propagation").

Notation. Layer i computes x_i = σ_i(A_i x_{i-1} + b_i) with pre-activation z_i = A_i x_{i-1} + b_i; here
σ_1 = σ_2 = ReLU and σ_3 = softmax, as in the lecture's MNIST example. A batch stores one sample per row, so
X_i = σ_i(X_{i-1} A_iᵀ + b_i) with X_i of shape (N, k_i).

Slide errors. The slide writes A_i ∈ R^{k_{i-1}×k_i}, which does not fit the product A_i x_{i-1} for
x_{i-1} ∈ R^{k_{i-1}}: A_i has shape (k_i, k_{i-1}) here, as nn.Linear's weight. Its elementwise form
x_i^k = σ_i(Σ_{l=1}^{k_i} [A_i]_{l,k} x_{i-1} + [b_i]_k) should read Σ_{l=1}^{k_{i-1}} [A_i]_{k,l} x_{i-1}^l.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

from reference.activations import log_softmax, relu, relu_grad, softmax

Tensor = torch.Tensor
Params = dict[str, Tensor]

PARAM_NAMES = ("A1", "b1", "A2", "b2", "A3", "b3")


def cross_entropy(logits: Tensor, y: Tensor) -> Tensor:
    """L = −(1/N) Σ_n log softmax(z_n)_{y_n}, the mean cross-entropy of integer labels under softmax(logits).

    Computed from the logits with the stable log_softmax, so logits of ±1000 give a finite loss; this is
    F.cross_entropy's definition.
    Inputs: logits (N, K); y (N,) integer class labels in [0, K).
    Returns: the mean loss, a scalar tensor.
    """
    log_probs = log_softmax(logits, dim=-1)  # (N, K)
    return -log_probs.gather(1, y.view(-1, 1)).mean()


def cross_entropy_from_probs(y_hat: Tensor, y_onehot: Tensor) -> Tensor:
    """The slide's L(ŷ, y) = −(1/N) Σ_{i=1}^{N} Σ_{j=1}^{K} y_ij log ŷ_ij.

    Taking the log of probabilities gives −inf (and then inf or NaN) once a probability underflows to 0;
    `cross_entropy` on the logits avoids that.
    Inputs: y_hat (N, K) predicted probabilities; y_onehot (N, K) one-hot labels (any rows summing to one work).
    Returns: the mean loss, a scalar tensor.
    """
    return -(y_onehot * torch.log(y_hat)).sum() / y_hat.shape[0]


def mlp3_forward(X: Tensor, params: Params) -> tuple[Tensor, dict[str, Tensor]]:
    """x_1 = ReLU(A_1 x_0 + b_1), x_2 = ReLU(A_2 x_1 + b_2), x_3 = softmax(A_3 x_2 + b_3), with x_0 = X.

    Inputs: X (N, k_0); params {"A1": (k_1, k_0), "b1": (k_1,), "A2": (k_2, k_1), "b2": (k_2,),
            "A3": (K, k_2), "b3": (K,)}.
    Returns: probs = x_3 (N, K), rows summing to one; cache {"x0": (N, k_0), "z1", "x1": (N, k_1),
             "z2", "x2": (N, k_2), "z3", "x3": (N, K)}, the values back-propagation needs (the slide: "we need
             to keep in memory the latent values of x").
    """
    cache = {"x0": X}
    for i in (1, 2, 3):
        z = cache[f"x{i - 1}"] @ params[f"A{i}"].T + params[f"b{i}"]  # (N, k_i)
        cache[f"z{i}"] = z
        cache[f"x{i}"] = softmax(z, dim=-1) if i == 3 else relu(z)
    return cache["x3"], cache


def mlp3_backward(cache: dict[str, Tensor], params: Params, y: Tensor) -> Params:
    """Gradients of the mean cross-entropy l = −(1/N) Σ_n log x_3[n, y_n] w.r.t. every A_i and b_i, by the chain rule.

    For the last layer, softmax and cross-entropy together give ∂l/∂z_3 = (ŷ − y)/N, with ŷ = x_3 and y one-hot.
    Then for i = 3, 2, 1, as on the slides but batched:
        ∂l/∂A_i = (∂l/∂z_i)ᵀ x_{i-1}            (the slide's  [l'(x_i) σ'_i(z_i)] x_{i-1}ᵀ, summed over the batch)
        ∂l/∂b_i = Σ_n ∂l/∂z_i
        ∂l/∂x_{i-1} = ∂l/∂z_i A_i               (the slide's  A_iᵀ ∂l/∂z_i for one column vector)
        ∂l/∂z_{i-1} = ∂l/∂x_{i-1} ⊙ σ'_{i-1}(z_{i-1})
    The slide multiplies l'(x_3) by σ'_3 as if the softmax were elementwise; its derivative is a Jacobian
    (activations.softmax_jacobian), and only combined with the cross-entropy does it reduce to ŷ − y.
    Inputs: cache from mlp3_forward; params as for mlp3_forward; y (N,) integer labels or (N, K) one-hot.
    Returns: {"A1": (k_1, k_0), "b1": (k_1,), ..., "b3": (K,)}, each the shape of its parameter.
    """
    x3 = cache["x3"]  # (N, K)
    n, k = x3.shape
    y_onehot = y.to(x3.dtype) if y.dim() == 2 else torch.nn.functional.one_hot(y, k).to(x3.dtype)
    dl_dz = (x3 - y_onehot) / n  # (N, K)
    grads: Params = {}
    for i in (3, 2, 1):
        grads[f"A{i}"] = dl_dz.T @ cache[f"x{i - 1}"]  # (k_i, k_{i-1})
        grads[f"b{i}"] = dl_dz.sum(dim=0)  # (k_i,)
        if i > 1:
            dl_dx = dl_dz @ params[f"A{i}"]  # (N, k_{i-1})
            dl_dz = dl_dx * relu_grad(cache[f"z{i - 1}"])
    return {name: grads[name] for name in PARAM_NAMES}


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """θ_{t+1} = θ_t − λ ∇_θ l for every parameter θ (the slide's λ is the learning rate `lr`).

    Pure: new tensors are returned and the inputs are left unchanged.
    Inputs: params and grads, dicts with the same keys and shapes; lr > 0.
    Returns: the updated parameters, a new dict with the same keys and shapes.
    """
    return {name: p - lr * grads[name] for name, p in params.items()}


def minibatches(N: int, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Tensor]:
    """One epoch of mini-batch SGD: B = ⌊N/b⌋ disjoint random mini-batches of b sample indices.

    As on the slide, the N − B·b samples left over are not used this epoch (a new permutation is drawn each
    epoch, so none is left out for good). The slide averages the mini-batch gradient with 1/B, the number of
    batches; the mean over the b samples of the batch, (1/b) Σ_{n ∈ batch} ∇_θ l(x_n), is meant, which is what
    a mean loss over the batch gives.
    Inputs: N ≥ 1 samples; batch_size b with 1 ≤ b ≤ N; generator for the permutation (CPU).
    Returns: an iterator of B index tensors, each (b,) int64 on the CPU.
    """
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must be between 1 and N = {N} (the slide's B = ⌊N/b⌋ would be 0 batches), "
                         f"got {batch_size}")
    order = torch.randperm(N, generator=generator)  # (N,)
    for start in range(0, (N // batch_size) * batch_size, batch_size):
        yield order[start : start + batch_size]
