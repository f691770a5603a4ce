"""cleo: partly done: the output sizes, the parameter count and conv2d are written (conv2d forgets the stride);
the CIFAR numbers, pooling, squeeze and the concept questions are not started yet (those tests fail with
"not defined" or NotImplementedError, and the rest are graded as usual)."""
import torch


def conv_output_size(d_in, kernel_size, stride=1, padding=0, dilation=1):
    return (d_in + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_transpose_output_size(d_in, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return (d_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def pool_output_size(d_in, kernel_size, stride=None, padding=0):
    if stride is None:
        stride = kernel_size
    return (d_in + 2 * padding - kernel_size) // stride + 1


def count_conv_params(c_in, c_out, k, bias=True):
    return c_out * c_in * k * k + (c_out if bias else 0)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    x = torch.nn.functional.pad(x, (padding,) * 4)
    c_out, _, kh, kw = weight.shape
    h_out = x.shape[2] - kh + 1
    w_out = x.shape[3] - kw + 1
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = torch.einsum("bcmn,ocmn->bo", x[:, :, i:i + kh, j:j + kw], weight)
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def max_pool2d(x, kernel_size, stride=None):
    raise NotImplementedError()
