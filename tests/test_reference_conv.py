"""Do the convolution references give PyTorch's output sizes, parameter counts and values?"""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from reference import conv

TOL = {"rtol": 1e-10, "atol": 1e-12}
F64 = torch.float64


def torch_size(layer, d_in):
    """The spatial output size PyTorch's layer gives for a d_in×d_in input, or None where PyTorch refuses.

    A size-0 output counts as refused: float32 ConvTranspose2d on the CPU returns an empty tensor where float64
    raises "Output size is too small".
    """
    try:
        size = layer(torch.zeros(1, 1, d_in, d_in)).shape[-1]
    except RuntimeError:
        return None
    return size or None


def test_conv_output_size_matches_conv2d_over_a_grid():
    """For every (d_in, k, s, p, d) of a grid, is the formula the size nn.Conv2d produces, or a ValueError where it refuses?"""
    sizes = refused = 0
    for k, s, p, d in itertools.product((1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)):
        layer = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        for d_in in (1, 2, 5, 8, 13):
            expected = torch_size(layer, d_in)
            if expected is None:
                with pytest.raises(ValueError, match="kernel spans"):
                    conv.conv2d_output_size(d_in, k, s, p, d)
                refused += 1
            else:
                assert conv.conv2d_output_size(d_in, k, s, p, d) == expected, (d_in, k, s, p, d)
                sizes += 1
    assert sizes > 250 and refused > 20


def test_conv_output_size_reproduces_the_slides():
    """Do the slide's examples hold: 32 → 28 for k = 5, p = 1 keeps the size for k = 3, and the floor for stride 2?"""
    assert conv.conv2d_output_size(32, 5) == 28 and conv.conv2d_output_size(14, 5) == 10  # model 2
    assert conv.conv2d_output_size(32, 3, padding=1) == 32  # model 3
    assert conv.conv2d_output_size(5, 3, stride=2, padding=1) == 3
    assert conv.conv2d_output_size(6, 3, stride=2) == 2  # the slide's formula gives (6 − 3)/2 + 1 = 2.5
    assert isinstance(conv.conv2d_output_size(6, 3, stride=2), int)


def test_transposed_conv_output_size_matches_conv_transpose2d():
    """Over a grid of (d_in, k, s, p, output_padding, d), is the size nn.ConvTranspose2d's, or a ValueError where it refuses?"""
    sizes = refused = 0
    for k, s, p, op, d in itertools.product((1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2)):
        layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        for d_in in (1, 4, 7):
            expected = torch_size(layer, d_in)
            if expected is None:
                with pytest.raises(ValueError):
                    conv.conv_transpose2d_output_size(d_in, k, s, p, op, d)
                refused += 1
            else:
                assert conv.conv_transpose2d_output_size(d_in, k, s, p, op, d) == expected, (d_in, k, s, p, op, d)
                sizes += 1
    assert sizes > 300 and refused > 50


def test_transposed_conv_size_inverts_the_conv_size(gen):
    """Does a convolution map the transposed convolution's output size back to d_in, for random settings?"""
    for _ in range(50):
        d_in, k, s, p, d = (int(v) for v in torch.randint(1, 5, (5,), generator=gen))
        op = int(torch.randint(0, s, (1,), generator=gen))  # output_padding ≥ s (allowed when < d) breaks the inverse
        try:
            d_out = conv.conv_transpose2d_output_size(d_in, k, s, p, op, d)
        except ValueError:
            continue
        assert conv.conv2d_output_size(d_out, k, s, p, d) == d_in, (d_in, k, s, p, op, d)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_output_size_matches_pooling_modules(pool):
    """Is the pooling size nn.MaxPool2d's (with dilation) and nn.AvgPool2d's, in floor and ceil mode, errors included?"""
    sizes = refused = 0
    for k, s, p, d, ceil in itertools.product((1, 2, 3, 4), (None, 1, 2, 3), (0, 1, 2), (1, 2), (False, True)):
        if pool == "avg" and d != 1:
            continue
        layer = (torch.nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil) if pool == "max"
                 else torch.nn.AvgPool2d(k, s, p, ceil_mode=ceil))
        for d_in in (1, 2, 4, 5, 7, 10):
            expected = torch_size(layer, d_in)
            if expected is None:
                with pytest.raises(ValueError):
                    conv.pool2d_output_size(d_in, k, s, p, d, ceil)
                refused += 1
            else:
                assert conv.pool2d_output_size(d_in, k, s, p, d, ceil) == expected, (d_in, k, s, p, d, ceil)
                sizes += 1
    assert sizes > 150 and refused > 50


