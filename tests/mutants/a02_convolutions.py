"""a02_convolutions: output sizes, parameter counts, conv2d, pooling and squeeze with their known mistakes, and other
correct styles (numpy with loops; torch built-ins in float32)."""
from tests.mutants import Mutant, Shortcut, Style

CONV_SIZE = "(d_in + 2 * padding - span) // stride + 1"
TRANSPOSE = "(d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1"
POOL = "(d_in + 2 * padding - kernel_size) // stride + 1"
# The solution's answers are the self-learner's numbers (grader/numbers/a02_convolutions.py): c1 = 12, c2 = 16,
# k = 3, side = 32, h1 = 100, h2 = 84, model_3_side = 96; layers = 3, k = 3 for the receptive field.
MODEL_2 = """cifar_model_2_params = (count_conv_params(3, 12, 3) + count_conv_params(12, 16, 3)
                        + (16 * 6 * 6 * 100 + 100) + (100 * 84 + 84) + (84 * 10 + 10))"""
FIELD = "q_receptive_field = 1 + 3 * (3 - 1)"

MUTANTS = [
    # 1. output sizes
    Mutant("conv-output-size", CONV_SIZE, "(d_in + 2 * padding - span) / stride + 1", "without the floor"),
    Mutant("conv-output-size", CONV_SIZE, "-(-(d_in + 2 * padding - span) // stride) + 1", "rounded up instead of down"),
    Mutant("conv-output-size", "span = dilation * (kernel_size - 1) + 1", "span = kernel_size", "the dilation ignored"),
    Mutant("conv-output-size", "2 * padding", "padding", "the padding counted once instead of twice"),
    Mutant("conv-output-size", CONV_SIZE, "(d_in + 2 * padding - span) // stride", "the + 1 missing"),
    Mutant("conv-transpose-output-size", TRANSPOSE,
           "(d_in + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
           "the convolution's formula instead of its inverse"),
    Mutant("conv-transpose-output-size", "(d_in - 1) * stride", "d_in * stride", "d_in·s instead of (d_in - 1)·s"),
    Mutant("conv-transpose-output-size", "- 2 * padding", "+ 2 * padding", "the padding added instead of removed"),
    Mutant("conv-transpose-output-size", " + output_padding", "", "output_padding ignored"),
    Mutant("conv-transpose-output-size", "dilation * (kernel_size - 1)", "(kernel_size - 1)",
           "the dilation ignored in the transposed convolution"),
    Mutant("pool-output-size", "stride = kernel_size", "stride = 1", "the stride defaulting to 1 instead of kernel_size"),
    Mutant("pool-output-size", POOL, "(d_in + 2 * padding - kernel_size) / stride + 1",
           "the pooling formula without the floor"),
    Mutant("pool-output-size", "2 * padding", "padding", "the padding counted once instead of twice in the pooling"),
    Mutant("pool-output-size", POOL, "(d_in + 2 * padding - kernel_size) // stride", "the + 1 missing in the pooling"),
    # 2. parameter counts
    Mutant("count-conv-params", "biases = c_out if bias else 0", "biases = 0", "the bias forgotten"),
    Mutant("count-conv-params", "c_out * c_in * k * k", "c_out * k * k", "c_in forgotten"),
    Mutant("count-conv-params", "c_out * c_in * k * k", "c_out * c_in * k", "k instead of k² (a k×k kernel"),
    Mutant("count-conv-params", "c_out if bias else 0", "c_out", "the bias counted although bias=False"),
    Mutant("count-conv-params", "c_out if bias else 0", "c_in if bias else 0", "one bias per input channel"),
    Mutant("cifar-params", MODEL_2,
           "cifar_model_2_params = (count_conv_params(3, 12, 3, False) + count_conv_params(12, 16, 3, False)\n"
           "                        + 16 * 6 * 6 * 100 + 100 * 84 + 84 * 10)", "the biases forgotten"),
    # without the pools: 32 -> 30 -> 28, so 16·28·28 features
    Mutant("cifar-params", "(16 * 6 * 6 * 100 + 100)", "(16 * 28 * 28 * 100 + 100)", "the max-pools forgotten before the flatten"),
    Mutant("cifar-params", "count_conv_params(3, 12, 3) + count_conv_params(12, 16, 3)",
           "(3 * 12 * 3 + 12) + (12 * 16 * 3 + 16)", "k instead of k² in the convolutions"),
    Mutant("cifar-params", "model_3_flatten_features = 256 * 12 * 12", "model_3_flatten_features = 256 * 24 * 24",
           "the last max-pool forgotten"),
    Mutant("cifar-params", "count_conv_params(32, 64, 3) + count_conv_params(64, 128, 3)",
           "count_conv_params(32, 32, 3) + count_conv_params(32, 128, 3)", "the slide's literal 32 -> 32"),
    Mutant("cifar-params", "batch_norm = 2 * (32 + 128 + 256)", "batch_norm = 0", "batch norm's γ and β forgotten"),
    Mutant("cifar-params", "batch_norm = 2 * (32 + 128 + 256)", "batch_norm = 4 * (32 + 128 + 256)",
           "running mean and variance counted"),
    Mutant("cifar-params", "+ (model_3_flatten_features * 1024 + 1024)",
           "- (32 + 64 + 128 + 128 + 256 + 256) + (model_3_flatten_features * 1024 + 1024)",
           "the biases of the convolutions forgotten"),
    # another student's numbers (the lecture's model 2, model 3 on 32×32 images): right for them, wrong here
    Mutant("cifar-params", MODEL_2,
           "cifar_model_2_params = 62006", "cifar_model_2_params` differs from the expected value"),
    # 3. conv2d
    Mutant("conv2d", '"bcmn,ocmn->bo", window, weight)', '"bcmn,ocmn->bo", window, weight.flip(-1, -2))',
           "a true convolution (kernel flipped)"),
    Mutant("conv2d", "out += bias.view(1, c_out, 1, 1)", "pass", "the bias missing"),
    Mutant("conv2d", "n, c_in, h, w = x.shape", "padding = 0\n    n, c_in, h, w = x.shape", "the padding ignored"),
    Mutant("conv2d", "n, c_in, h, w = x.shape", "stride = 1\n    n, c_in, h, w = x.shape", "the stride ignored"),
    # 4. pooling
    Mutant("max-pool2d", "windows.amax(dim=(-2, -1))", "windows.mean(dim=(-2, -1))", "the average instead of the maximum"),
    Mutant("max-pool2d", "stride = kernel_size", "stride = 1", "the stride defaulting to 1 (it defaults to kernel_size"),
    Mutant("max-pool2d", "if stride is None:\n        stride = kernel_size", "stride = kernel_size",
           "the given stride ignored"),
    Mutant("avg-pool2d", "windows.mean(dim=(-2, -1))", "windows.amax(dim=(-2, -1))", "the maximum instead of the average"),
    Mutant("avg-pool2d", "windows.mean(dim=(-2, -1))", "windows.sum(dim=(-2, -1))", "the sum of each window"),
    Mutant("avg-pool2d", "stride = kernel_size", "stride = 1", "the stride defaulting to 1 (it defaults to kernel_size"),
    Mutant("avg-pool2d", "if stride is None:\n        stride = kernel_size", "stride = kernel_size",
           "the given stride ignored"),
    Mutant("avg-pool2d", "x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)",
           "x.unfold(2, stride, stride).unfold(3, stride, stride)", "windows of stride × stride pixels"),
    # 5. squeeze
    Mutant("squeeze", "blocks.permute(0, 1, 3, 5, 2, 4)", "blocks.permute(0, 3, 5, 1, 2, 4)",
           "the channels ordered (i, j, c) instead of (c, i, j)"),
    Mutant("squeeze", "blocks.permute(0, 1, 3, 5, 2, 4)", "blocks.permute(0, 1, 5, 3, 2, 4)", "the blocks transposed"),
    Mutant("squeeze", "return blocks.permute(0, 1, 3, 5, 2, 4).reshape", "return x.reshape", "a plain reshape"),
    # 6. concepts
    Mutant("concepts", FIELD, "q_receptive_field = 3 * 3", "the kernel sizes added"),
    Mutant("concepts", FIELD, "q_receptive_field = 3 ** 3", "the kernel sizes multiplied"),
    Mutant("concepts", FIELD, "q_receptive_field = 3", "the receptive field of a single convolution"),
    Mutant("concepts", FIELD, "q_receptive_field = 5", "q_receptive_field` differs from the expected value"),
    Mutant("concepts", 'q_pooling = "c"', 'q_pooling = "b"', "the invertible pooling (squeeze) is the one that keeps"),
    Mutant("concepts", 'q_one_by_one = "b"', 'q_one_by_one = "a"', "a 1×1 kernel sees a single pixel"),
    Mutant("concepts", 'q_sharing = "a"', 'q_sharing = "b"', "does not depend on the image size"),
]

