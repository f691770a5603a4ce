"""Autoencoders: undercomplete (dense and convolutional), denoising and sparse
(lectures: "Auto-Encoders", "Sparse Auto-Encoders → Reminder of Regularization", "Denoising Auto-Encoders",
"Basic Autoencoder": 784 → 32 → 784, ReLU code, sigmoid output, Adam on binary cross-entropy).

Notation: an encoder h = g(x) gives the code, a decoder x̂ = f(h) the reconstruction. Lecture 002 writes the
reconstruction as x̃; here x̃ is the *corrupted* input of a denoising autoencoder, as in Vincent et al. (2008),
and x̂ the reconstruction.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

Tensor = torch.Tensor


def kl_bernoulli(rho: float, rho_hat: Tensor) -> Tensor:
    """KL(ρ‖ρ̂_j) = ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j)), elementwise: the KL divergence between a
    Bernoulli with mean ρ (the target) and one with mean ρ̂_j (unit j's average activation).

    It is not symmetric: KL(ρ̂_j‖ρ) is a different (wrong) penalty.
    Inputs: rho in (0, 1); rho_hat (S,) (any shape), entries in (0, 1).
    Returns: same shape as rho_hat, ≥ 0, and 0 exactly where ρ̂_j = ρ.
    """
    if not 0.0 < rho < 1.0:
        raise ValueError(f"the sparsity target rho must lie strictly between 0 and 1, got {rho}")
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def kl_sparsity_penalty(activations: Tensor, rho: float = 0.05, beta: float = 1e-3, eps: float | None = None) -> Tensor:
    """β Σ_{j=1}^{S} KL(ρ‖ρ̂_j), with ρ̂_j = (1/m) Σ_{i=1}^{m} a_j(x_i) the average activation of hidden unit j over
    the m samples of the batch (the slide averages over the training set; a mini-batch estimates it).

    The lecture's defaults: ρ = 0.05, β = 0.001. The activations must lie in (0, 1): sigmoid codes (a ReLU code can
    exceed 1, where the KL is undefined). ρ̂ is clamped to [eps, 1 − eps] because a unit that is exactly 0 or 1 on
    the whole batch (a saturated sigmoid rounds to 0 or 1) would make log(ρ/ρ̂) or log((1 − ρ)/(1 − ρ̂)) infinite,
    and one infinite term ruins the whole loss. eps=None takes the dtype's machine epsilon: a fixed 1e-8 would round
    1 − eps back to 1 in float32. The slide's sum runs over i = 1 … s_2 but its summand is indexed j; the sum is over
    the S hidden units j.

    Inputs: activations (m, S), the code of m samples.
    Returns: a 0-d tensor.
    """
    eps = torch.finfo(activations.dtype).eps if eps is None else eps
    rho_hat = activations.mean(dim=0).clamp(eps, 1 - eps)  # (S,): over the samples, one average per unit
    return beta * kl_bernoulli(rho, rho_hat).sum()


def l1_activity_penalty(activations: Tensor, lam: float) -> Tensor:
    """λ Σ_j |a_j|, the L1 sparsity penalty on a code ("the sparsity can also be introduced by L1 regularization").

    Reduction: summed over the units of each sample, then averaged over the samples, so the penalty does not grow
    with the batch size (as the reconstruction loss, a mean over the batch).
    Inputs: activations (m, S) (or (m, ...), every non-batch axis counts as units); lam = λ ≥ 0.
    Returns: a 0-d tensor.
    """
    return lam * activations.abs().flatten(1).sum(dim=1).mean()  # (m,) -> ()


def _draw(kind: str, x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal ("randn") or uniform [0, 1) ("rand") noise shaped like x, drawn on the generator's device
    (a CPU generator cannot fill a CUDA tensor) and moved to x's device: a seeded CPU generator then gives the same
    noise on any device."""
    device = generator.device if generator is not None else x.device
    sample = torch.randn if kind == "randn" else torch.rand
    return sample(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None, *, clip: bool = True) -> Tensor:
    """Additive Gaussian corruption x̃ = x + ε, ε ~ N(0, std²) independently per entry; with clip=True x̃ is clipped
    to [0, 1], the range of the images (the clean x is the denoising target, never the corrupted one).
    Inputs: x (N, ...) floating. Returns: a new tensor, x's shape, dtype and device.
    """
    noisy = x + std * _draw("randn", x, generator)
    return noisy.clamp(0.0, 1.0) if clip else noisy


