"""ada: correct, written with numpy and loops (full marks)."""
import math

import numpy as np

STUDENT_ID = "ada"


def conv_output_size(d_in, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((d_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


def conv_transpose_output_size(d_in, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return (d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def pool_output_size(d_in, kernel_size, stride=None, padding=0):
    stride = stride or kernel_size
    return (d_in + 2 * padding - kernel_size) // stride + 1


def count_conv_params(c_in, c_out, k, bias=True):
    return c_out * (c_in * k * k + int(bias))


# ada's numbers: model 2 with c1 = 10, c2 = 20, k = 3 on 28×28 images (28 -> 26 -> 13 -> 11 -> 5), h1 = 120,
# h2 = 64; model 3 on 64×64 images (64 -> 32 -> 16 -> 8)
cifar_model_2_params = 280 + 1820 + (500 * 120 + 120) + (120 * 64 + 64) + 650
model_3_flatten_features = 256 * 8 * 8
cifar_model_3_params = 18435082


def conv2d(x, weight, bias=None, stride=1, padding=0):
    x, w = np.asarray(x), np.asarray(weight)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    c_out, _, kh, kw = w.shape
    h_out = (xp.shape[2] - kh) // stride + 1
    w_out = (xp.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], c_out, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        out += np.asarray(bias)[None, :, None, None]
    return out


def _pool(x, k, s, reduce):
    x = np.asarray(x)
    s = s or k
    h_out, w_out = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


def max_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.max)


def avg_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.mean)


def squeeze(x, factor=2):
    x = np.asarray(x)
    n, c, h, w = x.shape
    f = factor
    return x.reshape(n, c, h // f, f, w // f, f).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * f * f, h // f, w // f)


q_receptive_field = 5
q_pooling = "c"
q_one_by_one = "b"
q_sharing = "a"
