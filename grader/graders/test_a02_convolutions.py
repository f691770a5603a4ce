"""Grader for a02_convolutions: output sizes, parameter counts, a direct conv2d, pooling, squeeze and concept
questions (lecture: Deep Learning 2, "The two dimensional convolution", "Kernel size, padding and stride",
"CNN: convolutional in a network", "CNN in practice: CIFAR 10").

The size and count questions (CIFAR models, receptive field) use the graded student's own numbers
(grader/numbers/a02_convolutions.py). Every other test draws its inputs here from the seeded `rng`, runs the
student's code in the sandbox, and compares with the float64 reference in reference.conv (which matches F.conv2d,
F.max_pool2d, F.avg_pool2d, F.pixel_unshuffle and the shapes of nn.Conv2d / nn.ConvTranspose2d / nn.MaxPool2d).
Known mistakes are named in the feedback, also when the mistake changes the output's shape (padding or stride
ignored, pooling with stride 1).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.compare import Mismatch, Mistake, assert_choice, assert_close
from grader.variants import variant_numbers
from reference import conv as ref

ID = "a02_convolutions"

SUBMISSION_NAMES = (
    "conv_output_size", "conv_transpose_output_size", "pool_output_size", "count_conv_params",
    "cifar_model_2_params", "cifar_model_3_params", "model_3_flatten_features",
    "conv2d", "max_pool2d", "avg_pool2d", "squeeze",
    "q_receptive_field", "q_pooling", "q_one_by_one", "q_sharing",
)


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


# ------------------------------------------------------------------------------------------------------------------
# Sweeps over many arguments: one round trip to the sandbox for a whole grid of cases
# ------------------------------------------------------------------------------------------------------------------

def sweep_harness(student, name, cases):
    """Runs in the worker: the student's `name(*args, **kwargs)` for every (args, kwargs) case."""
    fn = getattr(student, name, None)
    if fn is None or not callable(fn):
        raise NameError(f"`{name}` is not defined in your notebook")
    out = []
    for args, kwargs in cases:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            detail = f": {exc}" if str(exc) else ""
            raise RuntimeError(f"{name}({shown}) raised {type(exc).__name__}{detail}") from None
        if hasattr(value, "item") and hasattr(value, "shape") and tuple(value.shape) in ((), (1,)):
            value = value.item()  # a 0-d tensor or array is fine
        out.append(value)
    return out


def call_text(name: str, args: tuple, kwargs: dict) -> str:
    return f"{name}(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"


def check_sweep(submission, name: str, cases: list[tuple[tuple, dict]], expected: list[float],
                mistakes: list[Mistake]) -> None:
    """Every case must give the expected integer; name a mistake that explains all cases, else show the first one."""
    got = submission.run(sweep_harness, name, cases)
    if not isinstance(got, list) or len(got) != len(cases):
        raise Mismatch(f"`{name}` did not return one value per call")
    values = []
    for (args, kwargs), value in zip(cases, got):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Mismatch(f"{call_text(name, args, kwargs)} returned a {type(value).__name__}; return an int")
        values.append(float(value))
    actual = np.asarray(values)
    wanted = np.asarray(expected, dtype=np.float64)
    # Sizes and counts are integers: only an exact answer is right (the float64 tolerance would be exact anyway).
    if np.array_equal(actual, wanted):
        return
    for mistake in mistakes:
        if np.array_equal(actual, np.asarray(mistake.value, dtype=np.float64)):
            hint = f" {mistake.hint}" if mistake.hint else ""
            raise Mismatch(f"`{name}` is wrong: it looks like {mistake.name}.{hint}")
    bad = int(np.flatnonzero(actual != wanted)[0])
    args, kwargs = cases[bad]
    raise Mismatch(f"`{name}` is wrong in {int((actual != wanted).sum())} of {len(cases)} cases, for example "
                   f"{call_text(name, args, kwargs)} returned {got[bad]!r} but should be {int(wanted[bad])}.")


