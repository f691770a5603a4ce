"""Generative adversarial networks (lecture: "GAN": "train discriminator on real data ... on fake data, train
generator on new fake inputs", and "the Generator is trained while the Discriminator is frozen").

With D(x) = σ(logit) the probability that x is real, and G(z) a sample made from noise z:

    D loss:                      −log D(x) − log(1 − D(G(z)))   = BCE(D(x), 1) + BCE(D(G(z)), 0)
    G loss (non-saturating):     −log D(G(z))                    = BCE(D(G(z)), 1)
    G loss (saturating, minimax): log(1 − D(G(z)))               = −BCE(D(G(z)), 0)

Every loss is computed from D's logits with binary_cross_entropy_with_logits, which never takes log(0).

The lecture lists "train D on real data" and "train D on fake data" as two steps; one D loss with both terms and a
single optimizer step is the standard algorithm (Goodfellow et al. 2014, Algorithm 1) and is what gan_step does.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

Tensor = torch.Tensor

_OUTPUTS = {"linear": nn.Identity, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _mlp(sizes: tuple[int, ...], hidden_activation: type[nn.Module], **kwargs: float) -> list[nn.Module]:
    """Linear layers between consecutive sizes, the activation after every one but the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(hidden_activation(**kwargs))
    return layers


class Generator(nn.Module):
    """G: noise z (latent_dim) → a sample (data_dim), an MLP with ReLU hidden layers.

    output="linear" for unbounded data (the 2-D ring), "sigmoid" for pixels in [0, 1] (784-D digits), "tanh" for
    data scaled to [−1, 1]. Example sizes: Generator(2, 2, (128, 128)) for the ring, Generator(64, 784, (256, 512),
    output="sigmoid") for digits.
    Inputs (forward): z (N, latent_dim). Returns: (N, data_dim).
    """

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden_dims: tuple[int, ...] = (128, 128),
                 output: str = "linear") -> None:
        super().__init__()
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {sorted(_OUTPUTS)}, got {output!r}")
        self.latent_dim = latent_dim
        self.net = nn.Sequential(*_mlp((latent_dim, *hidden_dims, data_dim), nn.ReLU), _OUTPUTS[output]())

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)  # (N, data_dim)


class Discriminator(nn.Module):
    """D: a sample (data_dim) → one logit; σ(logit) is the probability that the sample is real.

    LeakyReLU(0.2) hidden layers (the usual GAN choice: D keeps a gradient for inputs where a ReLU would be dead,
    so G always gets a signal). It returns the logit, not σ(logit): the losses are computed stably from logits.
    Inputs (forward): x (N, data_dim). Returns: logits (N,).
    """

    def __init__(self, data_dim: int = 2, hidden_dims: tuple[int, ...] = (128, 128)) -> None:
        super().__init__()
        self.net = nn.Sequential(*_mlp((data_dim, *hidden_dims, 1), nn.LeakyReLU, negative_slope=0.2))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)  # (N, 1) -> (N,)


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """L_D = BCE(D(x), 1) + BCE(D(G(z)), 0) = mean_i −log D(x_i) + mean_j −log(1 − D(G(z_j))).

    Each term is averaged over its own batch, so real and fake batches of different sizes weigh the same.
    Inputs: d_real_logits (N,), d_fake_logits (M,), D's logits on real and generated samples.
    Returns: a 0-d tensor.
    """
    real_term = F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits))
    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))
    return real_term + fake_term


def generator_loss_nonsaturating(d_fake_logits: Tensor) -> Tensor:
    """L_G = BCE(D(G(z)), 1) = mean −log D(G(z)), the loss G minimises in practice.

    Why not the minimax loss log(1 − D(G(z)))? Early in training D rejects the fakes easily, D(G(z)) ≈ 0, where
    log(1 − D) is flat: its derivative with respect to D's logit is −D(G(z)) ≈ 0, so G learns almost nothing (it
    "saturates"). −log D(G(z)) has the same fixed point but a derivative of −(1 − D(G(z))) ≈ −1 there: the
    gradient is strongest exactly when G is worst (Goodfellow et al. 2014, section 3).
    Inputs: d_fake_logits (M,). Returns: a 0-d tensor.
    """
    return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))


