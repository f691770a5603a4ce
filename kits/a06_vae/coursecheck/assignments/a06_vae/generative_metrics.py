"""Precision and recall for generative models (Kynkäänniemi et al., 2019, "Improved Precision and Recall Metric
for Assessing Generative Models", cited in the course).

Each real sample gets a ball whose radius is the distance to its k-th nearest other real sample; the union of
balls approximates the real manifold. Precision is the fraction of generated samples inside it (quality); recall
swaps the roles: the fraction of real samples inside the generated manifold (diversity).
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
