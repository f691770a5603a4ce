"""Do the MLP forward pass, the hand-written back-propagation, the cross-entropy and SGD match PyTorch and autograd?"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import mlp

TOL = {"rtol": 1e-10, "atol": 1e-12}
F64 = torch.float64
SIZES = (12, 8, 6, 4)  # k_0 .. k_3; the slide's figure has k_2 = 8 and 4 classes, any sizes work


def make_params(gen, device, sizes=SIZES):
    """A_i (k_i, k_{i-1}) and b_i (k_i,) drawn like nn.Linear's default, so that some ReLUs are off and some on."""
    params = {}
    for i in (1, 2, 3):
        bound = sizes[i - 1] ** -0.5
        params[f"A{i}"] = ((torch.rand(sizes[i], sizes[i - 1], generator=gen, dtype=F64) * 2 - 1) * bound).to(device)
        params[f"b{i}"] = ((torch.rand(sizes[i], generator=gen, dtype=F64) * 2 - 1) * bound).to(device)
    return params


def make_batch(gen, device, n=10, sizes=SIZES):
    X = torch.randn(n, sizes[0], generator=gen, dtype=F64).to(device)
    y = torch.randint(0, sizes[3], (n,), generator=gen).to(device)
    return X, y


def sequential_with(params, device):
    """nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) holding copies of the given A_i and b_i."""
    net = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    ).to(device=device, dtype=F64)
    with torch.no_grad():
        for layer, i in zip((net[0], net[2], net[4]), (1, 2, 3)):
            layer.weight.copy_(params[f"A{i}"])
            layer.bias.copy_(params[f"b{i}"])
    return net


def test_cross_entropy_from_logits_matches_pytorch(gen, device):
    """Is cross_entropy(logits, y) F.cross_entropy's mean loss, and finite and still equal for logits scaled by 1000?"""
    logits = torch.randn(7, 5, generator=gen, dtype=F64).to(device) * 3
    y = torch.randint(0, 5, (7,), generator=gen).to(device)
    torch.testing.assert_close(mlp.cross_entropy(logits, y), F.cross_entropy(logits, y), **TOL)
    huge = mlp.cross_entropy(logits * 1000, y)
    assert torch.isfinite(huge)
    torch.testing.assert_close(huge, F.cross_entropy(logits * 1000, y), **TOL)


def test_cross_entropy_from_probs_is_the_slide_formula(gen, device):
    """Is −(1/N) Σ_i Σ_j y_ij log ŷ_ij with one-hot y the same loss as F.cross_entropy on the logits?"""
    logits = torch.randn(9, 4, generator=gen, dtype=F64).to(device)
    y = torch.randint(0, 4, (9,), generator=gen).to(device)
    probs, onehot = torch.softmax(logits, -1), F.one_hot(y, 4).to(F64)
    torch.testing.assert_close(mlp.cross_entropy_from_probs(probs, onehot), F.cross_entropy(logits, y), **TOL)


def test_cross_entropy_worked_example(device):
    """For ŷ = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]] and labels 0 and 2, is the loss (−log 0.7 − log 0.8)/2 = 0.2899?"""
    y_hat = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=F64, device=device)
    onehot = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64, device=device)
    loss = mlp.cross_entropy_from_probs(y_hat, onehot)
    assert round(loss.item(), 4) == 0.2899
    logits = torch.log(y_hat) + 3.0  # any logits whose softmax is y_hat
    torch.testing.assert_close(mlp.cross_entropy(logits, torch.tensor([0, 2], device=device)), loss, **TOL)


def test_forward_matches_an_nn_sequential(gen, device):
    """Is the forward pass the softmax of Linear-ReLU-Linear-ReLU-Linear with the same weights, with a consistent cache?"""
    p = make_params(gen, device)
    X, _ = make_batch(gen, device)
    probs, cache = mlp.mlp3_forward(X, p)
    net = sequential_with(p, device)
    with torch.no_grad():
        torch.testing.assert_close(probs, torch.softmax(net(X), -1), **TOL)
        torch.testing.assert_close(cache["z3"], net(X), **TOL)
        torch.testing.assert_close(cache["x1"], net[1](net[0](X)), **TOL)
        torch.testing.assert_close(cache["x2"], net[3](net[2](cache["x1"])), **TOL)
    assert cache["x0"] is X and cache["x3"] is probs
    for i, k in enumerate(SIZES):
        assert cache[f"x{i}"].shape == (10, k)
        if i:
            assert cache[f"z{i}"].shape == (10, k)
    assert (cache["x1"] == 0).any() and (cache["x1"] > 0).any(), "the test should cover both sides of the ReLU"


