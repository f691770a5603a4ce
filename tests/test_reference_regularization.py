"""Do the L2/L1 updates, inverted dropout and batch norm match autograd, torch.optim and PyTorch's modules?"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reference import regularization as reg

TOL = {"rtol": 1e-10, "atol": 1e-12}
F64 = torch.float64


def randn(gen, device, *shape):
    return torch.randn(*shape, generator=gen, dtype=F64).to(device)


def weights_with_zeros(gen, device):
    """Random weights with a few exact zeros, where |w| has only a subgradient."""
    w = randn(gen, device, 5, 4)
    w[0, :2] = 0.0
    return w


def data_loss(w, target):
    return ((w - target) ** 2).sum()


@pytest.mark.parametrize("lr, lam", [(0.1, 0.3), (0.01, 2.0)])
def test_l2_update_is_a_gradient_step_on_the_penalised_loss(gen, device, lr, lam):
    """Is l2_update(w, ∂J/∂w) the step w − η ∇(J + λ‖W‖²) that autograd computes?"""
    w = weights_with_zeros(gen, device).requires_grad_(True)
    target = randn(gen, device, 5, 4)
    (grad,) = torch.autograd.grad(data_loss(w, target), w)
    (full,) = torch.autograd.grad(data_loss(w, target) + lam * (w**2).sum(), w)
    torch.testing.assert_close(reg.l2_update(w.detach(), grad, lr, lam), w.detach() - lr * full, **TOL)


@pytest.mark.parametrize("lr, lam", [(0.1, 0.3), (0.01, 2.0)])
def test_l1_update_is_a_subgradient_step_on_the_penalised_loss(gen, device, lr, lam):
    """Is l1_update(w, ∂J/∂w) the step w − η ∇(J + λ‖W‖₁) of autograd, with sign(0) = 0 at exact zeros?"""
    w = weights_with_zeros(gen, device).requires_grad_(True)
    target = randn(gen, device, 5, 4)
    (grad,) = torch.autograd.grad(data_loss(w, target), w)
    (full,) = torch.autograd.grad(data_loss(w, target) + lam * w.abs().sum(), w)
    new = reg.l1_update(w.detach(), grad, lr, lam)
    torch.testing.assert_close(new, w.detach() - lr * full, **TOL)
    torch.testing.assert_close(new[0, :2], -lr * grad[0, :2], **TOL)  # no penalty pull where w = 0


def test_l2_update_is_sgd_with_weight_decay_two_lambda(gen, device):
    """Is the L2 step exactly torch.optim.SGD(lr=η, weight_decay=2λ)'s step, over three iterations?"""
    lr, lam = 0.05, 0.4
    w = randn(gen, device, 6, 3)
    target = randn(gen, device, 6, 3)
    param = torch.nn.Parameter(w.clone())
    opt = torch.optim.SGD([param], lr=lr, weight_decay=2 * lam)
    for _ in range(3):
        opt.zero_grad()
        data_loss(param, target).backward()
        (grad,) = torch.autograd.grad(data_loss(w.requires_grad_(True), target), w)
        w = reg.l2_update(w.detach(), grad, lr, lam)
        opt.step()
    torch.testing.assert_close(w, param.detach(), **TOL)


def test_regularised_updates_leave_inputs_unchanged(gen, device):
    """Do l2_update and l1_update return new tensors rather than changing w in place?"""
    w, g = randn(gen, device, 4), randn(gen, device, 4)
    before = w.clone()
    reg.l2_update(w, g, 0.1, 0.5)
    reg.l1_update(w, g, 0.1, 0.5)
    assert torch.equal(w, before)


def test_dropout_given_a_mask_is_exact(gen, device):
    """Given a mask, is y exactly x·mask/(1 − p), with a float 0/1 mask treated like the bool one?"""
    x = randn(gen, device, 4, 6)
    mask = torch.rand(4, 6, generator=gen).to(device) < 0.6
    y, used = reg.dropout(x, 0.25, mask=mask)
    torch.testing.assert_close(y, torch.where(mask, x / 0.75, torch.zeros_like(x)), **TOL)
    assert torch.equal(used, mask)
    y_float, _ = reg.dropout(x, 0.25, mask=mask.to(F64))
    torch.testing.assert_close(y_float, y, **TOL)


def test_dropout_scales_like_pytorch_given_the_same_mask(gen, device):
    """With the units F.dropout and nn.Dropout dropped, is our y their output (same 1/(1 − p) scaling)?"""
    x = randn(gen, device, 2000) + 5.0  # no exact zeros, so F.dropout's zeros are its mask
    for p in (0.1, 0.5, 0.9):
        for theirs in (F.dropout(x, p, training=True), torch.nn.Dropout(p).train()(x)):
            ours, _ = reg.dropout(x, p, mask=theirs != 0)
            torch.testing.assert_close(ours, theirs, **TOL)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.7])
