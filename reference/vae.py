"""Variational autoencoders: the reparameterisation trick, the closed-form KL to N(0, I) and the (negative) ELBO
(lecture: "Variational Auto-Encoders": 1. the encoder outputs the mean μ and variance σ² of q(z|x); 2. z is
sampled from q(z|x) with the reparameterisation trick; 3. the decoder reconstructs x̂ from z).

The encoder outputs log σ² rather than σ² or σ: any real number is a valid log-variance, so no positivity
constraint is needed, and σ = exp(½ log σ²).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

Tensor = torch.Tensor


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None,
                   generator: torch.Generator | None = None) -> Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²) and ε ~ N(0, I).

    Sampling z ~ N(μ, σ²) directly has no gradient with respect to μ and σ; moving the randomness into ε makes z
    a differentiable function of them: ∂z/∂μ = 1, ∂z/∂(log σ²) = ½ σ ε. Using logvar as if it were σ
    (μ + logvar ⊙ ε) is a classic mistake.
    Inputs: mu, logvar (N, D); eps (N, D), or None to draw it from `generator` (on the generator's device, then
            moved to mu's).
    Returns: z (N, D).
    """
    if eps is None:
        device = generator.device if generator is not None else mu.device
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=device).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps  # (N, D)


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j), per sample, in closed form
    (Kingma & Welling 2014, appendix B). It is 0 exactly when μ = 0 and σ² = 1.
    Inputs: mu, logvar (N, D). Returns: (N,).
    """
    return -0.5 * (1 + logvar - mu**2 - torch.exp(logvar)).flatten(1).sum(dim=1)


def elbo(x: Tensor, x_hat: Tensor, mu: Tensor, logvar: Tensor, *, recon: str = "bce",
         logits: bool = False) -> dict[str, Tensor]:
    """The negative ELBO, the loss a VAE minimises: −ELBO = E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)), estimated with
    the one z the forward pass drew; per sample reconstruction + KL, then the mean over the batch.

    The reconstruction term is summed over pixels (it is the log-likelihood of the whole image; a mean over
    pixels would shrink it by 784 against the KL and blur the samples):
      recon="bce": Bernoulli pixels, −Σ_p [x_p log x̂_p + (1 − x_p) log(1 − x̂_p)]; x_hat holds probabilities, or
                   logits with logits=True (binary_cross_entropy_with_logits: stable where sigmoid saturates);
      recon="mse": Σ_p (x_p − x̂_p)², the Gaussian −log p(x|z) with variance ½ up to a constant.
    Inputs: x, x_hat (N, ...) the same shape; mu, logvar (N, D).
    Returns: {"loss": mean of recon + KL, "recon": mean recon, "kl": mean KL}, each 0-d.
    """
    if recon == "bce":
        bce = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
        per_pixel = bce(x_hat, x, reduction="none")
    elif recon == "mse":
        if logits:
            raise ValueError("logits=True only applies to recon='bce'; pass the reconstruction itself for 'mse'")
        per_pixel = (x - x_hat) ** 2
    else:
        raise ValueError(f"recon must be 'bce' or 'mse', got {recon!r}")
    rec = per_pixel.flatten(1).sum(dim=1)  # (N,): summed over pixels
    kl = kl_to_standard_normal(mu, logvar)  # (N,)
    return {"loss": (rec + kl).mean(), "recon": rec.mean(), "kl": kl.mean()}


class VAE(nn.Module):
    """An MLP VAE: encoder x → hidden (ReLU) → two heads μ and log σ²; decoder z → hidden (ReLU) → x̂ (sigmoid:
    Bernoulli probabilities of the pixels, for elbo(..., recon="bce")).
    Inputs (forward): x (N, input_dim). Returns: x̂ (N, input_dim), μ (N, latent_dim), log σ² (N, latent_dim).
    """

    def __init__(self, input_dim: int = 784, hidden_dim: int = 256, latent_dim: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())
        self.mu_head = nn.Linear(hidden_dim, latent_dim)
        self.logvar_head = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim), nn.Sigmoid(),
        )

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)  # (N, hidden_dim)
        return self.mu_head(h), self.logvar_head(h)  # (N, latent_dim) each

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)  # (N, latent_dim) -> (N, input_dim)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator=generator)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Decode n draws z ~ N(0, I) from the prior (after training, q(z|x) is pushed towards it by the KL).
        Returns: (n, input_dim) on the model's device and dtype."""
        ref = self.mu_head.weight
        device = generator.device if generator is not None else ref.device
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=ref.dtype, device=device).to(ref.device)
        return self.decode(z)

    @torch.no_grad()
    def interpolate(self, z0: Tensor, z1: Tensor, steps: int = 8) -> Tensor:
        """Decode the straight line z(t) = (1 − t) z0 + t z1 at `steps` evenly spaced t from 0 to 1: with a smooth
        latent space the images morph gradually. Inputs: z0, z1 (latent_dim,). Returns: (steps, input_dim)."""
        t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]  # (steps, 1)
        return self.decode((1 - t) * z0 + t * z1)  # (steps, latent_dim) -> (steps, input_dim)