@pytest.mark.parametrize("labels", ["integers", "one-hot"])
def test_manual_backward_matches_autograd(gen, device, labels):
    """Are the chain-rule gradients of the mean cross-entropy autograd's, for every A_i and b_i, given labels or one-hot y?"""
    p = {k: v.requires_grad_(True) for k, v in make_params(gen, device).items()}
    X, y = make_batch(gen, device, n=16)
    _, cache = mlp.mlp3_forward(X, p)
    loss = F.cross_entropy(cache["z3"], y)  # PyTorch's loss on the logits, independent of mlp.cross_entropy
    auto = dict(zip(p, torch.autograd.grad(loss, list(p.values()))))
    y_given = y if labels == "integers" else F.one_hot(y, SIZES[3]).to(F64)
    manual = mlp.mlp3_backward({k: v.detach() for k, v in cache.items()}, {k: v.detach() for k, v in p.items()}, y_given)
    assert list(manual) == list(mlp.PARAM_NAMES)
    for name, param in p.items():
        assert manual[name].shape == param.shape
        torch.testing.assert_close(manual[name], auto[name], **TOL, msg=lambda m, name=name: f"gradient of {name}: {m}")


def test_backward_of_a_single_sample_is_the_slide_formula(gen, device):
    """For N = 1, is ∂l/∂A_3 the slide's outer product (ŷ − y) x_2ᵀ and ∂l/∂b_3 = ŷ − y?"""
    p = make_params(gen, device)
    X, y = make_batch(gen, device, n=1)
    probs, cache = mlp.mlp3_forward(X, p)
    grads = mlp.mlp3_backward(cache, p, y)
    delta = probs[0] - F.one_hot(y[0], SIZES[3]).to(F64)  # (K,)
    torch.testing.assert_close(grads["A3"], torch.outer(delta, cache["x2"][0]), **TOL)
    torch.testing.assert_close(grads["b3"], delta, **TOL)


def test_sgd_step_is_pure_and_matches_torch_optim(gen, device):
    """Is sgd_step θ − lr·∇θ for random gradients, equal to torch.optim.SGD's step, leaving its inputs unchanged?"""
    p = make_params(gen, device)
    g = {k: torch.randn(v.shape, generator=gen, dtype=F64).to(device) for k, v in p.items()}
    before = {k: v.clone() for k, v in p.items()}
    new = mlp.sgd_step(p, g, 0.05)
    torched = {k: torch.nn.Parameter(v.clone()) for k, v in p.items()}
    opt = torch.optim.SGD(torched.values(), lr=0.05)
    for k, t in torched.items():
        t.grad = g[k].clone()
    opt.step()
    for k in p:
        assert torch.equal(p[k], before[k]), f"sgd_step changed its input {k}"
        torch.testing.assert_close(new[k], torched[k].detach(), **TOL)


def test_three_sgd_epochs_by_hand_equal_pytorch_training(gen, device):
    """Do forward, manual backward and sgd_step over mini-batches train exactly as nn.Sequential + CrossEntropyLoss + SGD?"""
    p = make_params(gen, device)
    X, y = make_batch(gen, device, n=40)
    net = sequential_with(p, device)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    for idx in (b for _ in range(3) for b in mlp.minibatches(40, 8, torch.Generator().manual_seed(seed))):
        _, cache = mlp.mlp3_forward(X[idx], p)
        p = mlp.sgd_step(p, mlp.mlp3_backward(cache, p, y[idx]), lr=0.1)
        opt.zero_grad()
        F.cross_entropy(net(X[idx]), y[idx]).backward()
        opt.step()
    for layer, i in zip((net[0], net[2], net[4]), (1, 2, 3)):
        torch.testing.assert_close(p[f"A{i}"], layer.weight.detach(), **TOL)
        torch.testing.assert_close(p[f"b{i}"], layer.bias.detach(), **TOL)


def test_minibatches_cover_floor_n_over_b_batches_once(gen):
    """Does one epoch give ⌊N/b⌋ batches of b distinct indices, none repeated, the same for the same seed?"""
    seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    batches = list(mlp.minibatches(103, 10, torch.Generator().manual_seed(seed)))
    assert len(batches) == 10 and all(b.shape == (10,) and b.dtype == torch.int64 for b in batches)
    seen = torch.cat(batches)
    assert len(seen.unique()) == 100 and seen.min() >= 0 and seen.max() < 103
    again = list(mlp.minibatches(103, 10, torch.Generator().manual_seed(seed)))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))
    assert not torch.equal(seen, torch.arange(100)), "the batches should be drawn at random, not in order"
    assert len(list(mlp.minibatches(8, 8, gen))) == 1


@pytest.mark.parametrize("batch_size", [0, 11])
def test_minibatches_refuse_an_impossible_batch_size(batch_size):
    """Is a batch size of 0, or larger than N (⌊N/b⌋ = 0 batches), refused with a message instead of an empty epoch?"""
    with pytest.raises(ValueError, match="batch_size"):
        list(mlp.minibatches(10, batch_size))
