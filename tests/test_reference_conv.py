"""Do the convolution references give PyTorch's output sizes, parameter counts and values?"""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from reference import conv

TOL = {"rtol": 1e-10, "atol": 1e-12}


def test_conv_output_size_matches_conv2d_over_a_grid():
    """For every (d_in, k, s, p, d) in a grid, is the formula the size nn.Conv2d produces (or an error where it refuses)?"""
    checked = 0
    for d_in, k, s, p, d in itertools.product((1, 5, 8, 13), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)):
        layer = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        try:
            expected = layer(torch.zeros(1, 1, d_in, d_in)).shape[-1]
        except RuntimeError:
            with pytest.raises(ValueError):
                conv.conv2d_output_size(d_in, k, s, p, d)
            continue
        assert conv.conv2d_output_size(d_in, k, s, p, d) == expected, (d_in, k, s, p, d)
        checked += 1
    assert checked > 200


def test_transposed_conv_output_size_matches_conv_transpose2d():
    """Is the transposed-convolution size the one nn.ConvTranspose2d produces over a grid of settings?"""
    for d_in, k, s, p, op, d in itertools.product((1, 4, 7), (1, 2, 3, 4), (1, 2, 3), (0, 1), (0, 1), (1, 2)):
        if op >= max(s, d):
            continue
        layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        try:
            expected = layer(torch.zeros(1, 1, d_in, d_in)).shape[-1]
        except RuntimeError:
            continue
        assert conv.conv_transpose2d_output_size(d_in, k, s, p, op, d) == expected, (d_in, k, s, p, op, d)


def test_pool_output_size_matches_max_pool2d():
    """Is the pooling size nn.MaxPool2d's, in floor and ceil mode?"""
    for d_in, k, s, p, ceil in itertools.product((4, 5, 7, 10), (2, 3), (1, 2, 3), (0, 1), (False, True)):
        if p > k // 2:
            continue
        expected = torch.nn.MaxPool2d(k, s, p, ceil_mode=ceil)(torch.zeros(1, 1, d_in, d_in)).shape[-1]
        assert conv.pool2d_output_size(d_in, k, s, p, ceil_mode=ceil) == expected, (d_in, k, s, p, ceil)


@pytest.mark.parametrize("model", [1, 2, 3])
def test_cifar_parameter_counts(model):
    """Do the hand-computed counts (about 3.4 M, 62 k, 5.8 M) equal the models' parameters, and fit 3×32×32 images?"""
    net = getattr(conv, f"cifar_model_{model}")()
    assert conv.CIFAR_MODEL_PARAMS[model] == sum(p.numel() for p in net.parameters())
    assert net.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert round(conv.CIFAR_MODEL_PARAMS[model], -5 if model != 2 else -3) in (3_400_000, 62_000, 5_900_000)


@pytest.mark.parametrize(
    "stride, padding, dilation, kernel",
    [(1, 0, 1, (3, 3)), (2, 1, 1, (3, 3)), (1, 2, 2, (3, 3)), ((2, 1), (1, 0), (1, 2), (2, 3)), (3, 1, 1, (1, 1))],
)
def test_direct_conv2d_matches_functional(gen, device, stride, padding, dilation, kernel):
    """Does the direct convolution equal F.conv2d with channels, bias, stride, padding, dilation, rectangular kernels?"""
    x = torch.randn(2, 3, 9, 8, generator=gen, dtype=torch.float64).to(device)
    w = torch.randn(4, 3, *kernel, generator=gen, dtype=torch.float64).to(device)
    b = torch.randn(4, generator=gen, dtype=torch.float64).to(device)
    torch.testing.assert_close(conv.conv2d(x, w, b, stride, padding, dilation), F.conv2d(x, w, b, stride, padding, dilation), **TOL)


@pytest.mark.parametrize("k, s", [(2, None), (3, 1), (2, 3)])
def test_pooling_matches_functional(gen, device, k, s):
    """Do max and average pooling equal F.max_pool2d / F.avg_pool2d?"""
    x = torch.randn(2, 3, 8, 7, generator=gen, dtype=torch.float64).to(device)
    torch.testing.assert_close(conv.max_pool2d(x, k, s), F.max_pool2d(x, k, s), **TOL)
    torch.testing.assert_close(conv.avg_pool2d(x, k, s), F.avg_pool2d(x, k, s), **TOL)


@pytest.mark.parametrize("factor", [2, 3])
def test_squeeze_is_pixel_unshuffle_and_invertible(gen, device, factor):
    """Is squeeze F.pixel_unshuffle (same channel order), and does unsqueeze undo it exactly?"""
    x = torch.randn(2, 3, 6, 12, generator=gen, dtype=torch.float64).to(device)
    y = conv.squeeze(x, factor)
    assert torch.equal(y, F.pixel_unshuffle(x, factor))
    assert torch.equal(conv.unsqueeze(y, factor), x)
