"""Do the L2/L1 updates, inverted dropout and batch norm match autograd and PyTorch's modules?"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import regularization as reg

TOL = {"rtol": 1e-10, "atol": 1e-12}


def test_l2_and_l1_updates_are_gradient_steps_on_the_penalised_loss(gen, device):
    """Is each update one gradient step on J + λ‖W‖² (or J + λ‖W‖₁), and L2 torch's SGD with weight_decay 2λ?"""
    w = torch.randn(5, 4, generator=gen, dtype=torch.float64).to(device).requires_grad_(True)
    target = torch.randn(5, 4, generator=gen, dtype=torch.float64).to(device)
    lr, lam = 0.1, 0.3
    data_loss = ((w - target) ** 2).sum()
    (grad,) = torch.autograd.grad(data_loss, w)
    for update, penalty in ((reg.l2_update, lam * (w**2).sum()), (reg.l1_update, lam * w.abs().sum())):
        (full,) = torch.autograd.grad(((w - target) ** 2).sum() + penalty, w)
        torch.testing.assert_close(update(w.detach(), grad, lr, lam), w.detach() - lr * full, **TOL)
    p = torch.nn.Parameter(w.detach().clone())
    opt = torch.optim.SGD([p], lr=lr, weight_decay=2 * lam)
    p.grad = grad.clone()
    opt.step()
    torch.testing.assert_close(p.detach(), reg.l2_update(w.detach(), grad, lr, lam), **TOL)


def test_dropout_rescales_kept_units_and_keeps_the_mean(gen, device):
    """Given a mask, is y = x·mask/(1−p), as F.dropout scales; and is E[y] ≈ x over many draws?"""
    x = torch.randn(4, 6, generator=gen, dtype=torch.float64).to(device)
    y, mask = reg.dropout(x, 0.25, generator=gen)
    torch.testing.assert_close(y, x * mask / 0.75, **TOL)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    ones = torch.ones(200_000, dtype=torch.float64, device=device)
    sample, _ = reg.dropout(ones, 0.3, generator=gen)
    assert abs(sample.mean().item() - 1.0) < 0.01  # 5 standard errors of the mean
    torch_y = F.dropout(ones[:1000], 0.3)
    same_mask = (torch_y != 0).to(ones.dtype)  # PyTorch's draw, our scaling
    torch.testing.assert_close(reg.dropout(ones[:1000], 0.3, mask=same_mask)[0], torch_y, **TOL)


def test_dropout_edge_cases(device):
    """Does p = 0 or evaluation change nothing, p = 1 give zeros (not NaN), and p > 1 refuse?"""
    x = torch.arange(6.0, dtype=torch.float64, device=device)
    assert torch.equal(reg.dropout(x, 0.0)[0], x) and torch.equal(reg.dropout(x, 0.5, training=False)[0], x)
    assert torch.equal(reg.dropout(x, 1.0)[0], torch.zeros_like(x))
    with pytest.raises(ValueError):
        reg.dropout(x, 1.5)


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 6, 7)])
def test_batch_norm_matches_pytorch_in_training_mode(gen, device, shape):
    """Is batch_norm_train F.batch_norm(training=True), and its statistics the batch mean and biased variance?"""
    x = torch.randn(*shape, generator=gen, dtype=torch.float64).to(device) * 2 + 1
    c = shape[1]
    gamma = torch.randn(c, generator=gen, dtype=torch.float64).to(device)
    beta = torch.randn(c, generator=gen, dtype=torch.float64).to(device)
    y, mean, var = reg.batch_norm_train(x, gamma, beta)
    expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    torch.testing.assert_close(y, expected, **TOL)
    dims = (0,) if x.dim() == 2 else (0, 2, 3)
    torch.testing.assert_close(var, x.var(dim=dims, unbiased=False), **TOL)
