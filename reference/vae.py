"""Variational autoencoders: the reparameterisation trick, the closed-form KL to N(0, I) and the ELBO
(lecture: "Variational Auto-Encoders": the encoder gives μ and σ² of q(z|x), z is sampled by reparameterisation,
the decoder reconstructs x̂).
"""
from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²) and ε ~ N(0, I): the randomness moves into ε, so gradients reach μ and σ.

    The encoder outputs log σ² (any real number) rather than σ (which must be positive); using it as σ directly is
    a classic mistake. Inputs: mu, logvar (N, D); eps (N, D) or None to draw it. Returns: z (N, D).
    """
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j), per sample. Inputs (N, D). Returns (N,)."""
    return -0.5 * (1 + logvar - mu**2 - torch.exp(logvar)).sum(dim=1)


def elbo(x: Tensor, x_hat: Tensor, mu: Tensor, logvar: Tensor, recon: str = "bce", logits: bool = False) -> dict[str, Tensor]:
    """The negative ELBO to minimise: reconstruction (summed over pixels) + KL, averaged over the batch.

    recon="bce" treats pixels as Bernoulli (x̂ probabilities, or logits with logits=True, which is more stable);
    recon="mse" is the Gaussian case up to constants. Returns dict(loss, recon, kl), each 0-d.
    """
    if recon == "bce":
        fn = nn.functional.binary_cross_entropy_with_logits if logits else nn.functional.binary_cross_entropy
        rec = fn(x_hat, x, reduction="none").flatten(1).sum(dim=1)
    elif recon == "mse":
        rec = ((x_hat - x) ** 2).flatten(1).sum(dim=1)
    else:
        raise ValueError(f"recon must be 'bce' or 'mse', not {recon!r}")
    kl = kl_to_standard_normal(mu, logvar)
    return {"loss": (rec + kl).mean(), "recon": rec.mean(), "kl": kl.mean()}


class VAE(nn.Module):
    """An MLP VAE: encoder x → (μ, log σ²), decoder z → x̂ (sigmoid pixels)."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 256, latent_dim: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())
        self.mu = nn.Linear(hidden_dim, latent_dim)
        self.logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim), nn.Sigmoid())

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)  # (N, D), (N, D)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        return self.decoder(reparameterize(mu, logvar, generator=generator)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Decode n draws from the prior N(0, I)."""
        ref = next(self.parameters())
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=ref.dtype).to(ref.device)
        return self.decoder(z)

    @torch.no_grad()
    def interpolate(self, z0: Tensor, z1: Tensor, steps: int = 8) -> Tensor:
        """Decode the straight line from z0 to z1 (D,) in `steps` points. Returns (steps, input_dim)."""
        t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]
        return self.decoder((1 - t) * z0 + t * z1)
