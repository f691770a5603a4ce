"""Generative adversarial networks (lecture: "GAN": train the discriminator on real and fake data, then the
generator while the discriminator is frozen).

    D loss:  −log D(x) − log(1 − D(G(z)))
    G loss (non-saturating):  −log D(G(z))
"""
from __future__ import annotations

import math

import torch
from torch import nn

from reference.ring import mixture_of_gaussians, mode_coverage, ring_modes  # noqa: F401  (the ring's data and measure)

Tensor = torch.Tensor
bce = nn.functional.binary_cross_entropy_with_logits


class Generator(nn.Module):
    """An MLP from noise (latent_dim) to data (data_dim); tanh output for data in [−1, 1] with `bounded`."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden: int = 64, bounded: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, data_dim)]
        self.net = nn.Sequential(*layers, *([nn.Tanh()] if bounded else []))
        self.latent_dim = latent_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """An MLP from data to one logit (the probability "real" is its sigmoid)."""

    def __init__(self, data_dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)  # (N,)


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0) = mean −log D(x) + mean −log(1 − D(G(z))), from logits (stable)."""
    return bce(d_real_logits, torch.ones_like(d_real_logits)) + bce(d_fake_logits, torch.zeros_like(d_fake_logits))


def generator_loss_nonsaturating(d_fake_logits: Tensor) -> Tensor:
    """−log D(G(z)): strong gradients early on, when D easily rejects the fakes and log(1 − D(G(z))) is flat."""
    return bce(d_fake_logits, torch.ones_like(d_fake_logits))


def generator_loss_saturating(d_fake_logits: Tensor) -> Tensor:
    """The original minimax form log(1 − D(G(z))) (to minimise), for comparison."""
    return -bce(d_fake_logits, torch.zeros_like(d_fake_logits))


def gan_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer, real: Tensor, z: Tensor) -> dict[str, float]:
    """One alternating step: update D on real data and detached fakes, then update G with D frozen."""
    fake = G(z)
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))  # detach: this step must not move G
    d_loss.backward()
    opt_D.step()

    D.requires_grad_(False)  # frozen: G's loss flows through D without changing it
    opt_G.zero_grad()
    g_loss = generator_loss_nonsaturating(D(fake))
    g_loss.backward()
    opt_G.step()
    D.requires_grad_(True)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