NUMPY_LOOPS = {
    "conv-output-size": '''import math

def conv_output_size(d_in, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((d_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
''',
    "conv-transpose-output-size": '''def conv_transpose_output_size(d_in, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    size = (d_in - 1) * stride
    size -= 2 * padding
    size += dilation * (kernel_size - 1) + 1
    return size + output_padding
''',
    "pool-output-size": '''import numpy as np

def pool_output_size(d_in, kernel_size, stride=None, padding=0):
    s = kernel_size if stride is None else stride
    return int(np.floor((d_in + 2 * padding - kernel_size) / s)) + 1
''',
    "count-conv-params": '''def count_conv_params(c_in, c_out, k, bias=True):
    total = 0
    for _ in range(c_out):
        total += c_in * k ** 2
        if bias:
            total += 1
    return total
''',
    "cifar-params": '''cifar_model_2_params = 336 + 1744 + 57700 + 8484 + 850
model_3_flatten_features = 36864
cifar_model_3_params = 5852170 - 4096 * 1024 + 36864 * 1024
''',
    "conv2d": '''import numpy as np

def conv2d(x, weight, bias=None, stride=1, padding=0):
    x, w = np.asarray(x), np.asarray(weight)
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for b in range(n):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    patch = xp[b, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[b, o, i, j] = np.sum(patch * w[o])
            if bias is not None:
                out[b, o] += np.asarray(bias)[o]
    return out
''',
    "max-pool2d": '''import numpy as np

def max_pool2d(x, kernel_size, stride=None):
    x = np.asarray(x)
    s = stride or kernel_size
    k = kernel_size
    n, c, h, w = x.shape
    h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out
''',
    "avg-pool2d": '''import numpy as np

def avg_pool2d(x, kernel_size, stride=None):
    x = np.asarray(x)
    s = stride or kernel_size
    k = kernel_size
    n, c, h, w = x.shape
    h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            for m in range(k):
                for q in range(k):
                    out[:, :, i, j] += x[:, :, i * s + m, j * s + q]
    return out / (k * k)
''',
    "squeeze": '''import numpy as np

def squeeze(x, factor=2):
    x = np.asarray(x)
    f = factor
    n, c, h, w = x.shape
    out = np.empty((n, c * f * f, h // f, w // f))
    for ch in range(c):
        for i in range(f):
            for j in range(f):
                out[:, ch * f * f + i * f + j] = x[:, ch, i::f, j::f]
    return out
''',
    "concepts": '''q_receptive_field = 7.0
q_pooling = "C"
q_one_by_one = " b "
q_sharing = "(a)"
''',
}

