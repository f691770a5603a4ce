"""Do the autoencoder references compute the lecture's penalties and corruptions, and train on real digits?"""
from __future__ import annotations

import math

import torch

from grader.data import load_mnist
from reference import autoencoder as ae

TOL = {"rtol": 1e-10, "atol": 1e-12}


def codes(gen, device, m=50, s=8):
    return torch.sigmoid(torch.randn(m, s, generator=gen, dtype=torch.float64) * 2).to(device)


def test_kl_penalty_matches_the_formula_and_autograd(gen, device):
    """Is β Σ_j KL(ρ‖ρ̂_j) the slide's formula with ρ̂ averaged over samples, and differentiable?"""
    a = codes(gen, device).requires_grad_(True)
    rho, beta = 0.05, 3.0
    got = ae.kl_sparsity_penalty(a, rho, beta)
    rho_hat = a.mean(0)
    direct = beta * sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in rho_hat.tolist())
    assert abs(got.item() - direct) < 1e-10
    (grad,) = torch.autograd.grad(got, a)
    expected = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / a.shape[0]
    torch.testing.assert_close(grad, expected.detach().expand_as(a), **TOL)


def test_kl_is_zero_at_target_and_mistakes_are_detectable(gen, device):
    """Is the KL 0 when ρ̂ = ρ and positive otherwise, and do swapped arguments or the wrong axis change it?"""
    assert ae.kl_sparsity_penalty(torch.full((10, 4), 0.05, dtype=torch.float64, device=device), 0.05, 1.0).abs() < 1e-12
    a = codes(gen, device)
    right = ae.kl_sparsity_penalty(a, 0.05, 1.0)
    assert right > 0
    rho_hat = a.mean(0)
    swapped = (rho_hat * torch.log(rho_hat / 0.05) + (1 - rho_hat) * torch.log((1 - rho_hat) / 0.95)).sum()
    wrong_axis = ae.kl_bernoulli(0.05, a.mean(1)).sum()
    assert abs(swapped - right) > 1e-3 and abs(wrong_axis - right) > 1e-3


def test_l1_activity_penalty(gen, device):
    """Is the L1 penalty λ·mean over samples of Σ_j |a_j|?"""
    a = torch.randn(6, 5, generator=gen, dtype=torch.float64).to(device)
    torch.testing.assert_close(ae.l1_activity_penalty(a, 0.1), 0.1 * a.abs().sum() / 6, **TOL)


def test_corruptions_keep_shape_and_have_the_right_statistics(device):
    """Do the noises keep shape, dtype and device, mask a fraction ≈ p, add std ≈ σ, and reproduce with a seed?"""
    x = torch.full((200, 500), 0.5, dtype=torch.float64, device=device)
    g = lambda: torch.Generator().manual_seed(7)
    masked = ae.masking_noise(x, 0.3, g())
    assert masked.shape == x.shape and masked.dtype == x.dtype and masked.device == x.device
    assert abs((masked == 0).double().mean().item() - 0.3) < 0.01
    noisy = ae.gaussian_noise(x, 0.1, g(), clip=False)
    assert abs((noisy - x).std().item() - 0.1) < 0.002
    assert torch.equal(ae.masking_noise(x, 0.3, g()), masked)
    assert ae.gaussian_noise(x, 2.0, g()).max() <= 1.0


def test_models_have_the_lecture_shapes():
    """Does the dense AE have 784·32+32 + 32·784+784 parameters, and the conv AE map 1×28×28 to itself?"""
    dense = ae.DenseAutoencoder()
    assert sum(p.numel() for p in dense.parameters()) == 784 * 32 + 32 + 32 * 784 + 784
    assert dense.encode(torch.zeros(2, 784)).shape == (2, 32)
    assert ae.ConvAutoencoder()(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 28, 28)
    assert ae.DenseAutoencoder(hidden_dims=(128,))(torch.zeros(3, 784)).shape == (3, 784)


def test_training_on_real_digits_reduces_the_loss():
    """Do 150 Adam steps on 500 MNIST digits bring the reconstruction loss clearly down (denoising too)?"""
    torch.manual_seed(0)
    X = torch.from_numpy(load_mnist("train")[0][:500])
    losses = ae.train_autoencoder(ae.DenseAutoencoder(), X, steps=150, lr=3e-3)
    assert sum(losses[-10:]) / 10 < 0.75 * sum(losses[:10]) / 10
    noisy = ae.train_autoencoder(ae.DenseAutoencoder(), X, steps=150, lr=3e-3, noise=lambda b: ae.masking_noise(b, 0.3))
    assert sum(noisy[-10:]) / 10 < 0.8 * sum(noisy[:10]) / 10
