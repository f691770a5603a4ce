"""Convolutions by hand: output sizes, parameter counts, a direct 2-D convolution, pooling and squeeze
(lecture: Deep Learning 2, "The two dimensional convolution", "Kernel size, padding and stride", "CIFAR 10").
"""
from __future__ import annotations

import math

import torch
from torch import nn

Tensor = torch.Tensor
Pair = int | tuple[int, int]


def _pair(v: Pair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_output_size(d_in: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """d_out = ⌊(d_in + 2p − d(k − 1) − 1) / s⌋ + 1.

    The slide's d_out = (d_in + 2p − k)/s + 1 is the dilation-1 case without the floor: with stride 2 it can give
    a fraction, and frameworks round down (the last partial window is dropped).
    """
    span = dilation * (kernel_size - 1) + 1
    if d_in + 2 * padding < span:
        raise ValueError(f"the kernel spans {span} pixels but the padded input has only {d_in + 2 * padding}")
    return (d_in + 2 * padding - span) // stride + 1


def conv_transpose2d_output_size(d_in: int, kernel_size: int, stride: int = 1, padding: int = 0,
                                 output_padding: int = 0, dilation: int = 1) -> int:
    """d_out = (d_in − 1)s − 2p + d(k − 1) + output_padding + 1 (the inverse of the convolution's size map)."""
    if output_padding >= max(stride, dilation):
        raise ValueError("output_padding must be smaller than the stride or the dilation")
    d_out = (d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if d_out <= 0:
        raise ValueError(f"these settings give a non-positive output size ({d_out})")
    return d_out


def pool2d_output_size(d_in: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                       dilation: int = 1, ceil_mode: bool = False) -> int:
    """Like conv2d_output_size with stride defaulting to the kernel size; ceil_mode rounds up, but a window may not
    start inside the right padding (PyTorch's rule)."""
    stride = kernel_size if stride is None else stride
    if padding > kernel_size // 2:
        raise ValueError("padding must be at most half the kernel size")
    span = dilation * (kernel_size - 1) + 1
    numerator = d_in + 2 * padding - span
    if numerator < 0:
        raise ValueError(f"the window spans {span} pixels but the padded input has only {d_in + 2 * padding}")
    d_out = (math.ceil(numerator / stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (d_out - 1) * stride >= d_in + padding:
        d_out -= 1
    return d_out


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """A weight per (input, output) pair, plus a bias per output."""
    return in_features * out_features + (out_features if bias else 0)


def conv2d_params(c_in: int, c_out: int, kernel_size: int, bias: bool = True) -> int:
    """Each of the c_out filters has c_in·k·k weights and one bias, shared over all positions."""
    return c_out * c_in * kernel_size * kernel_size + (c_out if bias else 0)


def batchnorm_params(channels: int) -> int:
    """γ and β per channel; the running mean and variance are buffers, not trained parameters."""
    return 2 * channels


def cifar_model_1() -> nn.Sequential:
    """Model 1: a fully connected network 3072 → 1024 → 256 → 64 → 10 (about 3.4 million parameters)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3072, 1024), nn.ReLU(), nn.Linear(1024, 256), nn.ReLU(),
                         nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))


def cifar_model_2() -> nn.Sequential:
    """Model 2: conv 3→6 (5×5), pool, conv 6→16 (5×5), pool, 400 → 120 → 84 → 10 (about 62 thousand parameters)."""
    return nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def cifar_model_3() -> nn.Sequential:
    """Model 3: six 3×3 convolutions (padding 1) with batch norm, three pools, 4096 → 1024 → 512 → 10 (about 5.8 M).

    The slide lists the second convolution as 32×32×32 ↦ 32×32×32 and then pools a 64×32×32 tensor: the only
    consistent reading is a 32 → 64 convolution, which also gives the slide's total of 5.8 million parameters.
    """
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (64, 16, 16)
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (128, 8, 8)
        nn.Conv2d(128, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.05),  # (256, 4, 4)
        nn.Flatten(), nn.Linear(4096, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU(), nn.Dropout(0.05), nn.Linear(512, 10),
    )


CIFAR_MODEL_PARAMS = {
    1: linear_params(3072, 1024) + linear_params(1024, 256) + linear_params(256, 64) + linear_params(64, 10),
    2: conv2d_params(3, 6, 5) + conv2d_params(6, 16, 5) + linear_params(400, 120) + linear_params(120, 84) + linear_params(84, 10),
    3: conv2d_params(3, 32, 3) + batchnorm_params(32) + conv2d_params(32, 64, 3)
    + conv2d_params(64, 128, 3) + batchnorm_params(128) + conv2d_params(128, 128, 3)
    + conv2d_params(128, 256, 3) + batchnorm_params(256) + conv2d_params(256, 256, 3)
    + linear_params(4096, 1024) + linear_params(1024, 512) + linear_params(512, 10),
}


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1) -> Tensor:
    """out(c_out)_{i,j} = bias(c_out) + Σ_k Σ_m Σ_n w_{c_out,k,m,n} · x_k[s·i + d·m, s·j + d·n]  (cross-correlation,
    as F.conv2d and the lecture's y_{i,j} = Σ_m Σ_n w_{m,n} x_{i+m, j+n}).

    Inputs: x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) or None.
    Returns: (N, C_out, H_out, W_out), sizes from conv2d_output_size.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    c_out, _, kh, kw = weight.shape
    xp = torch.nn.functional.pad(x, (pw, pw, ph, ph))
    h_out = conv2d_output_size(x.shape[2], kh, sh, ph, dh)
    w_out = conv2d_output_size(x.shape[3], kw, sw, pw, dw)
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)
    for m in range(kh):  # one kernel offset at a time: every output pixel sees input pixel (s·i + d·m, s·j + d·n)
        for n in range(kw):
            window = xp[:, :, m * dh : m * dh + sh * (h_out - 1) + 1 : sh, n * dw : n * dw + sw * (w_out - 1) + 1 : sw]  # (N, C_in, H_out, W_out)
            out += torch.einsum("nchw,oc->nohw", window, weight[:, :, m, n])
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


def _windows(x: Tensor, kernel_size: int, stride: int | None) -> Tensor:
    stride = kernel_size if stride is None else stride
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)  # (N, C, H_out, W_out, k, k)


def max_pool2d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """The maximum of each k×k window (stride defaults to k). Inputs: (N, C, H, W). Returns (N, C, H_out, W_out)."""
    return _windows(x, kernel_size, stride).amax(dim=(-2, -1))


def avg_pool2d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """The mean of each k×k window (stride defaults to k). Inputs: (N, C, H, W). Returns (N, C, H_out, W_out)."""
    return _windows(x, kernel_size, stride).mean(dim=(-2, -1))


def squeeze(x: Tensor, factor: int = 2) -> Tensor:
    """Invertible pooling: each f×f block of every channel becomes f² channels, (N, C, H, W) → (N, C·f², H/f, W/f).

    Nothing is lost (unlike max or average pooling); the channel order is F.pixel_unshuffle's: c·f² + i·f + j
    for the pixel (i, j) of the block.
    """
    n, c, h, w = x.shape
    if h % factor or w % factor:
        raise ValueError(f"height and width ({h}, {w}) must be multiples of the factor {factor}")
    blocks = x.reshape(n, c, h // factor, factor, w // factor, factor)  # (N, C, H/f, i, W/f, j)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(n, c * factor * factor, h // factor, w // factor)


def unsqueeze(x: Tensor, factor: int = 2) -> Tensor:
    """The inverse of squeeze (F.pixel_shuffle): (N, C·f², H, W) → (N, C, H·f, W·f)."""
    n, cf, h, w = x.shape
    c = cf // (factor * factor)
    blocks = x.reshape(n, c, factor, factor, h, w).permute(0, 1, 4, 2, 5, 3)  # (N, C, H, i, W, j)
    return blocks.reshape(n, c, h * factor, w * factor)
