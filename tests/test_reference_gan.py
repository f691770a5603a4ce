"""Do the GAN losses match their formulas, does the step freeze D during G's update, and does training cover modes?"""
from __future__ import annotations

import torch

from reference import gan

TOL = {"rtol": 1e-10, "atol": 1e-12}


def test_losses_match_the_log_formulas(gen, device):
    """Are the D and G losses −log D(x) − log(1 − D(G(z))) and −log D(G(z)), averaged, from logits?"""
    real = torch.randn(7, generator=gen, dtype=torch.float64).to(device)
    fake = torch.randn(7, generator=gen, dtype=torch.float64).to(device)
    d_x, d_gz = torch.sigmoid(real), torch.sigmoid(fake)
    torch.testing.assert_close(gan.discriminator_loss(real, fake), (-torch.log(d_x) - torch.log(1 - d_gz)).mean(), **TOL)
    torch.testing.assert_close(gan.generator_loss_nonsaturating(fake), -torch.log(d_gz).mean(), **TOL)
    torch.testing.assert_close(gan.generator_loss_saturating(fake), torch.log(1 - d_gz).mean(), **TOL)


def _setup(seed=0):
    torch.manual_seed(seed)
    G, D = gan.Generator().double(), gan.Discriminator().double()
    return G, D, torch.optim.SGD(G.parameters(), lr=0.05), torch.optim.SGD(D.parameters(), lr=0.05)


def test_step_updates_d_then_g_with_d_frozen():
    """Does the G update leave D's parameters untouched, while both networks change over the step?"""
    G, D, opt_G, opt_D = _setup()
    real, z = gan.mixture_of_gaussians(32, generator=torch.Generator().manual_seed(1)), torch.randn(32, 2, dtype=torch.float64)
    g_before = [p.clone() for p in G.parameters()]
    d_before = [p.clone() for p in D.parameters()]
    d_after_d_step = {}
    original = opt_G.step

    def spy_step(*args, **kwargs):  # D's parameters right before G's update
        d_after_d_step["params"] = [p.clone() for p in D.parameters()]
        return original(*args, **kwargs)

    opt_G.step = spy_step
    gan.gan_step(G, D, opt_G, opt_D, real, z)
    assert any(not torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(d_after_d_step["params"], D.parameters()))
    assert all(p.requires_grad for p in D.parameters())


def test_gradients_do_not_accumulate_across_steps():
    """Is the second of two identical steps the same as a first step (grads zeroed, not accumulated)?"""
    real, z = gan.mixture_of_gaussians(16, generator=torch.Generator().manual_seed(2)), torch.randn(16, 2, dtype=torch.float64)
    G, D, opt_G, opt_D = _setup(3)
    gan.gan_step(G, D, opt_G, opt_D, real, z)
    snapshot = ([p.clone() for p in G.parameters()], [p.clone() for p in D.parameters()])
    first = gan.gan_step(G, D, opt_G, opt_D, real, z)
    G2, D2, opt_G2, opt_D2 = _setup(3)
    with torch.no_grad():
        for p, q in zip(list(G2.parameters()) + list(D2.parameters()), snapshot[0] + snapshot[1]):
            p.copy_(q)
    again = gan.gan_step(G2, D2, opt_G2, opt_D2, real, z)
    assert abs(first["d_loss"] - again["d_loss"]) < 1e-12 and abs(first["g_loss"] - again["g_loss"]) < 1e-12


def test_training_on_the_ring_covers_most_modes():
    """Does a short training run on the 8-Gaussian ring cover at least 6 modes with a fixed seed?"""
    torch.manual_seed(0)
    G, D = gan.Generator(hidden=128), gan.Discriminator(hidden=128)
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    data_gen = torch.Generator().manual_seed(0)
    for _ in range(1500):
        real = gan.mixture_of_gaussians(128, std=0.05, generator=data_gen).float()
        gan.gan_step(G, D, opt_G, opt_D, real, torch.randn(128, 2))
    with torch.no_grad():
        covered, quality = gan.mode_coverage(G(torch.randn(2000, 2)), std=0.05)
    assert covered >= 6, (covered, quality)


def test_mode_coverage_measures_collapse():
    """Does mode_coverage see 8 modes in real data and 1 in a collapsed generator's output?"""
    real = gan.mixture_of_gaussians(1000, generator=torch.Generator().manual_seed(0))
    assert gan.mode_coverage(real)[0] == 8 and gan.mode_coverage(real)[1] > 0.95
    collapsed = gan.ring_modes()[:1].expand(100, 2)
    assert gan.mode_coverage(collapsed) == (1, 1.0)