# float32 torch without the library's convolution and pooling: windows by Tensor.unfold, sums by einsum. The float64
# bias promotes conv2d's float32 sums to a float64 tensor with float32 digits, judged at the precision computed.
TORCH_FLOAT32 = {
    "conv2d": '''import torch

def conv2d(x, weight, bias=None, stride=1, padding=0):
    x32, w32 = x.float(), weight.float()
    n, c, h, w = x32.shape
    kh, kw = w32.shape[-2:]
    padded = x32.new_zeros(n, c, h + 2 * padding, w + 2 * padding)
    padded[:, :, padding:padding + h, padding:padding + w] = x32
    windows = padded.unfold(2, kh, stride).unfold(3, kw, stride)  # (N, C, H_out, W_out, kH, kW)
    out = torch.einsum("nchwij,ocij->nohw", windows, w32)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
''',
    "max-pool2d": '''def max_pool2d(x, kernel_size, stride=None):
    s = stride or kernel_size
    return x.float().unfold(2, kernel_size, s).unfold(3, kernel_size, s).amax(dim=(-2, -1))
''',
    "avg-pool2d": '''import torch

def avg_pool2d(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    x = x.float()
    h_out = (x.shape[2] - kernel_size) // s + 1
    w_out = (x.shape[3] - kernel_size) // s + 1
    total = torch.zeros(x.shape[0], x.shape[1], h_out, w_out, device=x.device)
    for m in range(kernel_size):
        for q in range(kernel_size):
            total += x[:, :, m:m + s * (h_out - 1) + 1:s, q:q + s * (w_out - 1) + 1:s]
    return total / kernel_size ** 2
''',
    "squeeze": '''import torch

def squeeze(x, factor=2):
    n, c, h, w = x.shape
    blocks = x.float().view(n, c, h // factor, factor, w // factor, factor)
    return blocks.permute(0, 1, 3, 5, 2, 4).flatten(1, 3)
''',
}

