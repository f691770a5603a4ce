"""Precision and recall for generative models (Kynkäänniemi et al., 2019, "Improved Precision and Recall Metric
for Assessing Generative Models", cited in the course).

Each real sample gets a ball whose radius is the distance to its k-th nearest other real sample; the union of
balls approximates the real manifold. Precision is the fraction of generated samples inside it (quality); recall
swaps the roles: the fraction of real samples inside the generated manifold (diversity).

Coverage (Naeem et al., 2020, "Reliable Fidelity and Diversity Metrics for Generative Models") measures diversity
with the real balls only: the fraction of real samples whose ball holds at least one generated sample. Unlike
recall, it does not trust the generated samples' own neighbourhoods, which outliers among them inflate and a small
real set leaves nearly empty.
"""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def knn_radii(features: Tensor, k: int = 3, chunk: int = 4096) -> Tensor:
    """Distance from each sample to its k-th nearest *other* sample. Inputs (N, D). Returns (N,)."""
    radii = []
    for start in range(0, features.shape[0], chunk):
        d = torch.cdist(features[start : start + chunk], features)  # (c, N); the k+1-th smallest skips the point itself
        radii.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _coverage(manifold: Tensor, radii: Tensor, queries: Tensor, chunk: int = 4096) -> Tensor:
    inside = []
    for start in range(0, queries.shape[0], chunk):
        d = torch.cdist(queries[start : start + chunk], manifold)  # (c, N)
        inside.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(inside).double().mean()


def precision_recall(real_features: Tensor, fake_features: Tensor, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of fake samples against real ones, both in [0, 1]. Inputs (N, D) and (M, D)."""
    precision = _coverage(real_features, knn_radii(real_features, k), fake_features)
    recall = _coverage(fake_features, knn_radii(fake_features, k), real_features)
    return float(precision), float(recall)


def coverage(real_features: Tensor, fake_features: Tensor, k: int = 5, chunk: int = 4096) -> float:
    """The fraction of real samples with a fake one within their k-NN radius, in [0, 1]. Inputs (N, D) and (M, D)."""
    radii = knn_radii(real_features, k)
    hit = torch.zeros(real_features.shape[0], dtype=torch.bool, device=real_features.device)
    for start in range(0, fake_features.shape[0], chunk):
        d = torch.cdist(fake_features[start : start + chunk], real_features)  # (c, N)
        hit |= (d <= radii[None, :]).any(dim=0)
    return float(hit.double().mean())
