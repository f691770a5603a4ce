"""The ring of 8 Gaussians, the classic test of mode collapse (lecture: "GAN", mode collapse): its data and the
measurement of how many of its modes a generator covers.

None of this answers a task: a07's student kit ships this module as it is (KIT_SHIPS in its grader), so a student's
own kernel measures a trained generator the way the grader does.
"""
from __future__ import annotations

import math

import torch

Tensor = torch.Tensor


def ring_modes(k: int = 8, radius: float = 2.0) -> Tensor:
    """The k centres on a circle of the given radius. Returns (k, 2) float64."""
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def mixture_of_gaussians(n: int, k: int = 8, radius: float = 2.0, std: float = 0.02, generator: torch.Generator | None = None) -> Tensor:
    """n samples from k Gaussians of std `std` on a ring: the classic test of mode collapse. Returns (n, 2) float64."""
    which = torch.randint(0, k, (n,), generator=generator)
    return ring_modes(k, radius)[which] + std * torch.randn(n, 2, generator=generator, dtype=torch.float64)


def mode_coverage(samples: Tensor, k: int = 8, radius: float = 2.0, std: float = 0.02, std_threshold: float = 3.0) -> tuple[int, float]:
    """(how many modes have at least one sample within `std_threshold`·std, fraction of samples that are that close
    to some mode): the first measures diversity, the second quality."""
    distances = torch.cdist(samples.to(torch.float64), ring_modes(k, radius).to(samples.device))  # (N, k)
    nearest, which = distances.min(dim=1)
    good = nearest <= std_threshold * std
    return int(which[good].unique().numel()), float(good.double().mean())