# numpy im2col (CS231n's fast layers), windows from sliding_window_view, formulas arranged differently
IM2COL_NUMPY = {
    "conv-output-size": '''def conv_output_size(d_in, kernel_size, stride=1, padding=0, dilation=1):
    effective = dilation * kernel_size - dilation + 1
    return 1 + (d_in - effective + 2 * padding) // stride
''',
    "pool-output-size": '''def pool_output_size(d_in, kernel_size, stride=None, padding=0):
    if not stride:
        stride = kernel_size
    return int((d_in + 2 * padding - kernel_size) / stride) + 1  # the numerator is never negative here
''',
    "count-conv-params": '''def count_conv_params(c_in, c_out, k, bias=True):
    return c_out * (c_in * k * k + (1 if bias else 0))
''',
    "cifar-params": '''def side_after(side, k, pools):
    for _ in range(pools):
        side = (side - k + 1) // 2
    return side


def dense(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


cifar_model_2_params = (sum(count_conv_params(a, b, 3) for a, b in [(3, 12), (12, 16)])
                        + dense([16 * side_after(32, 3, 2) ** 2, 100, 84, 10]))
model_3_flatten_features = 256 * (96 // 2 ** 3) ** 2
cifar_model_3_params = (sum(count_conv_params(a, b, 3) for a, b in [(3, 32), (32, 64), (64, 128), (128, 128),
                                                                   (128, 256), (256, 256)])
                        + 2 * (32 + 128 + 256) + dense([model_3_flatten_features, 1024, 512, 10]))
''',
    "conv2d": '''import numpy as np

def conv2d(x, weight, bias=None, stride=1, padding=0):
    x, w = np.asarray(x), np.asarray(weight)
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode="constant")
    h_out, w_out = 1 + (h + 2 * padding - hh) // stride, 1 + (wd + 2 * padding - ww) // stride
    cols = np.empty((c * hh * ww, n * h_out * w_out))
    col = 0
    for b in range(n):
        for i in range(h_out):
            for j in range(w_out):
                cols[:, col] = xp[b, :, i * stride:i * stride + hh, j * stride:j * stride + ww].ravel()
                col += 1
    out = w.reshape(f, -1) @ cols
    if bias is not None:
        out += np.asarray(bias).reshape(-1, 1)
    return out.reshape(f, n, h_out, w_out).transpose(1, 0, 2, 3)
''',
    "max-pool2d": '''import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def max_pool2d(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    windows = sliding_window_view(np.asarray(x), (kernel_size, kernel_size), axis=(2, 3))
    return windows[:, :, ::s, ::s].max(axis=(-2, -1))
''',
    "avg-pool2d": '''import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def avg_pool2d(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    windows = sliding_window_view(np.asarray(x), (kernel_size, kernel_size), axis=(2, 3))
    return windows[:, :, ::s, ::s].mean(axis=(-2, -1))
''',
    "squeeze": '''import numpy as np

def squeeze(x, factor=2):
    x = np.asarray(x)
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // factor, factor, w // factor, factor).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, -1, h // factor, w // factor)
''',
    "concepts": '''layers, k = 3, 3
q_receptive_field = k + (layers - 1) * (k - 1)
q_pooling, q_one_by_one, q_sharing = "c", "b", "a"
''',
}

# torch in float64, shift-and-add: one kernel offset at a time over the whole batch (no windows materialised)
SHIFT_AND_ADD = {
    "conv2d": '''import torch

def conv2d(x, weight, bias=None, stride=1, padding=0):
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    xp = torch.nn.functional.pad(x, (padding, padding, padding, padding))
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    out = torch.zeros(n, o, h_out, w_out, dtype=x.dtype, device=x.device)
    for m in range(kh):
        for q in range(kw):
            shifted = xp[:, :, m:m + stride * (h_out - 1) + 1:stride, q:q + stride * (w_out - 1) + 1:stride]
            out += torch.einsum("nchw,oc->nohw", shifted, weight[:, :, m, q])
    return out if bias is None else out + bias[None, :, None, None]
''',
    "max-pool2d": '''import torch

def max_pool2d(x, kernel_size, stride=None):
    s = stride if stride is not None else kernel_size
    h_out = (x.shape[2] - kernel_size) // s + 1
    w_out = (x.shape[3] - kernel_size) // s + 1
    best = None
    for m in range(kernel_size):
        for q in range(kernel_size):
            part = x[:, :, m:m + s * (h_out - 1) + 1:s, q:q + s * (w_out - 1) + 1:s]
            best = part if best is None else torch.maximum(best, part)
    return best
''',
    "avg-pool2d": '''def avg_pool2d(x, kernel_size, stride=None):
    s = stride if stride is not None else kernel_size
    h_out = (x.shape[2] - kernel_size) // s + 1
    w_out = (x.shape[3] - kernel_size) // s + 1
    total = 0
    for m in range(kernel_size):
        for q in range(kernel_size):
            total = total + x[:, :, m:m + s * (h_out - 1) + 1:s, q:q + s * (w_out - 1) + 1:s]
    return total / (kernel_size * kernel_size)
''',
    "squeeze": '''import torch

def squeeze(x, factor=2):
    parts = [x[:, :, i::factor, j::factor] for i in range(factor) for j in range(factor)]  # (N, C, H/f, W/f) each
    return torch.stack(parts, dim=2).flatten(1, 2)
''',
}

