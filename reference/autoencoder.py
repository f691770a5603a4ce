"""Autoencoders: undercomplete, denoising, sparse, and a convolutional encoder-decoder
(lectures: "Auto-Encoders", "Sparse Auto-Encoders", "Denoising Auto-Encoders", "Basic Autoencoder").
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

Tensor = torch.Tensor


def kl_bernoulli(rho: float, rho_hat: Tensor) -> Tensor:
    """KL(ρ‖ρ̂_j) = ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j)), elementwise. Not symmetric: swapping the
    arguments gives a different penalty."""
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def kl_sparsity_penalty(activations: Tensor, rho: float = 0.05, beta: float = 1e-3, eps: float = 1e-8) -> Tensor:
    """β Σ_j KL(ρ‖ρ̂_j) with ρ̂_j = (1/m) Σ_i a_j(x_i), the average activation of hidden unit j over the batch.

    The activations must lie in (0, 1) (sigmoid codes). ρ̂ is clamped to [eps, 1 − eps] because a unit that is
    exactly 0 or 1 on the whole batch would make the logarithm infinite.
    Inputs: activations (m, S). Returns: a 0-d tensor.
    """
    rho_hat = activations.mean(dim=0).clamp(eps, 1 - eps)  # (S,): average over samples, not over units
    return beta * kl_bernoulli(rho, rho_hat).sum()


def l1_activity_penalty(activations: Tensor, lam: float) -> Tensor:
    """λ Σ_j |a_j| summed over the units of a sample and averaged over the batch. Inputs: (m, S). Returns 0-d."""
    return lam * activations.abs().sum(dim=1).mean()


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None, clip: bool = True) -> Tensor:
    """x̃ = x + ε, ε ~ N(0, std²) per entry; clipped to [0, 1] (the range of images) unless clip=False."""
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    noisy = x + std * noise
    return noisy.clamp(0.0, 1.0) if clip else noisy


def masking_noise(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """x̃ = x with each entry set to 0 independently with probability p (masking corruption)."""
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device) >= p
    return x * keep


def reconstruction_mse(x: Tensor, x_hat: Tensor) -> Tensor:
    """MSE_i = (1/k)‖x_i − x̂_i‖² per sample (lecture 002). Inputs: (N, ...). Returns (N,)."""
    return ((x - x_hat) ** 2).flatten(1).mean(dim=1)


class DenseAutoencoder(nn.Module):
    """784 → 32 → 784 as in the lecture: ReLU code, sigmoid output (pixels in [0, 1]).

    hidden_dims adds layers on both sides, mirrored: hidden_dims=(128,) gives 784 → 128 → 32 → 128 → 784.
    """

    def __init__(self, input_dim: int = 784, code_dim: int = 32, hidden_dims: tuple[int, ...] = ()) -> None:
        super().__init__()
        dims = (input_dim, *hidden_dims, code_dim)
        enc: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        dec: list[nn.Module] = []
        back = dims[::-1]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec[-1] = nn.Sigmoid()
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)  # (N, code_dim)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)  # (N, input_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """A convolutional encoder-decoder for 1×28×28 images: two stride-2 convolutions down to 32×7×7, two
    transposed convolutions back up (output_padding=1 restores the even sizes: 7 → 14 → 28)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1), nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))  # (N, 1, 28, 28) -> (N, 32, 7, 7) -> (N, 1, 28, 28)


def train_autoencoder(model: nn.Module, X: Tensor, steps: int = 200, lr: float = 1e-3, batch_size: int = 64,
                      loss: str = "bce", noise: Callable[[Tensor], Tensor] | None = None,
                      sparsity: Callable[[Tensor], Tensor] | None = None, seed: int = 0) -> list[float]:
    """Adam on the reconstruction loss of a model with `encoder` and `decoder` parts; with `noise`, the input is corrupted and the target stays clean
    (denoising); with `sparsity`, its penalty of the code is added (sparse AE). Returns the loss per step."""
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    reconstruction = nn.functional.binary_cross_entropy if loss == "bce" else nn.functional.mse_loss
    losses = []
    for _ in range(steps):
        batch = X[torch.randint(0, X.shape[0], (batch_size,), generator=generator)]
        inputs = noise(batch) if noise is not None else batch
        code = model.encoder(inputs)
        out = model.decoder(code)
        value = reconstruction(out, batch)
        if sparsity is not None:
            value = value + sparsity(code)
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(value.item())
    return losses
