"""Precision and recall of a generative model (Kynkäänniemi, Karras, Laine, Lehtinen & Aila, 2019, "Improved
Precision and Recall Metric for Assessing Generative Models", cited in the course).

Each sample of a set gets a ball around it whose radius is the distance to its k-th nearest *other* sample of the
same set; the union of the balls estimates the manifold the set lies on.

    precision = fraction of generated samples inside the real manifold  (quality: do fakes look real?)
    recall    = fraction of real samples inside the generated manifold  (diversity: is every real mode produced?)

A generator that collapses onto one of two real clusters has precision ≈ 1 but recall ≈ ½. The paper compares
feature vectors (VGG-16 embeddings of images); any (N, D) features work here. "Inside" includes the boundary
(‖x − c‖ ≤ radius), so a set compared with itself has precision = recall = 1.
"""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def knn_radii(features: Tensor, k: int = 3, chunk: int = 4096) -> Tensor:
    """The distance from each sample to its k-th nearest other sample.

    Each row of distances includes the sample itself at distance 0, so the k-th nearest *other* sample is the
    (k+1)-th smallest entry (a duplicate of the sample counts as another sample, at distance 0). Rows are processed
    `chunk` at a time, so memory is chunk·N distances instead of N².
    Inputs: features (N, D), N > k. Returns: radii (N,).
    """
    if not 0 < k < features.shape[0]:
        raise ValueError(f"k must satisfy 0 < k < number of samples ({features.shape[0]}), got k={k}")
    radii = []
    for start in range(0, features.shape[0], chunk):
        d = torch.cdist(features[start:start + chunk], features)  # (c, N)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # (c,)
    return torch.cat(radii)


def manifold_coverage(centres: Tensor, radii: Tensor, queries: Tensor, chunk: int = 4096) -> float:
    """The fraction of queries inside at least one ball: ∃ i with ‖q − c_i‖ ≤ r_i.
    Inputs: centres (N, D), radii (N,), queries (M, D). Returns: a float in [0, 1].
    """
    inside = []
    for start in range(0, queries.shape[0], chunk):
        d = torch.cdist(queries[start:start + chunk], centres)  # (c, N)
        inside.append((d <= radii[None, :]).any(dim=1))  # (c,)
    return float(torch.cat(inside).double().mean())


def precision_recall(real_features: Tensor, fake_features: Tensor, k: int = 3,
                     chunk: int = 4096) -> tuple[float, float]:
    """(precision, recall) of generated samples against real ones, after Kynkäänniemi et al. (2019), k = 3 as there.

        precision = (1/M) Σ_j 1[∃ i: ‖fake_j − real_i‖ ≤ NND_k(real_i)]
        recall    = (1/N) Σ_i 1[∃ j: ‖real_i − fake_j‖ ≤ NND_k(fake_j)]

    with NND_k(x) the distance from x to its k-th nearest other sample of its own set.
    Inputs: real_features (N, D), fake_features (M, D), the same device and dtype; N, M > k.
    Returns: (precision, recall), floats in [0, 1].
    """
    precision = manifold_coverage(real_features, knn_radii(real_features, k, chunk), fake_features, chunk)
    recall = manifold_coverage(fake_features, knn_radii(fake_features, k, chunk), real_features, chunk)
    return precision, recall