# ------------------------------------------------------------------------------------------------------------------
# 1. Output sizes
# ------------------------------------------------------------------------------------------------------------------

def conv_cases(rng, n: int, dilations: tuple[int, ...]) -> list[tuple[int, int, int, int, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        s, p, d = int(rng.integers(1, 5)), int(rng.integers(0, 4)), int(rng.choice(dilations))
        try:
            ref.conv2d_output_size(d_in, k, s, p, d)
        except ValueError:
            continue
        cases.append((d_in, k, s, p, d))
    return cases


def conv_size_mistakes(cases) -> list[Mistake]:
    def each(f):
        return [float(f(d_in, k, s, p, d)) for d_in, k, s, p, d in cases]

    return [
        Mistake("the slide's formula without the floor (a fraction when the stride does not divide)",
                each(lambda d_in, k, s, p, d: (d_in + 2 * p - d * (k - 1) - 1) / s + 1)),
        Mistake("the division rounded up instead of down (a last, partial window does not count)",
                each(lambda d_in, k, s, p, d: math.ceil((d_in + 2 * p - d * (k - 1) - 1) / s) + 1)),
        Mistake("the dilation ignored (a dilated kernel spans d(k - 1) + 1 pixels)",
                each(lambda d_in, k, s, p, d: (d_in + 2 * p - k) // s + 1)),
        Mistake("the padding counted once instead of twice (it is added on both sides)",
                each(lambda d_in, k, s, p, d: (d_in + p - d * (k - 1) - 1) // s + 1)),
        Mistake("the + 1 missing (an off-by-one: the first window is at position 0)",
                each(lambda d_in, k, s, p, d: (d_in + 2 * p - d * (k - 1) - 1) // s)),
    ]


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
def test_conv_output_size_lecture_examples_and_random_grid(submission, rng):
    """conv_output_size: the lecture's layers (CIFAR models 2 and 3) and 40 random (d_in, k, stride, padding)"""
    lecture = [(32, 5, 1, 0, 1), (14, 5, 1, 0, 1), (32, 3, 1, 1, 1), (6, 3, 2, 0, 1), (7, 3, 2, 1, 1), (7, 3, 3, 1, 1)]
    cases = lecture + conv_cases(rng, 40, dilations=(1,))
    calls = [((d_in, k), {"stride": s, "padding": p}) for d_in, k, s, p, _ in cases]
    check_sweep(submission, "conv_output_size", calls, [ref.conv2d_output_size(*c) for c in cases],
                conv_size_mistakes(cases))


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_conv_output_size_with_dilation(submission, rng):
    """conv_output_size with dilation 1, 2 or 3 on 60 random settings (nn.Conv2d's shapes)"""
    cases = conv_cases(rng, 60, dilations=(1, 2, 3))
    calls = [((d_in, k, s, p, d), {}) for d_in, k, s, p, d in cases]
    check_sweep(submission, "conv_output_size", calls, [ref.conv2d_output_size(*c) for c in cases],
                conv_size_mistakes(cases))


def transpose_cases(rng, n: int, extras: bool) -> list[tuple[int, int, int, int, int, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = int(rng.integers(1, 20)), int(rng.integers(1, 7))
        s, p = int(rng.integers(1, 5)), int(rng.integers(0, 3))
        d = int(rng.integers(1, 4)) if extras else 1
        op = int(rng.integers(0, max(s, d))) if extras else 0
        try:
            ref.conv_transpose2d_output_size(d_in, k, s, p, op, d)
        except ValueError:
            continue
        cases.append((d_in, k, s, p, op, d))
    return cases


def transpose_mistakes(cases) -> list[Mistake]:
    def each(f):
        return [float(f(*c)) for c in cases]

    return [
        Mistake("the convolution's formula instead of its inverse (a transposed convolution enlarges)",
                each(lambda d_in, k, s, p, op, d: (d_in + 2 * p - d * (k - 1) - 1) // s + 1)),
        Mistake("d_in·s instead of (d_in - 1)·s (the first input pixel does not add a stride)",
                each(lambda d_in, k, s, p, op, d: d_in * s - 2 * p + d * (k - 1) + op + 1)),
        Mistake("the padding added instead of removed (in a transposed convolution 2p is subtracted)",
                each(lambda d_in, k, s, p, op, d: (d_in - 1) * s + 2 * p + d * (k - 1) + op + 1)),
        Mistake("output_padding ignored",
                each(lambda d_in, k, s, p, op, d: (d_in - 1) * s - 2 * p + d * (k - 1) + 1)),
        Mistake("the dilation ignored in the transposed convolution",
                each(lambda d_in, k, s, p, op, d: (d_in - 1) * s - 2 * p + (k - 1) + op + 1)),
    ]


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
def test_conv_transpose_output_size_random_grid(submission, rng):
    """conv_transpose_output_size on 40 random (d_in, k, stride, padding), no output_padding or dilation"""
    cases = transpose_cases(rng, 40, extras=False)
    calls = [((d_in, k), {"stride": s, "padding": p}) for d_in, k, s, p, _, _ in cases]
    check_sweep(submission, "conv_transpose_output_size", calls,
                [ref.conv_transpose2d_output_size(*c) for c in cases], transpose_mistakes(cases))


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_conv_transpose_output_size_with_output_padding_and_dilation(submission, rng):
    """conv_transpose_output_size with output_padding and dilation (nn.ConvTranspose2d's shapes), 60 settings"""
    cases = transpose_cases(rng, 60, extras=True)
    calls = [(c, {}) for c in cases]
    check_sweep(submission, "conv_transpose_output_size", calls,
                [ref.conv_transpose2d_output_size(*c) for c in cases], transpose_mistakes(cases))


def pool_cases(rng, n: int, explicit_stride: bool) -> list[tuple[int, int, int | None, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = int(rng.integers(1, 40)), int(rng.integers(2, 6))
        s = int(rng.integers(1, 5)) if explicit_stride else None
        p = int(rng.integers(0, k // 2 + 1))
        try:
            ref.pool2d_output_size(d_in, k, s, p)
        except ValueError:
            continue
        cases.append((d_in, k, s, p))
    return cases


def pool_mistakes(cases) -> list[Mistake]:
    def each(f):
        return [float(f(d_in, k, k if s is None else s, p, s is None)) for d_in, k, s, p in cases]

    return [
        Mistake("the stride defaulting to 1 instead of kernel_size (nn.MaxPool2d's stride defaults to the kernel size)",
                each(lambda d_in, k, s, p, default: (d_in + 2 * p - k) // (1 if default else s) + 1)),
        Mistake("the pooling formula without the floor",
                each(lambda d_in, k, s, p, default: (d_in + 2 * p - k) / s + 1)),
        Mistake("the padding counted once instead of twice in the pooling size",
                each(lambda d_in, k, s, p, default: (d_in + p - k) // s + 1)),
        Mistake("the + 1 missing in the pooling size",
                each(lambda d_in, k, s, p, default: (d_in + 2 * p - k) // s)),
    ]


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
def test_pool_output_size_with_the_default_stride(submission, rng):
    """pool_output_size(d_in, kernel_size) and with padding: the stride defaults to the kernel size (40 settings)"""
    cases = [(28, 2, None, 0), (10, 2, None, 0), (7, 2, None, 0)] + pool_cases(rng, 40, explicit_stride=False)
    calls = [((d_in, k), {} if p == 0 else {"padding": p}) for d_in, k, _, p in cases]
    check_sweep(submission, "pool_output_size", calls, [ref.pool2d_output_size(*c) for c in cases],
                pool_mistakes(cases))


@pytest.mark.task("output_sizes")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_pool_output_size_with_a_given_stride(submission, rng):
    """pool_output_size with an explicit stride and padding (nn.MaxPool2d's shapes), 50 settings"""
    cases = pool_cases(rng, 50, explicit_stride=True)
    calls = [((d_in, k, s, p), {}) for d_in, k, s, p in cases]
    check_sweep(submission, "pool_output_size", calls, [ref.pool2d_output_size(*c) for c in cases],
                pool_mistakes(cases))


# ------------------------------------------------------------------------------------------------------------------
# 2. Parameter counts and the lecture's CIFAR-10 models
# ------------------------------------------------------------------------------------------------------------------

def param_mistakes(cases) -> list[Mistake]:
    def each(f):
        return [float(f(c_in, c_out, k, bias)) for c_in, c_out, k, bias in cases]

    return [
        Mistake("the bias forgotten (one bias per output channel)", each(lambda ci, co, k, b: co * ci * k * k)),
        Mistake("c_in forgotten (each filter has c_in·k·k weights, one k×k slice per input channel)",
                each(lambda ci, co, k, b: co * k * k + (co if b else 0))),
        Mistake("k instead of k² (a k×k kernel has k·k weights per channel)",
                each(lambda ci, co, k, b: co * ci * k + (co if b else 0))),
        Mistake("the bias counted although bias=False", each(lambda ci, co, k, b: co * ci * k * k + co)),
        Mistake("one bias per input channel instead of one per output channel",
                each(lambda ci, co, k, b: co * ci * k * k + (ci if b else 0))),
    ]


def param_cases(rng, n: int, with_bias: bool) -> list[tuple[int, int, int, bool]]:
    cases = []
    for _ in range(n):
        c_in, c_out = int(rng.integers(1, 65)), int(rng.integers(1, 129))
        while c_out == c_in:
            c_out = int(rng.integers(1, 129))
        k = int(rng.integers(2, 8))
        cases.append((c_in, c_out, k, with_bias))
    return cases


@pytest.mark.task("parameters")
@pytest.mark.points(1)
def test_count_conv_params_with_bias(submission, rng):
    """count_conv_params(c_in, c_out, k) with the bias, on CIFAR model 2's layers and 30 random layers"""
    cases = [(3, 6, 5, True), (6, 16, 5, True)] + param_cases(rng, 30, with_bias=True)
    calls = [((c_in, c_out, k), {}) for c_in, c_out, k, _ in cases]
    check_sweep(submission, "count_conv_params", calls, [ref.conv2d_params(*c) for c in cases], param_mistakes(cases))


@pytest.mark.task("parameters")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_count_conv_params_with_and_without_bias(submission, rng):
    """count_conv_params(c_in, c_out, k, bias=...) with bias=True and bias=False, 40 random layers"""
    cases = param_cases(rng, 20, with_bias=False) + param_cases(rng, 20, with_bias=True)
    calls = [((c_in, c_out, k), {"bias": b}) for c_in, c_out, k, b in cases]
    check_sweep(submission, "count_conv_params", calls, [ref.conv2d_params(*c) for c in cases], param_mistakes(cases))


def model_2_flatten(n: dict) -> int:
    """Features model 2 passes to its first Linear: two (k×k convolution, 2×2 max-pool) on side×side images."""
    side = n["side"]
    for _ in range(2):
        side = ref.pool2d_output_size(ref.conv2d_output_size(side, n["k"]), 2)
    return n["c2"] * side * side


def model_2_params(n: dict, flat: int) -> int:
    return (ref.conv2d_params(3, n["c1"], n["k"]) + ref.conv2d_params(n["c1"], n["c2"], n["k"])
            + ref.linear_params(flat, n["h1"]) + ref.linear_params(n["h1"], n["h2"]) + ref.linear_params(n["h2"], 10))


@pytest.mark.task("parameters")
@pytest.mark.points(1)
def test_cifar_model_2_params(submission, student_id):
    """cifar_model_2_params: the trained parameters of model 2 with your numbers (the lecture's give 62,006)"""
    n = variant_numbers(ID, "parameters", student_id)
    flat = model_2_flatten(n)
    expected = model_2_params(n, flat)
    biases = n["c1"] + n["c2"] + n["h1"] + n["h2"] + 10
    unpooled = n["c2"] * (n["side"] - 2 * (n["k"] - 1)) ** 2
    k, c1, c2 = n["k"], n["c1"], n["c2"]
    assert_close(
        actual=submission.get("cifar_model_2_params"), expected=float(expected), name="cifar_model_2_params",
        mistakes=[
            Mistake("the biases forgotten (every conv and linear layer has one per output)", float(expected - biases)),
            Mistake(f"the max-pools forgotten before the flatten ({unpooled} features instead of {flat})",
                    float(model_2_params(n, unpooled))),
            Mistake("k instead of k² in the convolutions", float(expected - (3 * c1 + c1 * c2) * (k * k - k))),
        ],
    )


@pytest.mark.task("parameters")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_cifar_model_3_params_and_flatten_size(submission, student_id):
    """cifar_model_3_params and model_3_flatten_features: model 3 (second conv 32 -> 64) on your image size"""
    n = variant_numbers(ID, "parameters", student_id)
    side = n["model_3_side"]
    for _ in range(3):  # two size-keeping 3×3 convolutions (padding 1), then a 2×2 max-pool
        side = ref.pool2d_output_size(ref.conv2d_output_size(ref.conv2d_output_size(side, 3, 1, 1), 3, 1, 1), 2)
    flat = 256 * side * side
    unpooled = 256 * (2 * side) ** 2
    assert_close(actual=submission.get("model_3_flatten_features"), expected=float(flat),
                 name="model_3_flatten_features",
                 mistakes=[Mistake(f"the last max-pool forgotten (256·{2 * side}·{2 * side})", float(unpooled))])
    # the lecture's model 3 on 32×32 images, with its 4096-feature Linear replaced by this image size's
    expected = ref.CIFAR_MODEL_PARAMS[3] - ref.linear_params(4096, 1024) + ref.linear_params(flat, 1024)
    bn = 2 * (32 + 128 + 256)
    conv_bias = 32 + 64 + 128 + 128 + 256 + 256
    literal = expected - ref.conv2d_params(32, 64, 3) - ref.conv2d_params(64, 128, 3) \
        + ref.conv2d_params(32, 32, 3) + ref.conv2d_params(32, 128, 3)
    assert_close(
        actual=submission.get("cifar_model_3_params"), expected=float(expected), name="cifar_model_3_params",
        mistakes=[
            Mistake("the slide's literal 32 -> 32 second convolution (the slide then pools 64 channels, so it is "
                    "32 -> 64)", float(literal)),
            Mistake("batch norm's γ and β forgotten (2 trained parameters per channel)", float(expected - bn)),
            Mistake("batch norm's running mean and variance counted (they are buffers, not trained)",
                    float(expected + bn)),
            Mistake("the biases of the convolutions forgotten", float(expected - conv_bias)),
        ],
    )


# ------------------------------------------------------------------------------------------------------------------
# 3. A direct conv2d
# ------------------------------------------------------------------------------------------------------------------

def conv_mistakes(x, w, b, stride, padding) -> list[Mistake]:
    X, W = t(x), t(w)
    B = None if b is None else t(b)
    out = [Mistake("a true convolution (kernel flipped): deep-learning libraries compute a cross-correlation, "
                   "y_ij = Σ w_mn x_(i+m, j+n)", ref.conv2d(X, W.flip(-1, -2), B, stride, padding).numpy())]
    if b is not None:
        out.append(Mistake("the bias missing", ref.conv2d(X, W, None, stride, padding).numpy()))
    if padding:
        out.append(Mistake("the padding ignored (pad the input with `padding` zeros on every side)",
                           ref.conv2d(X, W, B, stride, 0).numpy()))
    if stride != 1:
        out.append(Mistake("the stride ignored (output (i, j) reads the input from row s·i, column s·j)",
                           ref.conv2d(X, W, B, 1, padding).numpy()))
    return out


def assert_conv_close(*, actual, expected, name: str, mistakes: list[Mistake]) -> None:
    """assert_close with a float64 result judged at the precision it was computed in (float32_digits: a convolution
    accumulated in float32 and promoted by a float64 bias). Every named mistake of conv2d is off by O(1), far outside
    float32's tolerance, so accepting float32 digits cannot pass a wrong convolution."""
    assert_close(actual=actual, expected=expected, name=name, mistakes=mistakes, float32_digits=True)


@pytest.mark.task("conv2d")
@pytest.mark.points(1)
def test_conv2d_one_channel_with_bias(submission, rng):
    """conv2d on one 6×6 image, one channel, a 3×3 kernel and a bias: the slide's y_ij = Σ_m Σ_n w_mn x_(i+m, j+n)"""
    x, w, b = rng.normal(size=(1, 1, 6, 6)), rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(1,))
    got = submission.call("conv2d", x, w, b)
    assert_conv_close(actual=got, expected=ref.conv2d(t(x), t(w), t(b)).numpy(), name="conv2d(x, weight, bias)",
                      mistakes=conv_mistakes(x, w, b, 1, 0))


@pytest.mark.task("conv2d")
@pytest.mark.points(1)
def test_conv2d_batch_channels_and_padding(submission, rng):
    """conv2d on a batch of 2 images, 3 -> 4 channels, 3×3 kernels, padding 1 (sizes kept, as in CIFAR model 3)"""
    x, w, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=(4,))
    got = submission.call("conv2d", x, w, b, stride=1, padding=1)
    assert_conv_close(actual=got, expected=ref.conv2d(t(x), t(w), t(b), 1, 1).numpy(),
                      name="conv2d(x, weight, bias, padding=1)", mistakes=conv_mistakes(x, w, b, 1, 1))


@pytest.mark.task("conv2d")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_conv2d_stride_and_padding(submission, rng):
    """conv2d with stride 2 and padding 1 on a batch of 2, 3 -> 2 channels, 7×7 images (matches F.conv2d)"""
    x, w, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=(2,))
    got = submission.call("conv2d", x, w, b, stride=2, padding=1)
    assert_conv_close(actual=got, expected=ref.conv2d(t(x), t(w), t(b), 2, 1).numpy(),
                      name="conv2d(x, weight, bias, stride=2, padding=1)", mistakes=conv_mistakes(x, w, b, 2, 1))


@pytest.mark.task("conv2d")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_conv2d_without_bias_rectangular_kernel_and_stride(submission, rng):
    """conv2d with bias=None, a 2×3 kernel, stride 3 and padding 2 on 6×8 images (matches F.conv2d)"""
    x, w = rng.normal(size=(2, 2, 6, 8)), rng.normal(size=(3, 2, 2, 3))
    got = submission.call("conv2d", x, w, None, stride=3, padding=2)
    assert_conv_close(actual=got, expected=ref.conv2d(t(x), t(w), None, 3, 2).numpy(),
                      name="conv2d(x, weight, None, stride=3, padding=2)", mistakes=conv_mistakes(x, w, None, 3, 2))


# ------------------------------------------------------------------------------------------------------------------
# 4. Max and average pooling
# ------------------------------------------------------------------------------------------------------------------

def pool_value_mistakes(kind: str, x: np.ndarray, k: int, stride: int | None) -> list[Mistake]:
    X = t(x)
    s = k if stride is None else stride
    out = []
    if kind == "max":
        out.append(Mistake("the average instead of the maximum", ref.avg_pool2d(X, k, s).numpy()))
    else:
        out.append(Mistake("the maximum instead of the average", ref.max_pool2d(X, k, s).numpy()))
        out.append(Mistake("the sum of each window instead of its mean (divide by kernel_size²)",
                           (ref.avg_pool2d(X, k, s) * k * k).numpy()))
    pool = ref.max_pool2d if kind == "max" else ref.avg_pool2d
    if stride is None:
        out.append(Mistake("the stride defaulting to 1 (it defaults to kernel_size: windows do not overlap)",
                           pool(X, k, 1).numpy()))
    elif stride != k:
        out.append(Mistake("the given stride ignored (stride = kernel_size used instead)", pool(X, k, k).numpy()))
        out.append(Mistake("windows of stride × stride pixels instead of kernel_size × kernel_size",
                           pool(X, s, s).numpy()[..., : ref.pool2d_output_size(x.shape[2], k, s),
                                                 : ref.pool2d_output_size(x.shape[3], k, s)]))
    return out


@pytest.mark.task("pooling")
@pytest.mark.points(1)
def test_max_pool2d_2x2(submission, rng):
    """max_pool2d(x, 2) on a batch of 2, 3 channels, 6×6: the maximum of each 2×2 block (stride defaults to 2)"""
    x = rng.normal(size=(2, 3, 6, 6))
    got = submission.call("max_pool2d", x, 2)
    assert_close(actual=got, expected=ref.max_pool2d(t(x), 2).numpy(), name="max_pool2d(x, 2)",
                       mistakes=pool_value_mistakes("max", x, 2, None))


@pytest.mark.task("pooling")
@pytest.mark.points(1)
def test_avg_pool2d_2x2(submission, rng):
    """avg_pool2d(x, 2) on a batch of 2, 3 channels, 6×4: the mean of each 2×2 block (stride defaults to 2)"""
    x = rng.normal(size=(2, 3, 6, 4))
    got = submission.call("avg_pool2d", x, 2)
    assert_close(actual=got, expected=ref.avg_pool2d(t(x), 2).numpy(), name="avg_pool2d(x, 2)",
                       mistakes=pool_value_mistakes("avg", x, 2, None))


@pytest.mark.task("pooling")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_pooling_with_overlapping_windows(submission, rng):
    """max_pool2d and avg_pool2d with kernel 3 and stride 2 on 7×7 (overlapping windows, matches F.max_pool2d)"""
    x = rng.normal(size=(2, 3, 7, 7))
    got = submission.call("max_pool2d", x, 3, stride=2)
    assert_close(actual=got, expected=ref.max_pool2d(t(x), 3, 2).numpy(), name="max_pool2d(x, 3, stride=2)",
                       mistakes=pool_value_mistakes("max", x, 3, 2))
    got = submission.call("avg_pool2d", x, 3, stride=2)
    assert_close(actual=got, expected=ref.avg_pool2d(t(x), 3, 2).numpy(), name="avg_pool2d(x, 3, stride=2)",
                       mistakes=pool_value_mistakes("avg", x, 3, 2))


@pytest.mark.task("pooling")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_pooling_drops_a_partial_last_window(submission, rng):
    """max_pool2d and avg_pool2d with kernel 3 on 7×8 images: the default stride 3 drops the partial last window"""
    x = rng.normal(size=(2, 2, 7, 8))
    got = submission.call("max_pool2d", x, 3)
    assert_close(actual=got, expected=ref.max_pool2d(t(x), 3).numpy(), name="max_pool2d(x, 3)",
                       mistakes=pool_value_mistakes("max", x, 3, None))
    got = submission.call("avg_pool2d", x, 3)
    assert_close(actual=got, expected=ref.avg_pool2d(t(x), 3).numpy(), name="avg_pool2d(x, 3)",
                       mistakes=pool_value_mistakes("avg", x, 3, None))


# ------------------------------------------------------------------------------------------------------------------
# 5. Squeeze (invertible pooling)
# ------------------------------------------------------------------------------------------------------------------

def squeeze_mistakes(x: np.ndarray, f: int) -> list[Mistake]:
    n, c, h, w = x.shape
    blocks = t(x).reshape(n, c, h // f, f, w // f, f)  # (N, C, H/f, i, W/f, j)
    shape = (n, c * f * f, h // f, w // f)
    return [
        Mistake("the channels ordered (i, j, c) instead of (c, i, j): pixel (i, j) of channel c goes to channel "
                "c·f² + i·f + j", blocks.permute(0, 3, 5, 1, 2, 4).reshape(shape).numpy()),
        Mistake("the blocks transposed (pixel (i, j) of a block sent to channel c·f² + j·f + i)",
                blocks.permute(0, 1, 5, 3, 2, 4).reshape(shape).numpy()),
        Mistake("a plain reshape, which scrambles pixels: split H and W into blocks, then move the block axes "
                "next to the channels (permute) before reshaping", t(x).reshape(shape).numpy()),
    ]


@pytest.mark.task("squeeze")
@pytest.mark.points(1)
def test_squeeze_factor_2(submission, rng):
    """squeeze(x) with the default factor 2: (2, 3, 4, 6) -> (2, 12, 2, 3), as F.pixel_unshuffle"""
    x = rng.normal(size=(2, 3, 4, 6))
    got = submission.call("squeeze", x)
    assert_close(actual=got, expected=ref.squeeze(t(x), 2).numpy(), name="squeeze(x)",
                       mistakes=squeeze_mistakes(x, 2))


@pytest.mark.task("squeeze")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_squeeze_factor_3(submission, rng):
    """squeeze(x, 3): (2, 2, 6, 9) -> (2, 18, 2, 3), as F.pixel_unshuffle, and no value is lost"""
    x = rng.normal(size=(2, 2, 6, 9))
    got = submission.call("squeeze", x, 3)
    assert_close(actual=got, expected=ref.squeeze(t(x), 3).numpy(), name="squeeze(x, 3)",
                       mistakes=squeeze_mistakes(x, 3))


# ------------------------------------------------------------------------------------------------------------------
# 6. Concept questions
# ------------------------------------------------------------------------------------------------------------------

@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_receptive_field_of_stacked_convolutions(submission, student_id):
    """q_receptive_field: how many input pixels (per side) one output of your stack of k×k convolutions sees"""
    n = variant_numbers(ID, "concepts", student_id)
    layers, k = n["layers"], n["k"]
    expected = 1 + layers * (k - 1)  # each k×k convolution with stride 1 widens the receptive field by k - 1
    assert_close(actual=submission.get("q_receptive_field"), expected=float(expected), name="q_receptive_field",
                 mistakes=[
                     Mistake("the kernel sizes added: neighbouring windows overlap, each layer adds k - 1",
                             float(layers * k)),
                     Mistake("the kernel sizes multiplied", float(k ** layers)),
                     Mistake("the receptive field of a single convolution", float(k)),
                 ])


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_what_pooling_buys(submission):
    """q_pooling: what a 2×2 max-pool gives a CNN"""
    assert_choice(actual=submission.get("q_pooling"), correct="c", name="q_pooling", explanations={
        "a": "pooling has no weights at all, so it cannot add trainable parameters",
        "b": "max pooling discards 3 of every 4 values; the invertible pooling (squeeze) is the one that keeps them",
        "d": "pooling acts on each channel separately: the number of channels is unchanged",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_why_one_by_one_convolutions(submission):
    """q_one_by_one: what a 1×1 convolution does"""
    assert_choice(actual=submission.get("q_one_by_one"), correct="b", name="q_one_by_one", explanations={
        "a": "a 1×1 kernel sees a single pixel: it cannot blur or detect edges, which need neighbouring pixels",
        "c": "with stride 1 and no padding a 1×1 convolution keeps the height and width (d_out = d_in)",
        "d": "it has c_out·(c_in + 1) parameters, not zero: the mix of channels is learned",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_parameter_sharing(submission):
    """q_sharing: why a convolution has far fewer parameters than a linear layer on the same image"""
    assert_choice(actual=submission.get("q_sharing"), correct="a", name="q_sharing", explanations={
        "b": "a convolution's count c_out(c_in·k² + 1) does not depend on the image size at all",
        "c": "the weights are trained by back-propagation like any others; they are shared, not frozen",
        "d": "padding adds zeros to the input; it adds or removes no parameters",
    })
