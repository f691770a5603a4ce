"""Do the VAE references match torch.distributions and autograd, and expose the classic mistakes?"""
from __future__ import annotations

import torch
from torch.distributions import Normal, kl_divergence

from reference import vae

TOL = {"rtol": 1e-10, "atol": 1e-12}


def stats(gen, device, n=6, d=4):
    mu = torch.randn(n, d, generator=gen, dtype=torch.float64).to(device)
    logvar = torch.randn(n, d, generator=gen, dtype=torch.float64).to(device)
    return mu, logvar


def test_closed_form_kl_matches_torch_distributions(gen, device):
    """Is −½Σ(1 + log σ² − μ² − σ²) the KL torch.distributions computes between N(μ, σ²) and N(0, 1)?"""
    mu, logvar = stats(gen, device)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    torch.testing.assert_close(vae.kl_to_standard_normal(mu, logvar), expected, **TOL)


def test_closed_form_kl_agrees_with_monte_carlo(device):
    """Does a 200,000-sample Monte-Carlo estimate of E_q[log q − log p] agree with the closed form?"""
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.5, -1.0]], dtype=torch.float64, device=device)
    logvar = torch.tensor([[-0.5, 0.3]], dtype=torch.float64, device=device)
    z = vae.reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2), generator=g)
    q, p = Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert abs(mc.item() - vae.kl_to_standard_normal(mu, logvar).item()) < 0.01


def test_reparameterization_is_mu_plus_sigma_eps_and_differentiable(gen, device):
    """Is z = μ + exp(½ log σ²)·ε for a given ε, with gradients reaching μ and log σ², and is logvar-as-σ different?"""
    mu, logvar = (t.requires_grad_(True) for t in stats(gen, device))
    eps = torch.randn(mu.shape, generator=gen, dtype=torch.float64).to(device)
    z = vae.reparameterize(mu, logvar, eps)
    torch.testing.assert_close(z, mu + torch.exp(0.5 * logvar) * eps, **TOL)
    d_mu, d_logvar = torch.autograd.grad(z.sum(), [mu, logvar])
    torch.testing.assert_close(d_mu, torch.ones_like(mu), **TOL)
    torch.testing.assert_close(d_logvar, 0.5 * torch.exp(0.5 * logvar) * eps, **TOL)
    assert not torch.allclose(z, mu + logvar * eps)


def test_elbo_with_logits_equals_with_probabilities(gen, device):
    """Is the ELBO the same from logits (stable) and from probabilities, and does MSE give a different loss?"""
    x = torch.rand(5, 12, generator=gen, dtype=torch.float64).to(device)
    logits = torch.randn(5, 12, generator=gen, dtype=torch.float64).to(device)
    mu, logvar = stats(gen, device, 5, 3)
    a = vae.elbo(x, logits, mu, logvar, logits=True)
    b = vae.elbo(x, torch.sigmoid(logits), mu, logvar)
    torch.testing.assert_close(a["loss"], b["loss"], rtol=1e-9, atol=1e-9)
    assert a["kl"] > 0 and not torch.allclose(vae.elbo(x, torch.sigmoid(logits), mu, logvar, recon="mse")["loss"], a["loss"])


def test_model_shapes_sampling_and_interpolation():
    """Does the VAE return (x̂, μ, log σ²), sample from the prior and interpolate between codes?"""
    model = vae.VAE(784, 64, 4)
    x_hat, mu, logvar = model(torch.rand(3, 784))
    assert x_hat.shape == (3, 784) and mu.shape == logvar.shape == (3, 4)
    assert model.sample(5).shape == (5, 784)
    assert model.interpolate(torch.zeros(4), torch.ones(4), 6).shape == (6, 784)
