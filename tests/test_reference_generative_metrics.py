"""Do precision/recall (Kynkäänniemi et al. 2019) and coverage (Naeem et al. 2020) separate quality from diversity
as they should?"""
from __future__ import annotations

import torch

from reference.generative_metrics import coverage, knn_radii, precision_recall


def two_clusters(gen, n=200):
    """n points near the origin and n/2 near (10, 10)."""
    near = torch.randn(n, 2, generator=gen, dtype=torch.float64) * 0.1
    far = torch.randn(n // 2, 2, generator=gen, dtype=torch.float64) * 0.1 + 10.0
    return torch.cat([near, far])


def test_identical_sets_have_full_precision_and_recall(gen):
    """Is a sample set compared with itself (1, 1)?"""
    x = torch.randn(300, 4, generator=gen, dtype=torch.float64)
    assert precision_recall(x, x) == (1.0, 1.0)


def test_far_away_samples_have_zero_precision_and_recall(gen):
    """Are fakes far from every real sample (0, 0)?"""
    x = torch.randn(200, 2, generator=gen, dtype=torch.float64)
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)


def test_covering_one_of_two_clusters_is_precise_but_half_recalled(gen):
    """Do fakes from only one of two real clusters get precision ≈ 1 and recall ≈ the size of that cluster?"""
    real = two_clusters(gen)
    fake = torch.randn(300, 2, generator=gen, dtype=torch.float64) * 0.1
    precision, recall = precision_recall(real, fake)
    # Over 300 seeds: precision 0.930-1.000 (tail fakes can fall outside every real ball), recall 0.613-0.667.
    assert precision > 0.9 and 0.55 < recall < 0.67
    both = torch.cat([fake, torch.randn(150, 2, generator=gen, dtype=torch.float64) * 0.1 + 10.0])
    assert precision_recall(real, both)[1] > 0.85  # covering the far cluster too recovers the recall


def test_radii_match_a_brute_force_loop(gen):
    """Is each radius the distance to the k-th nearest other sample, as a plain loop computes it?"""
    x = torch.randn(30, 3, generator=gen, dtype=torch.float64)
    brute = torch.stack([sorted((x[i] - x[j]).norm() for j in range(30) if j != i)[2] for i in range(30)])
    torch.testing.assert_close(knn_radii(x, k=3), brute)


def test_coverage_counts_the_real_samples_with_a_fake_in_their_ball(gen):
    """Is coverage 1 for a set against itself, 0 far away, and the covered cluster's share for fakes of one cluster?"""
    x = torch.randn(300, 4, generator=gen, dtype=torch.float64)
    assert coverage(x, x) == 1.0 and coverage(x, x + 100.0) == 0.0
    real = two_clusters(gen)
    fake = torch.randn(300, 2, generator=gen, dtype=torch.float64) * 0.1
    # the near cluster is 2/3 of the real set: its samples are (almost) all covered, the far ones none
    assert 0.6 < coverage(real, fake) <= 2 / 3


def test_coverage_matches_a_brute_force_loop(gen):
    """Is coverage, chunked, what a plain loop over real samples and their k-th neighbour distance gives?"""
    real = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    fake = torch.randn(25, 3, generator=gen, dtype=torch.float64) * 1.5
    radius = [sorted(float((real[i] - real[j]).norm()) for j in range(40) if j != i)[5 - 1] for i in range(40)]
    brute = sum(any(float((fake[j] - real[i]).norm()) <= radius[i] for j in range(25)) for i in range(40)) / 40
    assert coverage(real, fake, k=5, chunk=7) == brute
    assert 0.0 < brute < 1.0  # the case is not trivial