@pytest.mark.parametrize("bad", [
    {"d_in": 0}, {"kernel_size": 0}, {"stride": 0}, {"padding": -1}, {"dilation": 0},
])
def test_size_functions_refuse_impossible_settings(bad):
    """Are a zero input, kernel, stride or dilation and a negative padding refused with a ValueError naming the argument?"""
    settings = {"d_in": 8, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1} | bad
    (name,) = bad
    for fn in (conv.conv2d_output_size, conv.conv_transpose2d_output_size, conv.pool2d_output_size):
        with pytest.raises(ValueError, match=name):
            fn(**settings)


def test_size_functions_want_ints():
    """Is a float size (like the slide's fraction 2.5) refused with a TypeError rather than silently floored?"""
    with pytest.raises(TypeError, match="d_in"):
        conv.conv2d_output_size(2.5, 3)
    with pytest.raises(TypeError, match="stride"):
        conv.pool2d_output_size(8, 2, 2.0)


def test_parameter_count_formulas_match_layers():
    """Do linear_params, conv2d_params and batchnorm_params count nn.Linear, nn.Conv2d and nn.BatchNorm2d's parameters?"""
    for (i, o), bias in itertools.product(((3, 5), (7, 1), (64, 10)), (True, False)):
        assert conv.linear_params(i, o, bias) == sum(t.numel() for t in torch.nn.Linear(i, o, bias).parameters())
    for (ci, co, k), bias in itertools.product(((3, 6, 5), (2, 4, (3, 1)), (8, 8, 1)), (True, False)):
        assert conv.conv2d_params(ci, co, k, bias) == sum(t.numel() for t in torch.nn.Conv2d(ci, co, k, bias=bias).parameters())
    bn = torch.nn.BatchNorm2d(7)
    assert conv.batchnorm_params(7) == sum(t.numel() for t in bn.parameters()) == 14
    assert sum(b.numel() for b in bn.buffers()) > 0, "running statistics exist, as buffers, and are not counted"


@pytest.mark.parametrize("model, expected, slide, unit", [(1, 3_426_250, 34, 100_000), (2, 62_006, 62, 1000),
                                                         (3, 5_852_170, 58, 100_000)])
def test_cifar_parameter_counts(model, expected, slide, unit):
    """Does the hand count equal the model's parameters, and truncate to the slide's 3.4 M, 62 thousand and 5.8 M?"""
    net = getattr(conv, f"cifar_model_{model}")()
    assert conv.CIFAR_MODEL_PARAMS[model] == expected == sum(p.numel() for p in net.parameters())
    assert expected // unit == slide


@pytest.mark.parametrize("model, shapes", [
    (2, [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]),
    (3, [(32, 32, 32), (64, 32, 32), (64, 16, 16), (128, 16, 16), (128, 16, 16), (128, 8, 8),
         (256, 8, 8), (256, 8, 8), (256, 4, 4)]),
])
def test_cifar_models_follow_the_slides_shapes(model, shapes):
    """Do the conv and pool layers of models 2 and 3 produce the slides' C×H×W sizes, and the models 10 logits?"""
    net = getattr(conv, f"cifar_model_{model}")().eval()
    seen, x = [], torch.zeros(2, 3, 32, 32)
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
                seen.append(tuple(x.shape[1:]))
    assert seen == shapes and x.shape == (2, 10)
    assert conv.cifar_model_1().eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_cifar_model_3_has_batch_norm_and_dropout_where_the_slide_puts_them():
    """Does model 3 have three BatchNorm2d layers, each right after a convolution, and two dropouts with p = 0.05?"""
    net = conv.cifar_model_3()
    layers = list(net)
    bns = [i for i, l in enumerate(layers) if isinstance(l, torch.nn.BatchNorm2d)]
    assert [layers[i].num_features for i in bns] == [32, 128, 256]
    assert all(isinstance(layers[i - 1], torch.nn.Conv2d) for i in bns)
    assert [l.p for l in layers if isinstance(l, torch.nn.Dropout)] == [0.05, 0.05]


