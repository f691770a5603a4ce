"""Do the reference activations and their derivatives match PyTorch's own functions and autograd?"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import activations as ref

TOL = {"rtol": 1e-10, "atol": 1e-12}

TORCH_EQUIVALENTS = {
    "linear": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": lambda z: F.elu(z, 1.0),
    "swish": F.silu,
}


def random_input(gen, device, shape=(7, 9), scale=3.0):
    # Keep away from the kinks at 0, where ReLU-like derivatives are conventions, not limits.
    z = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
    z = torch.where(z.abs() < 1e-3, torch.full_like(z, 0.5), z)
    return z.to(device)


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS))
def test_activation_matches_pytorch(name, gen, device):
    """Does each activation equal PyTorch's on random float64 inputs, keeping shape, dtype and device?"""
    z = random_input(gen, device)
    fn, _ = ref.ACTIVATIONS[name]
    out = fn(z)
    assert out.shape == z.shape and out.dtype == z.dtype and out.device == z.device
    torch.testing.assert_close(out, TORCH_EQUIVALENTS[name](z), **TOL)


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS))
def test_derivative_matches_autograd(name, gen, device):
    """Is each `*_grad` the derivative autograd computes for the same function?"""
    z = random_input(gen, device).requires_grad_(True)
    fn, grad = ref.ACTIVATIONS[name]
    (auto,) = torch.autograd.grad(TORCH_EQUIVALENTS[name](z).sum(), z)
    torch.testing.assert_close(grad(z.detach()), auto, **TOL)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_pytorch_along_any_axis(gen, device, dim):
    """Do softmax and log-softmax equal F.softmax / F.log_softmax along the axis given?"""
    z = random_input(gen, device, shape=(4, 5, 6))
    torch.testing.assert_close(ref.softmax(z, dim=dim), F.softmax(z, dim=dim), **TOL)
    torch.testing.assert_close(ref.log_softmax(z, dim=dim), F.log_softmax(z, dim=dim), **TOL)


def test_softmax_is_stable_for_huge_logits(device):
    """Do logits of 1000 and -1000 give finite probabilities that sum to one (no inf/inf = NaN)?"""
    z = torch.tensor([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype=torch.float64, device=device)
    s = ref.softmax(z)
    assert torch.isfinite(s).all()
    torch.testing.assert_close(s.sum(-1), torch.ones(2, dtype=torch.float64, device=device), **TOL)
    naive = torch.exp(z) / torch.exp(z).sum(-1, keepdim=True)
    assert torch.isnan(naive).any(), "the naive formula overflows here, so this test can tell them apart"


def test_sigmoid_saturates_without_nan(device):
    """Is the sigmoid exactly 0 or 1 (never NaN) for |z| in the hundreds?"""
    z = torch.tensor([-800.0, -50.0, 50.0, 800.0], dtype=torch.float64, device=device)
    s = ref.sigmoid(z)
    assert torch.isfinite(s).all() and s[0] == 0.0 and s[-1] == 1.0


def test_softmax_jacobian_matches_autograd(gen, device):
    """Is softmax_jacobian(s) the Jacobian autograd computes for the softmax?"""
    z = random_input(gen, device, shape=(6,))
    auto = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=0), z)
    torch.testing.assert_close(ref.softmax_jacobian(ref.softmax(z)), auto, **TOL)
