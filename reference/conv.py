"""Convolutions by hand: output sizes, parameter counts, the lecture's CIFAR-10 models, a direct 2-D convolution,
pooling and squeeze (lecture: Deep Learning 2, "The two dimensional convolution", "Kernel size, padding and stride",
"CNN: convolutional in a network", "CNN in practice: CIFAR 10").
"""
from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor
Pair = int | tuple[int, int]


def _pair(v: Pair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _check(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_sizes(d_in: int, kernel_size: int, stride: int, padding: int, dilation: int) -> None:
    _check("d_in", d_in, 1)
    _check("kernel_size", kernel_size, 1)
    _check("stride", stride, 1)
    _check("padding", padding, 0)
    _check("dilation", dilation, 1)


# ----------------------------------------------------------------------------------------------------------------
# Output sizes
# ----------------------------------------------------------------------------------------------------------------

def conv2d_output_size(d_in: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """d_out = ⌊(d_in + 2p − d(k − 1) − 1) / s⌋ + 1, for one spatial axis of nn.Conv2d.

    The slide's d_out = (d_in + 2·Padding − KernelSize)/Stride + 1 is the dilation-1 case without the floor: with
    stride 2 it can give a fraction (d_in = 6, k = 3, p = 0: 2.5), where frameworks drop the last partial window.
    A kernel with dilation d spans d(k − 1) + 1 input pixels.
    Inputs: ints d_in ≥ 1, kernel_size k ≥ 1, stride s ≥ 1, padding p ≥ 0, dilation d ≥ 1.
    Returns: d_out ≥ 1, an int. Raises ValueError when the kernel does not fit in the padded input.
    """
    _check_sizes(d_in, kernel_size, stride, padding, dilation)
    span = dilation * (kernel_size - 1) + 1
    if d_in + 2 * padding < span:
        raise ValueError(f"the kernel spans {span} pixels (dilation {dilation}·(k − 1) + 1) but the padded input has "
                         f"only {d_in + 2 * padding}: use a smaller kernel or dilation, or more padding")
    return (d_in + 2 * padding - span) // stride + 1


def conv_transpose2d_output_size(d_in: int, kernel_size: int, stride: int = 1, padding: int = 0,
                                 output_padding: int = 0, dilation: int = 1) -> int:
    """d_out = (d_in − 1)s − 2p + d(k − 1) + output_padding + 1, for one spatial axis of nn.ConvTranspose2d.

    It inverts conv2d_output_size: because of the floor, s consecutive input sizes give the same convolution
    output d_in, and output_padding ∈ [0, s) picks which of them to return; a convolution with the same k, s, p, d
    maps the result back to d_in. PyTorch accepts any output_padding < s or < d.
    Inputs: ints d_in ≥ 1, kernel_size ≥ 1, stride ≥ 1, padding ≥ 0, output_padding ≥ 0, dilation ≥ 1.
    Returns: d_out ≥ 1, an int. Raises ValueError for a too large output_padding or a non-positive d_out.
    """
    _check_sizes(d_in, kernel_size, stride, padding, dilation)
    _check("output_padding", output_padding, 0)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(f"output_padding ({output_padding}) must be smaller than the stride ({stride}) or the "
                         f"dilation ({dilation})")
    d_out = (d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if d_out < 1:
        raise ValueError(f"these settings give an output size of {d_out}: the padding {padding} removes more than "
                         f"the transposed convolution adds; use less padding")
    return d_out


def pool2d_output_size(d_in: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                       dilation: int = 1, ceil_mode: bool = False) -> int:
    """d_out of nn.MaxPool2d / nn.AvgPool2d along one axis: conv2d_output_size's formula, stride defaulting to k.

    With ceil_mode the division rounds up, ⌈(d_in + 2p − d(k − 1) − 1)/s⌉ + 1, so a last partial window is kept,
    except that no window may start in the right-hand padding (PyTorch's rule). PyTorch also requires
    p ≤ k/2, so that every window overlaps the input.
    Inputs: ints d_in ≥ 1, kernel_size k ≥ 1, stride s ≥ 1 (None: k), padding p ≥ 0, dilation ≥ 1; ceil_mode.
    Returns: d_out ≥ 1, an int. Raises ValueError for p > k/2 or a non-positive output.
    """
    stride = kernel_size if stride is None else stride
    _check_sizes(d_in, kernel_size, stride, padding, dilation)
    if padding > kernel_size // 2:
        raise ValueError(f"padding ({padding}) must be at most half the kernel size ({kernel_size})")
    span = dilation * (kernel_size - 1) + 1
    rounding = stride - 1 if ceil_mode else 0  # ⌈a/s⌉ = ⌊(a + s − 1)/s⌋
    d_out = (d_in + 2 * padding - span + rounding) // stride + 1
    if ceil_mode and (d_out - 1) * stride >= d_in + padding:
        d_out -= 1
    if d_out < 1:
        raise ValueError(f"the window spans {span} pixels but the padded input has only {d_in + 2 * padding}: "
                         f"the output would be empty")
    return d_out


# ----------------------------------------------------------------------------------------------------------------
# Parameter counts and the lecture's CIFAR-10 models
# ----------------------------------------------------------------------------------------------------------------

def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """A weight per (input, output) pair plus a bias per output: in·out + out.

    Inputs: in_features, out_features; bias. Returns: the number of trained parameters, an int.
    """
    return in_features * out_features + (out_features if bias else 0)


def conv2d_params(c_in: int, c_out: int, kernel_size: Pair, bias: bool = True) -> int:
    """Each of the c_out filters has c_in·kH·kW weights and one bias, shared by every position: c_out(c_in·kH·kW + 1).

    Unlike a linear layer, the count does not depend on the image size.
    Inputs: c_in, c_out; kernel_size k or (kH, kW); bias. Returns: the number of trained parameters, an int.
    """
    kh, kw = _pair(kernel_size)
    return c_out * c_in * kh * kw + (c_out if bias else 0)


def batchnorm_params(channels: int) -> int:
    """γ and β per channel: 2C. The running mean and variance are buffers, updated but not trained.

    Inputs: channels C. Returns: the number of trained parameters, an int.
    """
    return 2 * channels


def cifar_model_1() -> nn.Sequential:
    """Model 1, fully connected: Linear 3072 → 1024 → 256 → 64 → 10 with ReLUs (3,426,250 ≈ 3.4 M parameters).

    The slide ends every CIFAR model with a softmax; the builders return logits, since nn.CrossEntropyLoss applies
    the (log-)softmax itself.
    Inputs of the model: (N, 3, 32, 32) images. Returns: the model, mapping them to (N, 10) logits.
    """
    return nn.Sequential(
        nn.Flatten(),  # (N, 3072)
        nn.Linear(3072, 1024), nn.ReLU(),
        nn.Linear(1024, 256), nn.ReLU(),
        nn.Linear(256, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def cifar_model_2() -> nn.Sequential:
    """Model 2, LeNet-like: conv 3→6 (5×5), max-pool 2, conv 6→16 (5×5), max-pool 2, Linear 400 → 120 → 84 → 10
    (62,006 ≈ 62 thousand parameters).

    Inputs of the model: (N, 3, 32, 32) images. Returns: the model, mapping them to (N, 10) logits.
    """
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(),  # (N, 6, 28, 28)
        nn.MaxPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(),  # (N, 16, 10, 10)
        nn.MaxPool2d(2),  # (N, 16, 5, 5)
        nn.Flatten(),  # (N, 400)
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def cifar_model_3() -> nn.Sequential:
    """Model 3, wider and deeper: six 3×3 convolutions with padding 1 (sizes kept), batch norm after the first of
    each pair, three max-pools, dropout p = 0.05, Linear 4096 → 1024 → 512 → 10 (5,852,170 ≈ 5.8 M parameters).

    The slide lists the second convolution as 32×32×32 ↦ 32×32×32 but then max-pools a 64×32×32 tensor and feeds
    64 channels to the third convolution: the consistent reading is a 32 → 64 convolution. The total does not
    decide (the literal 32 → 32, then 32 → 128, would give 5,806,058, also "5.8 million"); the two 64-channel lines do.
    The slide gives no kernel size; 3×3 with padding 1 keeps the 32×32, 16×16 and 8×8 sizes it lists.
    Inputs of the model: (N, 3, 32, 32) images. Returns: the model, mapping them to (N, 10) logits.
    """
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),  # (N, 32, 32, 32)
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),  # (N, 64, 32, 32)
        nn.MaxPool2d(2),  # (N, 64, 16, 16)
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),  # (N, 128, 16, 16)
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 128, 8, 8)
        nn.Conv2d(128, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(),  # (N, 256, 8, 8)
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.05),  # (N, 256, 4, 4)
        nn.Flatten(),  # (N, 4096)
        nn.Linear(4096, 1024), nn.ReLU(),
        nn.Linear(1024, 512), nn.ReLU(), nn.Dropout(0.05),
        nn.Linear(512, 10),
    )


CIFAR_MODEL_PARAMS: dict[int, int] = {
    1: linear_params(3072, 1024) + linear_params(1024, 256) + linear_params(256, 64) + linear_params(64, 10),
    2: conv2d_params(3, 6, 5) + conv2d_params(6, 16, 5)
    + linear_params(400, 120) + linear_params(120, 84) + linear_params(84, 10),
    3: conv2d_params(3, 32, 3) + batchnorm_params(32) + conv2d_params(32, 64, 3)
    + conv2d_params(64, 128, 3) + batchnorm_params(128) + conv2d_params(128, 128, 3)
    + conv2d_params(128, 256, 3) + batchnorm_params(256) + conv2d_params(256, 256, 3)
    + linear_params(4096, 1024) + linear_params(1024, 512) + linear_params(512, 10),
}
"""Trained parameters of CIFAR models 1, 2 and 3, counted by hand with the formulas above."""


# ----------------------------------------------------------------------------------------------------------------
# Convolution, pooling and squeeze
# ----------------------------------------------------------------------------------------------------------------

def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair = 0,
           dilation: Pair = 1) -> Tensor:
    """The lecture's multi-channel convolution, out(c_out) = bias(c_out) + Σ_{k=0}^{|c_in|−1} Conv(input(k), kernel_k),
    where Conv is the slide's single-channel y_{i,j} = Σ_m Σ_n w_{m,n} · x_{i+m, j+n}. With stride s, padding p
    (zeros) and dilation d, and indices from 0:

        out[b, o, i, j] = bias[o] + Σ_k Σ_m Σ_n weight[o, k, m, n] · x_pad[b, k, s·i + d·m, s·j + d·n]

    This is a cross-correlation (the kernel is not flipped), as F.conv2d and every deep-learning library compute it.
    Inputs: x (N, C_in, H, W); weight (C_out, C_in, kH, kW); bias (C_out,) or None; stride, padding, dilation an int
            or an (h, w) pair.
    Returns: (N, C_out, H_out, W_out), with H_out and W_out from conv2d_output_size.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c_in, h, w = x.shape
    c_out, c_in_w, kh, kw = weight.shape
    if c_in_w != c_in:
        raise ValueError(f"x has {c_in} channels but the weight expects {c_in_w} (weight shape (C_out, C_in, kH, kW))")
    h_out = conv2d_output_size(h, kh, sh, ph, dh)
    w_out = conv2d_output_size(w, kw, sw, pw, dw)
    x_pad = x.new_zeros(n, c_in, h + 2 * ph, w + 2 * pw)
    x_pad[:, :, ph : ph + h, pw : pw + w] = x
    out = x.new_zeros(n, c_out, h_out, w_out)
    for m in range(kh):  # one kernel offset (m, n) at a time: output (i, j) reads input (s·i + d·m, s·j + d·n)
        for n_ in range(kw):
            rows = slice(dh * m, dh * m + sh * (h_out - 1) + 1, sh)
            cols = slice(dw * n_, dw * n_ + sw * (w_out - 1) + 1, sw)
            window = x_pad[:, :, rows, cols]  # (N, C_in, H_out, W_out)
            out += torch.einsum("bkij,ok->boij", window, weight[:, :, m, n_])  # Σ over input channels k
    if bias is not None:
        out += bias.view(1, c_out, 1, 1)
    return out


def _windows(x: Tensor, kernel_size: Pair, stride: Pair | None) -> Tensor:
    """Every kH×kW window of every channel: (N, C, H, W) → (N, C, H_out, W_out, kH, kW)."""
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = (kh, kw) if stride is None else _pair(stride)
    pool2d_output_size(x.shape[2], kh, sh)  # raises a clear ValueError when a window does not fit
    pool2d_output_size(x.shape[3], kw, sw)
    return x.unfold(2, kh, sh).unfold(3, kw, sw)


def max_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None) -> Tensor:
    """out[b, c, i, j] = max_{m, n} x[b, c, s·i + m, s·j + n], the maximum of each k×k window; stride defaults to k,
    so a 2×2 pool halves the height and width.

    Inputs: x (N, C, H, W); kernel_size and stride an int or an (h, w) pair. Returns: (N, C, H_out, W_out).
    """
    return _windows(x, kernel_size, stride).amax(dim=(-2, -1))


def avg_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None) -> Tensor:
    """out[b, c, i, j] = (1/(kH·kW)) Σ_{m, n} x[b, c, s·i + m, s·j + n], the mean of each window; stride defaults to k.

    Inputs: x (N, C, H, W); kernel_size and stride an int or an (h, w) pair. Returns: (N, C, H_out, W_out).
    """
    return _windows(x, kernel_size, stride).mean(dim=(-2, -1))


def squeeze(x: Tensor, factor: int = 2) -> Tensor:
    """Invertible pooling: every f×f block of each channel becomes f² channels, (N, C, H, W) → (N, C·f², H/f, W/f).

    Unlike max or average pooling nothing is lost, and the number of values is unchanged. The channel order is
    F.pixel_unshuffle's: pixel (i, j) of a block of channel c goes to channel c·f² + i·f + j.
    Inputs: x (N, C, H, W) with H and W multiples of f; factor f ≥ 1. Returns: (N, C·f², H/f, W/f).
    """
    n, c, h, w = x.shape
    if h % factor or w % factor:
        raise ValueError(f"height and width ({h}, {w}) must be multiples of the squeeze factor {factor}")
    blocks = x.reshape(n, c, h // factor, factor, w // factor, factor)  # (N, C, H/f, i, W/f, j)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(n, c * factor * factor, h // factor, w // factor)


def unsqueeze(x: Tensor, factor: int = 2) -> Tensor:
    """The inverse of squeeze (F.pixel_shuffle): channel c·f² + i·f + j becomes pixel (i, j) of each f×f block.

    Inputs: x (N, C·f², H, W); factor f ≥ 1. Returns: (N, C, H·f, W·f).
    """
    n, cf, h, w = x.shape
    if cf % (factor * factor):
        raise ValueError(f"the number of channels ({cf}) must be a multiple of factor² = {factor * factor}")
    c = cf // (factor * factor)
    blocks = x.reshape(n, c, factor, factor, h, w).permute(0, 1, 4, 2, 5, 3)  # (N, C, H, i, W, j)
    return blocks.reshape(n, c, h * factor, w * factor)