def test_dropout_keeps_the_mean_statistically(gen, device, p):
    """Over 20 000 draws, is the mean of y within 6 standard errors of x (E[y] = x), and the kept fraction ≈ 1 − p?

    Without the 1/(1 − p) rescaling, the mean would be (1 − p)x, over 40 standard errors away for these p.
    """
    draws = 20_000
    x = torch.linspace(-2.0, 3.0, 25, dtype=F64, device=device)
    y, mask = reg.dropout(x.expand(draws, -1).contiguous(), p, generator=gen)
    se = x.abs() * math.sqrt(p / (1 - p)) / math.sqrt(draws)  # std of y_i is |x_i|·√(p/(1−p))
    assert (y.mean(dim=0) - x).abs().le(6 * se + 1e-12).all()
    kept = mask.to(F64).mean().item()
    assert abs(kept - (1 - p)) < 6 * math.sqrt(p * (1 - p) / mask.numel())


def test_dropout_mask_is_reproducible_and_on_the_device(gen, device):
    """Does the same seed give the same bool mask on the requested device, a different seed a different one?"""
    seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    a = reg.dropout_mask((50, 40), 0.5, torch.Generator().manual_seed(seed), device)
    b = reg.dropout_mask((50, 40), 0.5, torch.Generator().manual_seed(seed), device)
    c = reg.dropout_mask((50, 40), 0.5, torch.Generator().manual_seed(seed + 1), device)
    assert a.dtype == torch.bool and a.device.type == device.type and a.shape == (50, 40)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_dropout_edge_cases(gen, device):
    """Do p = 0 and evaluation return x unchanged, p = 1 give zeros (not NaN), and p outside [0, 1] or a wrong mask refuse?"""
    x = randn(gen, device, 3, 4)
    for y, mask in (reg.dropout(x, 0.0, generator=gen), reg.dropout(x, 0.5, training=False)):
        assert torch.equal(y, x) and mask.all() and mask.shape == x.shape
    y, mask = reg.dropout(x, 1.0, generator=gen)
    assert torch.equal(y, torch.zeros_like(x)) and not mask.any()
    assert torch.equal(reg.dropout_mask((3, 4), 0.0, gen, device), torch.ones(3, 4, dtype=torch.bool, device=device))
    for bad_p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            reg.dropout(x, bad_p)
    with pytest.raises(ValueError, match="shape"):
        reg.dropout(x, 0.5, mask=torch.ones(4, 3, dtype=torch.bool, device=device))


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 6, 7), (2, 3, 5, 5), (6, 4, 9)])
def test_batch_norm_matches_functional_batch_norm(gen, device, shape):
    """Is batch_norm_train F.batch_norm(training=True), with the batch mean and the biased variance as its statistics?"""
    x = randn(gen, device, *shape) * 2 + 1
    c = shape[1]
    gamma, beta = randn(gen, device, c), randn(gen, device, c)
    y, mean, var = reg.batch_norm_train(x, gamma, beta)
    expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    torch.testing.assert_close(y, expected, **TOL)
    dims = (0, *range(2, x.dim()))
    assert mean.shape == var.shape == (c,)
    torch.testing.assert_close(mean, x.mean(dim=dims), **TOL)
    torch.testing.assert_close(var, x.var(dim=dims, correction=0), **TOL)


@pytest.mark.parametrize("shape, module", [((10, 5), torch.nn.BatchNorm1d), ((4, 3, 5, 6), torch.nn.BatchNorm2d)])
def test_batch_norm_matches_the_modules_in_train_mode(gen, device, shape, module):
    """Is it nn.BatchNorm1d/2d in train mode with random γ, β and ε = 0.1; and is the module's running_var the unbiased one?"""
    x = randn(gen, device, *shape) * 3 - 2
    c = shape[1]
    bn = module(c, eps=0.1, momentum=1.0).to(device=device, dtype=F64).train()
    with torch.no_grad():
        bn.weight.copy_(randn(gen, device, c))
        bn.bias.copy_(randn(gen, device, c))
    expected = bn(x).detach()
    y, mean, var = reg.batch_norm_train(x, bn.weight.detach(), bn.bias.detach(), eps=0.1)
    torch.testing.assert_close(y, expected, **TOL)
    m = x.numel() // c  # values per channel
    torch.testing.assert_close(bn.running_mean, mean, **TOL)
    torch.testing.assert_close(bn.running_var, var * m / (m - 1), **TOL)


def test_batch_norm_output_is_normalised_before_scale_and_shift(gen, device):
    """With γ = 1 and β = 0, does every channel come out with mean 0 and (biased) variance ≈ 1?"""
    x = randn(gen, device, 16, 3, 4, 4) * 5 + 7
    ones, zeros = torch.ones(3, dtype=F64, device=device), torch.zeros(3, dtype=F64, device=device)
    y, _, _ = reg.batch_norm_train(x, ones, zeros, eps=0.0)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), zeros, rtol=0, atol=1e-12)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), correction=0), ones, **TOL)
