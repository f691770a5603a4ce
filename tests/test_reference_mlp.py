"""Do the MLP forward pass, the hand-written back-propagation and SGD match PyTorch and autograd?"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from reference import mlp

TOL = {"rtol": 1e-10, "atol": 1e-12}
SIZES = (12, 8, 6, 4)  # k_0 .. k_3


def params(gen, device):
    out = {}
    for i in (1, 2, 3):
        out[f"A{i}"] = torch.randn(SIZES[i], SIZES[i - 1], generator=gen, dtype=torch.float64).to(device)
        out[f"b{i}"] = torch.randn(SIZES[i], generator=gen, dtype=torch.float64).to(device)
    return out


def batch(gen, device, n=10):
    X = torch.randn(n, SIZES[0], generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, SIZES[3], (n,), generator=gen).to(device)
    return X, y


def test_cross_entropy_matches_pytorch(gen, device):
    """Are both cross-entropy forms equal to F.cross_entropy, and stable for huge logits?"""
    logits = torch.randn(7, 5, generator=gen, dtype=torch.float64).to(device) * 3
    y = torch.randint(0, 5, (7,), generator=gen).to(device)
    torch.testing.assert_close(mlp.cross_entropy(logits, y), F.cross_entropy(logits, y), **TOL)
    probs, onehot = torch.softmax(logits, -1), F.one_hot(y, 5).double()
    torch.testing.assert_close(mlp.cross_entropy_from_probs(probs, onehot), F.cross_entropy(logits, y), **TOL)
    assert torch.isfinite(mlp.cross_entropy(logits * 1000, y))


def test_forward_matches_an_nn_sequential(gen, device):
    """Is the forward pass the softmax of Linear-ReLU-Linear-ReLU-Linear with the same weights?"""
    p = params(gen, device)
    X, _ = batch(gen, device)
    net = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4)).double().to(device)
    with torch.no_grad():
        for layer, i in zip((net[0], net[2], net[4]), (1, 2, 3)):
            layer.weight.copy_(p[f"A{i}"])
            layer.bias.copy_(p[f"b{i}"])
    probs, _ = mlp.mlp3_forward(X, p)
    torch.testing.assert_close(probs, torch.softmax(net(X), -1).detach(), **TOL)


def test_manual_backward_matches_autograd(gen, device):
    """Are the lecture's chain-rule gradients of the mean cross-entropy exactly autograd's, for every A_i and b_i?"""
    p = {k: v.requires_grad_(True) for k, v in params(gen, device).items()}
    X, y = batch(gen, device)
    probs, cache = mlp.mlp3_forward(X, p)
    loss = F.nll_loss(torch.log(probs), y)
    auto = dict(zip(p, torch.autograd.grad(loss, list(p.values()))))
    manual = mlp.mlp3_backward({k: v.detach() for k, v in cache.items()}, {k: v.detach() for k, v in p.items()}, y)
    for name in p:
        torch.testing.assert_close(manual[name], auto[name], **TOL, msg=f"gradient of {name}")


def test_sgd_step_and_minibatches(gen, device):
    """Does SGD move against the gradient without touching its inputs, and do mini-batches cover ⌊N/b⌋·b samples once?"""
    p = params(gen, device)
    g = {k: torch.ones_like(v) for k, v in p.items()}
    new = mlp.sgd_step(p, g, 0.1)
    torch.testing.assert_close(new["A1"], p["A1"] - 0.1, **TOL)
    batches = list(mlp.minibatches(103, 10, gen))
    assert len(batches) == 10 and len(torch.cat(batches).unique()) == 100