def masking_noise(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Masking corruption: each entry is set to 0 independently with probability p (so a fraction ≈ p of entries
    is zeroed), the others are kept unchanged (no rescaling: unlike dropout, this is corruption of the data).
    Inputs: x (N, ...) floating; p in [0, 1]. Returns: a new tensor, x's shape, dtype and device.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the masking probability p must lie in [0, 1], got {p}")
    dropped = _draw("rand", x, generator) < p
    return x.masked_fill(dropped, 0.0)


def reconstruction_mse(x: Tensor, x_hat: Tensor) -> Tensor:
    """MSE_i = (1/k) ‖x_i − x̂_i‖²₂ per sample, k the number of entries of one sample (lecture 002).
    Inputs: x, x_hat (N, ...), the same shape. Returns: (N,).
    """
    return ((x - x_hat) ** 2).flatten(1).mean(dim=1)  # (N, k) -> (N,)


class DenseAutoencoder(nn.Module):
    """The lecture's dense autoencoder: 784 → 32 (ReLU) → 784 (sigmoid, pixels in [0, 1]).

    hidden_dims adds ReLU layers on both sides, mirrored in the decoder: hidden_dims=(128,) gives
    784 → 128 → 32 → 128 → 784. code_activation="sigmoid" gives a code in (0, 1), which the KL sparsity penalty needs.
    Inputs (forward): x (N, input_dim). Returns: x̂ (N, input_dim).
    """

    def __init__(self, input_dim: int = 784, code_dim: int = 32, hidden_dims: tuple[int, ...] = (), *,
                 code_activation: str = "relu") -> None:
        super().__init__()
        activations = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}
        if code_activation not in activations:
            raise ValueError(f"code_activation must be one of {sorted(activations)}, got {code_activation!r}")
        down = (input_dim, *hidden_dims, code_dim)
        up = down[::-1]
        encoder: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(down[:-1], down[1:])):
            last = i == len(down) - 2
            encoder += [nn.Linear(a, b), activations[code_activation]() if last else nn.ReLU()]
        decoder: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(up[:-1], up[1:])):
            last = i == len(up) - 2
            decoder += [nn.Linear(a, b), nn.Sigmoid() if last else nn.ReLU()]
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)  # (N, input_dim) -> (N, code_dim)

    def decode(self, h: Tensor) -> Tensor:
        return self.decoder(h)  # (N, code_dim) -> (N, input_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """A convolutional encoder-decoder for 1×28×28 images.

    Encoder: Conv2d(1→16, 3, stride 2, padding 1) → ReLU → Conv2d(16→32, 3, s2, p1) → ReLU: 28 → 14 → 7, code 32×7×7.
    Decoder: ConvTranspose2d(32→16, 3, s2, p1, output_padding=1) → ReLU → ConvTranspose2d(16→1, 3, s2, p1,
    output_padding=1) → sigmoid: 7 → 14 → 28. A transposed convolution gives (n − 1)·s − 2p + k + output_padding
    = (7 − 1)·2 − 2 + 3 + 1 = 14; without output_padding it would give 13, as the stride-2 convolution maps both
    13 and 14 to 7.
    Inputs (forward): x (N, 1, 28, 28). Returns: x̂ (N, 1, 28, 28).
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
        )

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)  # (N, 1, 28, 28) -> (N, 16, 14, 14) -> (N, 32, 7, 7)

    def decode(self, h: Tensor) -> Tensor:
        return self.decoder(h)  # (N, 32, 7, 7) -> (N, 16, 14, 14) -> (N, 1, 28, 28)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


def train_autoencoder(model: DenseAutoencoder | ConvAutoencoder, X: Tensor, *, epochs: int = 10, lr: float = 1e-3,
                      batch_size: int = 64, loss: str = "bce", noise: Callable[[Tensor], Tensor] | None = None,
                      sparsity: Callable[[Tensor], Tensor] | None = None,
                      generator: torch.Generator | None = None) -> list[float]:
    """Train with Adam on shuffled mini-batches, as the lecture's `autoencoder.fit`; the model is updated in place.

    Per batch x: x̃ = noise(x) if a corruption is given (denoising), else x; h = encode(x̃); x̂ = decode(h);
    loss = reconstruction(x̂, x) + sparsity(h). The target is always the clean x.
      loss="bce": binary cross-entropy averaged over pixels and samples (Keras' binary_crossentropy, the lecture's);
      loss="mse": (1/k)‖x − x̂‖² averaged over samples (the mean of reconstruction_mse).
    sparsity, e.g. lambda h: kl_sparsity_penalty(h, 0.05, 1e-3) (needs a sigmoid code) or
    lambda h: l1_activity_penalty(h, 1e-4); noise, e.g. functools.partial(masking_noise, p=0.3, generator=g).
    generator shuffles the batches (None: torch's global generator).

    Inputs: X (N, ...) in [0, 1], on the model's device and dtype.
    Returns: the training loss of every mini-batch, in order (epochs · ⌈N / batch_size⌉ floats).
    """
    reconstructions = {"bce": F.binary_cross_entropy, "mse": F.mse_loss}
    if loss not in reconstructions:
        raise ValueError(f"loss must be one of {sorted(reconstructions)}, got {loss!r}")
    reconstruction = reconstructions[loss]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle_device = generator.device if generator is not None else torch.device("cpu")
    losses: list[float] = []
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=generator, device=shuffle_device).to(X.device)
        for rows in order.split(batch_size):
            x = X[rows]  # (B, ...) the clean batch: always the target
            x_tilde = noise(x) if noise is not None else x
            h = model.encode(x_tilde)
            value = reconstruction(model.decode(h), x)
            if sparsity is not None:
                value = value + sparsity(h)
            opt.zero_grad()
            value.backward()
            opt.step()
            losses.append(value.item())
    return losses