@pytest.mark.parametrize("stride, padding, dilation, kernel", [
    (1, 0, 1, (3, 3)),
    (2, 1, 1, (3, 3)),
    (1, 2, 2, (3, 3)),
    (2, 2, 1, (5, 5)),
    ((2, 1), (1, 0), (1, 2), (2, 3)),
    (3, 1, 1, (1, 1)),
    (1, (0, 2), 2, (1, 4)),
])
def test_direct_conv2d_matches_functional(gen, device, stride, padding, dilation, kernel):
    """Does the direct convolution equal F.conv2d with channels and bias, strides, padding, dilation, rectangular kernels?"""
    x = torch.randn(2, 3, 9, 8, generator=gen, dtype=F64).to(device)
    w = torch.randn(4, 3, *kernel, generator=gen, dtype=F64).to(device)
    b = torch.randn(4, generator=gen, dtype=F64).to(device)
    got = conv.conv2d(x, w, b, stride, padding, dilation)
    assert got.dtype == F64 and got.device == x.device
    torch.testing.assert_close(got, F.conv2d(x, w, b, stride, padding, dilation), **TOL)
    torch.testing.assert_close(conv.conv2d(x, w, None, stride, padding, dilation),
                               F.conv2d(x, w, None, stride, padding, dilation), **TOL)


def test_conv2d_is_the_sum_over_input_channels_plus_bias(gen, device):
    """Is out(c_out) = bias(c_out) + Σ_k Conv(input(k), kernel_k), with Conv the single-channel cross-correlation?"""
    x = torch.randn(1, 3, 6, 6, generator=gen, dtype=F64).to(device)
    w = torch.randn(2, 3, 3, 3, generator=gen, dtype=F64).to(device)
    b = torch.randn(2, generator=gen, dtype=F64).to(device)
    per_channel = sum(conv.conv2d(x[:, k : k + 1], w[:, k : k + 1]) for k in range(3))
    torch.testing.assert_close(conv.conv2d(x, w, b), per_channel + b.view(1, 2, 1, 1), **TOL)


def test_conv2d_worked_example_is_a_cross_correlation(device):
    """On a 3×3 input and a 2×2 kernel [[1, 2], [3, 4]], is y_00 = 1·x_00 + 2·x_01 + 3·x_10 + 4·x_11 (no kernel flip)?"""
    x = torch.arange(9.0, dtype=F64, device=device).view(1, 1, 3, 3)  # [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    w = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=F64, device=device)
    expected = torch.tensor([[[[1 * 0 + 2 * 1 + 3 * 3 + 4 * 4, 1 * 1 + 2 * 2 + 3 * 4 + 4 * 5],
                               [1 * 3 + 2 * 4 + 3 * 6 + 4 * 7, 1 * 4 + 2 * 5 + 3 * 7 + 4 * 8]]]], dtype=F64, device=device)
    assert expected.flatten().tolist() == [27.0, 37.0, 57.0, 67.0]  # a flipped kernel would give 13, 23, 43, 53
    torch.testing.assert_close(conv.conv2d(x, w), expected, **TOL)


def test_conv2d_refuses_mismatched_channels(gen, device):
    """Does a weight for 2 input channels applied to a 3-channel x raise a ValueError naming the channels?"""
    x = torch.randn(1, 3, 5, 5, generator=gen, dtype=F64).to(device)
    w = torch.randn(4, 2, 3, 3, generator=gen, dtype=F64).to(device)
    with pytest.raises(ValueError, match="channels"):
        conv.conv2d(x, w)