def generator_loss_saturating(d_fake_logits: Tensor) -> Tensor:
    """L_G = mean log(1 − D(G(z))) = −BCE(D(G(z)), 0), G's side of the original minimax game, for comparison
    (see generator_loss_nonsaturating for why it is not used). Inputs: d_fake_logits (M,). Returns: a 0-d tensor."""
    return -F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))


def gan_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer, real: Tensor,
             z: Tensor) -> dict[str, float]:
    """One alternating training step, as in the lecture: first D, then G with D frozen.

    1. D step: L_D on the real batch and on G(z).detach() (detached: D's update must not reach into G), then
       one step of opt_D.
    2. G step: D is frozen (requires_grad_(False)), so the gradient of −log D(G(z)) flows *through* D into G but
       does not touch D's parameters; one step of opt_G; D's flags are restored afterwards.
    Gradients are zeroed before each backward, so nothing accumulates from an earlier step.

    Inputs: real (N, data_dim), z (M, latent_dim).
    Returns: {"d_loss": L_D before D's update, "g_loss": L_G before G's update (measured with the updated D)}.
    """
    fake = G(z)  # (M, data_dim)

    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    flags = [p.requires_grad for p in D.parameters()]
    D.requires_grad_(False)
    try:
        opt_G.zero_grad()
        g_loss = generator_loss_nonsaturating(D(fake))
        g_loss.backward()
        opt_G.step()
    finally:  # restore D's flags even if G's step fails, or the next D step would silently not learn
        for p, flag in zip(D.parameters(), flags):
            p.requires_grad_(flag)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def ring_modes(k: int = 8, radius: float = 2.0, *, dtype: torch.dtype = torch.float32,
               device: torch.device | str | None = None) -> Tensor:
    """The k centres (radius·cos(2πi/k), radius·sin(2πi/k)), i = 0 … k−1. Returns: (k, 2)."""
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (k, 2), exact in float64
    return centres.to(device=device, dtype=dtype)


def mixture_of_gaussians(n: int, k: int = 8, radius: float = 2.0, std: float = 0.02,
                         generator: torch.Generator | None = None, *, dtype: torch.dtype = torch.float32,
                         device: torch.device | str | None = None) -> Tensor:
    """n samples from k equally likely Gaussians N(centre_i, std² I) on a ring: the classic test of mode collapse
    (a collapsed G puts all its samples on one or a few of the k modes).

    The draws come from `generator` (on its own device), so a seeded generator gives the same samples anywhere.
    Returns: (n, 2) with the requested dtype and device.
    """
    gen_device = generator.device if generator is not None else torch.device("cpu")
    which = torch.randint(0, k, (n,), generator=generator, device=gen_device)  # (n,) mode of each sample
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64, device=gen_device)
    samples = ring_modes(k, radius, dtype=torch.float64, device=gen_device)[which] + std * noise
    return samples.to(device=device, dtype=dtype)


def mode_coverage(samples: Tensor, k: int = 8, radius: float = 2.0, std: float = 0.02,
                  std_threshold: float = 3.0) -> tuple[int, float]:
    """How well generated samples cover the ring (as in Srivastava et al. 2017, VEEGAN):

    a sample is "high quality" when it lies within std_threshold·std of its nearest mode; a mode is "covered" when
    at least one high-quality sample is nearest to it. The count measures diversity, the fraction quality: a
    collapsed G has high quality but covers one mode; a G that sprays noise covers modes with few good samples.
    Inputs: samples (N, 2). Returns: (modes covered, 0 … k; fraction of high-quality samples, in [0, 1]).
    """
    modes = ring_modes(k, radius, dtype=torch.float64, device=samples.device)
    distances = torch.cdist(samples.detach().to(torch.float64), modes)  # (N, k)
    nearest, which = distances.min(dim=1)  # (N,), (N,)
    good = nearest <= std_threshold * std
    return int(which[good].unique().numel()), float(good.double().mean())
