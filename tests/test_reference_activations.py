"""Do the reference activations and their derivatives match PyTorch's own functions and autograd?"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import activations as ref

TOL = {"rtol": 1e-10, "atol": 1e-12}
F64 = torch.float64

# PyTorch's version of each elementwise activation, with the reference's default α.
TORCH_EQUIVALENTS = {
    "linear": lambda x: x.clone(),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "elu": lambda x: F.elu(x, 1.0),
    "swish": F.silu,
}


def random_input(gen, device, shape=(7, 9), scale=3.0):
    """Normal float64 values, with exact zeros (the kinks) and a few large and tiny magnitudes mixed in."""
    x = torch.randn(shape, generator=gen, dtype=F64) * scale
    flat = x.view(-1)
    flat[:4] = torch.tensor([0.0, -0.0, 1e-9, -1e-9], dtype=F64)
    flat[4:8] = torch.tensor([40.0, -40.0, 700.0, -700.0], dtype=F64)
    return x.to(device)


def test_activations_table_lists_every_elementwise_function():
    """Does ACTIVATIONS map each of the lecture's elementwise activations to its (function, derivative) pair?"""
    assert set(ref.ACTIVATIONS) == set(TORCH_EQUIVALENTS)
    for name, (fn, grad) in ref.ACTIVATIONS.items():
        assert fn is getattr(ref, name) and grad is getattr(ref, f"{name}_grad")


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS))
def test_activation_matches_pytorch(name, gen, device):
    """Does each activation equal PyTorch's on random float64 inputs (zeros and ±700 included), keeping shape, dtype and device?"""
    x = random_input(gen, device)
    out = ref.ACTIVATIONS[name][0](x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    torch.testing.assert_close(out, TORCH_EQUIVALENTS[name](x), **TOL)


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS))
def test_derivative_matches_autograd(name, gen, device):
    """Is each `<name>_grad(x)` the derivative autograd computes at x, with autograd's convention at the kink x = 0?"""
    x = random_input(gen, device).requires_grad_(True)
    (auto,) = torch.autograd.grad(TORCH_EQUIVALENTS[name](x).sum(), x)
    got = ref.ACTIVATIONS[name][1](x.detach())
    assert got.shape == x.shape and got.dtype == x.dtype and got.device == x.device
    torch.testing.assert_close(got, auto, **TOL)


@pytest.mark.parametrize("alpha", [0.2, 0.5, 2.0])
def test_alpha_is_used_by_leaky_relu_and_elu(gen, device, alpha):
    """Do leaky_relu and elu and their derivatives use the α they are given, as F.leaky_relu and F.elu do?"""
    x = random_input(gen, device).requires_grad_(True)
    for ours, ours_grad, theirs in (
        (ref.leaky_relu, ref.leaky_relu_grad, lambda v: F.leaky_relu(v, alpha)),
        (ref.elu, ref.elu_grad, lambda v: F.elu(v, alpha)),
    ):
        expected = theirs(x)
        (auto,) = torch.autograd.grad(expected.sum(), x)
        torch.testing.assert_close(ours(x.detach(), alpha), expected.detach(), **TOL)
        torch.testing.assert_close(ours_grad(x.detach(), alpha), auto, **TOL)


def test_tanh_keeps_relative_precision_near_zero(device):
    """Is tanh(1e-12) about 1e-12 to full relative precision, not the 1e-16 noise of 2σ(2x) − 1 or (e^x − e^-x)/(e^x + e^-x)?"""
    x = torch.tensor([1e-12, -3e-15, 1e-300], dtype=F64, device=device)
    torch.testing.assert_close(ref.tanh(x), torch.tanh(x), rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_and_log_softmax_match_pytorch_along_any_axis(gen, device, dim):
    """Do softmax and log_softmax equal F.softmax / F.log_softmax along the axis given?"""
    x = torch.randn(4, 5, 6, generator=gen, dtype=F64).to(device) * 3
    torch.testing.assert_close(ref.softmax(x, dim=dim), F.softmax(x, dim=dim), **TOL)
    torch.testing.assert_close(ref.log_softmax(x, dim=dim), F.log_softmax(x, dim=dim), **TOL)


def test_softmax_default_axis_is_the_last(gen, device):
    """Without `dim`, does softmax normalise each row of a batch (the last axis), not the columns?"""
    x = torch.randn(3, 5, generator=gen, dtype=F64).to(device)
    torch.testing.assert_close(ref.softmax(x), F.softmax(x, dim=-1), **TOL)
    torch.testing.assert_close(ref.log_softmax(x), F.log_softmax(x, dim=-1), **TOL)


def test_softmax_is_stable_for_huge_logits(device):
    """Do logits of ±1000 give finite probabilities equal to F.softmax's, where the naive formula gives NaN?"""
    x = torch.tensor([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]],
                     dtype=F64, device=device)
    s = ref.softmax(x)
    assert torch.isfinite(s).all()
    torch.testing.assert_close(s, F.softmax(x, dim=-1), **TOL)
    naive = torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)
    assert torch.isnan(naive).any(), "the naive formula overflows here, so this test can tell them apart"


def test_log_softmax_is_finite_where_log_of_softmax_is_not(device):
    """Is log_softmax([0, −1000]) = [0, −1000] (to rounding), where log(softmax(x)) gives −inf?"""
    x = torch.tensor([0.0, -1000.0], dtype=F64, device=device)
    torch.testing.assert_close(ref.log_softmax(x), torch.tensor([0.0, -1000.0], dtype=F64, device=device), **TOL)
    assert torch.isinf(torch.log(ref.softmax(x))).any()


def test_softmax_worked_example(device):
    """Is softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652] to 4 decimals, and shift-invariant (adding 100 changes nothing)?"""
    x = torch.tensor([1.0, 2.0, 3.0], dtype=F64, device=device)
    expected = torch.tensor([0.0900, 0.2447, 0.6652], dtype=F64, device=device)
    torch.testing.assert_close(ref.softmax(x), expected, rtol=0, atol=5e-5)
    torch.testing.assert_close(ref.softmax(x + 100.0), ref.softmax(x), **TOL)


def test_sigmoid_saturates_without_nan_and_keeps_tiny_values(device):
    """Is the sigmoid finite for |x| up to 1e4, and σ(−700) ≈ e^−700 to full relative precision (not rounded to 0)?"""
    x = torch.tensor([-1e4, -800.0, -700.0, 700.0, 800.0, 1e4], dtype=F64, device=device)
    s = ref.sigmoid(x)
    assert torch.isfinite(s).all() and s[0] == 0.0 and s[-1] == 1.0
    torch.testing.assert_close(s[2], torch.exp(torch.tensor(-700.0, dtype=F64, device=device)), rtol=1e-12, atol=0.0)


def test_softmax_jacobian_matches_autograd(gen, device):
    """Is softmax_jacobian(softmax(x)) the Jacobian autograd computes for the softmax, for a random x?"""
    x = torch.randn(6, generator=gen, dtype=F64).to(device) * 2
    auto = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=0), x)
    jac = ref.softmax_jacobian(ref.softmax(x))
    torch.testing.assert_close(jac, auto, **TOL)
    torch.testing.assert_close(jac.sum(dim=1), torch.zeros(6, dtype=F64, device=device), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS))
def test_float32_input_gives_float32_output(name, gen, device):
    """Does a float32 input give a float32 output and derivative (no silent promotion to float64)?"""
    x = torch.randn(5, generator=gen).to(device)
    fn, grad = ref.ACTIVATIONS[name]
    assert fn(x).dtype == torch.float32 and grad(x).dtype == torch.float32