@pytest.mark.parametrize("k, s", [(2, None), (3, 1), (2, 3), (3, 2), ((2, 3), None), ((3, 2), (1, 2))])
def test_pooling_matches_functional(gen, device, k, s):
    """Do max and average pooling equal F.max_pool2d / F.avg_pool2d, with square and rectangular windows?"""
    x = torch.randn(2, 3, 8, 7, generator=gen, dtype=F64).to(device)
    torch.testing.assert_close(conv.max_pool2d(x, k, s), F.max_pool2d(x, k, s), **TOL)
    torch.testing.assert_close(conv.avg_pool2d(x, k, s), F.avg_pool2d(x, k, s), **TOL)


def test_pooling_worked_example(device):
    """On the 4×4 matrix of the max-pooling slide, is 2×2 max pooling [[1.0, 0.9], [0.9, 0.9]], average [[0.875, 0.875], [0.85, 0.8]]?"""
    x = torch.tensor([[1.0, 0.8, 0.8, 0.9], [0.8, 0.9, 0.9, 0.9], [0.9, 0.9, 0.8, 0.9], [0.9, 0.7, 0.6, 0.9]],
                     dtype=F64, device=device).view(1, 1, 4, 4)
    max_expected = torch.tensor([[1.0, 0.9], [0.9, 0.9]], dtype=F64, device=device).view(1, 1, 2, 2)
    avg_expected = torch.tensor([[0.875, 0.875], [0.85, 0.8]], dtype=F64, device=device).view(1, 1, 2, 2)
    torch.testing.assert_close(conv.max_pool2d(x, 2), max_expected, **TOL)
    torch.testing.assert_close(conv.avg_pool2d(x, 2), avg_expected, **TOL)


def test_pooling_refuses_a_window_larger_than_the_input(gen, device):
    """Is a 5×5 window on a 4×4 input refused with a ValueError rather than an empty tensor?"""
    x = torch.randn(1, 1, 4, 4, generator=gen, dtype=F64).to(device)
    with pytest.raises(ValueError):
        conv.max_pool2d(x, 5)


@pytest.mark.parametrize("factor", [1, 2, 3])
def test_squeeze_is_pixel_unshuffle_and_unsqueeze_inverts_it(gen, device, factor):
    """Is squeeze F.pixel_unshuffle (same channel order), unsqueeze F.pixel_shuffle, and the round trip exact?"""
    x = torch.randn(2, 3, 6, 12, generator=gen, dtype=F64).to(device)
    y = conv.squeeze(x, factor)
    assert y.shape == (2, 3 * factor**2, 6 // factor, 12 // factor)
    assert torch.equal(y, F.pixel_unshuffle(x, factor))
    assert torch.equal(conv.unsqueeze(y, factor), F.pixel_shuffle(y, factor))
    assert torch.equal(conv.unsqueeze(y, factor), x)
    z = torch.randn(2, 3 * factor**2, 4, 5, generator=gen, dtype=F64).to(device)
    assert torch.equal(conv.squeeze(conv.unsqueeze(z, factor), factor), z)


def test_squeeze_worked_example(device):
    """Does squeezing the 2×2 image [[a, b], [c, d]] give the 4 channels a, b, c, d (pixel (i, j) → channel 2i + j)?"""
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64, device=device).view(1, 1, 2, 2)
    assert torch.equal(conv.squeeze(x).flatten(), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64, device=device))


def test_squeeze_refuses_sizes_that_do_not_divide(gen, device):
    """Are an odd height for factor 2, and 6 channels for unsqueeze with factor 2, refused with a ValueError?"""
    with pytest.raises(ValueError, match="multiples"):
        conv.squeeze(torch.zeros(1, 1, 5, 4, dtype=F64, device=device))
    with pytest.raises(ValueError, match="multiple"):
        conv.unsqueeze(torch.zeros(1, 6, 2, 2, dtype=F64, device=device))
