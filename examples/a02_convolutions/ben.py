"""ben: classic mistakes, each named in the feedback: the slide's size formula without the floor, the transposed
formula with the padding added, the bias forgotten in the parameter count, the slide's literal 32 -> 32 in model 3,
a true (flipped) convolution, the average instead of the maximum, pooling with stride 1 by default, the squeezed
channels in (i, j, c) order, and the kernel sizes added for the receptive field."""
import torch

STUDENT_ID = "ben"


def conv_output_size(d_in, kernel_size, stride=1, padding=0, dilation=1):
    return (d_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


def conv_transpose_output_size(d_in, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return (d_in - 1) * stride + 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def pool_output_size(d_in, kernel_size, stride=1, padding=0):
    return (d_in + 2 * padding - kernel_size) // stride + 1


def count_conv_params(c_in, c_out, k, bias=True):
    return c_out * c_in * k * k


# ben's numbers: model 2 with c1 = 4, c2 = 12, k = 5 on 32×32 images, h1 = 120, h2 = 96; model 3 on 96×96 images
cifar_model_2_params = 50222
model_3_flatten_features = 36864
cifar_model_3_params = 39360490


def conv2d(x, weight, bias=None, stride=1, padding=0):
    x = torch.nn.functional.pad(x, (padding,) * 4)
    k = weight.flip(-1, -2)
    c_out, _, kh, kw = weight.shape
    h_out = (x.shape[2] - kh) // stride + 1
    w_out = (x.shape[3] - kw) // stride + 1
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = (patch[:, None] * k[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def max_pool2d(x, kernel_size, stride=None):
    stride = stride or kernel_size
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride).mean(dim=(-2, -1))


def avg_pool2d(x, kernel_size, stride=1):
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride).mean(dim=(-2, -1))


def squeeze(x, factor=2):
    n, c, h, w = x.shape
    f = factor
    return x.reshape(n, c, h // f, f, w // f, f).permute(0, 3, 5, 1, 2, 4).reshape(n, c * f * f, h // f, w // f)


q_receptive_field = 6
q_pooling = "b"
q_one_by_one = "b"
q_sharing = "a"
