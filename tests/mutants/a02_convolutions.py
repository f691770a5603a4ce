"""a02_convolutions: output sizes, parameter counts, conv2d, pooling and squeeze with their known mistakes, and other
correct styles (numpy with loops; torch built-ins in float32)."""
from tests.mutants import Mutant, Style

CONV_SIZE = "(d_in + 2 * padding - span) // stride + 1"
TRANSPOSE = "(d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1"
POOL = "(d_in + 2 * padding - kernel_size) // stride + 1"
MODEL_2 = """cifar_model_2_params = (count_conv_params(3, 6, 5) + count_conv_params(6, 16, 5)
                        + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10))"""

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
           "cifar_model_2_params = (count_conv_params(3, 6, 5, False) + count_conv_params(6, 16, 5, False)\n"
           "                        + 400 * 120 + 120 * 84 + 84 * 10)", "the biases forgotten"),
    Mutant("cifar-params", "(400 * 120 + 120)", "(1600 * 120 + 120)", "the max-pools forgotten before the flatten"),
    Mutant("cifar-params", "count_conv_params(3, 6, 5) + count_conv_params(6, 16, 5)",
           "(3 * 6 * 5 + 6) + (6 * 16 * 5 + 16)", "k instead of k² in the convolutions"),
    Mutant("cifar-params", "model_3_flatten_features = 256 * 4 * 4", "model_3_flatten_features = 256 * 8 * 8",
           "the last max-pool forgotten"),
    Mutant("cifar-params", "count_conv_params(32, 64, 3) + count_conv_params(64, 128, 3)",
           "count_conv_params(32, 32, 3) + count_conv_params(32, 128, 3)", "the slide's literal 32 -> 32"),
    Mutant("cifar-params", "batch_norm = 2 * (32 + 128 + 256)", "batch_norm = 0", "batch norm's γ and β forgotten"),
    Mutant("cifar-params", "batch_norm = 2 * (32 + 128 + 256)", "batch_norm = 4 * (32 + 128 + 256)",
           "running mean and variance counted"),
    Mutant("cifar-params", "+ (model_3_flatten_features * 1024 + 1024)",
           "- (32 + 64 + 128 + 128 + 256 + 256) + (model_3_flatten_features * 1024 + 1024)",
           "the biases of the convolutions forgotten"),
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
    Mutant("concepts", "q_receptive_field = 5", "q_receptive_field = 6", "the kernel sizes added (3 + 3)"),
    Mutant("concepts", "q_receptive_field = 5", "q_receptive_field = 9", "the kernel sizes multiplied"),
    Mutant("concepts", "q_receptive_field = 5", "q_receptive_field = 3", "the receptive field of a single 3×3"),
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
    "cifar-params": '''cifar_model_2_params = 456 + 2416 + 48120 + 10164 + 850
model_3_flatten_features = 4096
cifar_model_3_params = 5852170
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
    "concepts": '''q_receptive_field = 5.0
q_pooling = "C"
q_one_by_one = " b "
q_sharing = "(a)"
''',
}

TORCH_FLOAT32 = {
    "conv2d": '''import torch
import torch.nn.functional as F

def conv2d(x, weight, bias=None, stride=1, padding=0):
    b = None if bias is None else bias.float()
    return F.conv2d(x.float(), weight.float(), b, stride=stride, padding=padding)
''',
    "max-pool2d": '''import torch.nn.functional as F

def max_pool2d(x, kernel_size, stride=None):
    return F.max_pool2d(x.float(), kernel_size, stride)
''',
    "avg-pool2d": '''import torch

def avg_pool2d(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    weight = torch.full((1, 1, kernel_size, kernel_size), 1.0 / kernel_size ** 2)
    n, c, h, w = x.shape
    out = torch.nn.functional.conv2d(x.float().reshape(n * c, 1, h, w), weight, stride=s)
    return out.reshape(n, c, out.shape[-2], out.shape[-1])
''',
    "squeeze": '''import torch

def squeeze(x, factor=2):
    return torch.nn.functional.pixel_unshuffle(x.float(), factor)
''',
}

STYLES = [
    Style("numpy and loops, literal answers", NUMPY_LOOPS),
    Style("torch built-ins in float32", TORCH_FLOAT32),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only).
CELL_TASKS = {
    "conv-output-size": ("output_sizes",), "conv-transpose-output-size": ("output_sizes",),
    "pool-output-size": ("output_sizes",), "count-conv-params": ("parameters",), "cifar-params": ("parameters",),
    "max-pool2d": ("pooling",), "avg-pool2d": ("pooling",),
}