# torch with Python loops over output pixels (the lecture's formula read literally), windows collected in lists and
# stacked, squeeze through F.unfold (which lists each f×f block's pixels channel by channel, row by row)
TORCH_PIXEL_LOOPS = {
    "conv2d": '''import torch

def conv2d(x, weight, bias=None, stride=1, padding=0):
    x = torch.nn.functional.pad(x, [padding] * 4)
    kh, kw = weight.shape[2], weight.shape[3]
    rows = []
    for i in range(0, x.shape[2] - kh + 1, stride):
        row = []
        for j in range(0, x.shape[3] - kw + 1, stride):
            window = x[:, :, i:i + kh, j:j + kw]
            row.append(torch.tensordot(window, weight, dims=([1, 2, 3], [1, 2, 3])))  # (N, C_out)
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out
''',
    "max-pool2d": '''import torch

def max_pool2d(x, kernel_size, stride=None):
    s = stride or kernel_size
    k = kernel_size
    return torch.stack([torch.stack([x[:, :, i:i + k, j:j + k].amax(dim=(2, 3))
                                     for j in range(0, x.shape[3] - k + 1, s)], dim=-1)
                        for i in range(0, x.shape[2] - k + 1, s)], dim=-2)
''',
    "avg-pool2d": '''import torch

def avg_pool2d(x, kernel_size, stride=None):
    s = stride or kernel_size
    k = kernel_size
    return torch.stack([torch.stack([x[:, :, i:i + k, j:j + k].mean(dim=(2, 3))
                                     for j in range(0, x.shape[3] - k + 1, s)], dim=-1)
                        for i in range(0, x.shape[2] - k + 1, s)], dim=-2)
''',
    "squeeze": '''import torch

def squeeze(x, factor=2):
    n, c, h, w = x.shape
    blocks = torch.nn.functional.unfold(x, kernel_size=factor, stride=factor)  # (N, C·f², H/f · W/f)
    return blocks.reshape(n, c * factor * factor, h // factor, w // factor)
''',
}

STYLES = [
    Style("numpy and loops, literal answers", NUMPY_LOOPS),
    Style("float32 torch: unfold windows, einsum, a float64 bias added last", TORCH_FLOAT32),
    Style("numpy im2col and sliding windows, counts built in loops", IM2COL_NUMPY),
    Style("float64 torch, shift-and-add over the kernel offsets", SHIFT_AND_ADD),
    Style("torch loops over output pixels, stacked windows, squeeze by F.unfold", TORCH_PIXEL_LOOPS),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only).
CELL_TASKS = {
    "conv-output-size": ("output_sizes",), "conv-transpose-output-size": ("output_sizes",),
    "pool-output-size": ("output_sizes",), "count-conv-params": ("parameters",), "cifar-params": ("parameters",),
    "max-pool2d": ("pooling",), "avg-pool2d": ("pooling",),
}


# The library calls course.yaml forbids, each used instead of the student's work (tests/test_shortcuts.py).
SHORTCUTS = [
    Shortcut('conv2d', {
        'conv2d': """
            from torch.nn.functional import conv2d as c
            def conv2d(x, weight, bias=None, stride=1, padding=0):
                return c(x, weight, bias, stride, padding)
            """,
    }, 'torch.nn.functional.conv2d'),
    Shortcut('pooling', {
        'max-pool2d': """
            import torch.nn as nn
            def max_pool2d(x, kernel_size, stride=None):
                return nn.MaxPool2d(kernel_size, stride)(x)
            """,
        'avg-pool2d': """
            import torch
            def avg_pool2d(x, kernel_size, stride=None):
                return torch.nn.functional.avg_pool2d(x, kernel_size, stride)
            """,
    }, 'torch.nn.MaxPool2d'),
    Shortcut('squeeze', {
        'squeeze': """
            import torch.nn.functional as F
            squeeze = lambda x, factor=2: F.pixel_unshuffle(x, factor)
            """,
    }, 'torch.nn.functional.pixel_unshuffle'),
]
