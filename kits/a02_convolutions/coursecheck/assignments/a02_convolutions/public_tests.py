"""Public checks of a02_convolutions, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import numpy as np
from coursecheck import rubric as pytest
from coursecheck.compare import Mismatch, Mistake, assert_close
from coursecheck.variants import variant_numbers
ref = reference_module('reference.conv')


ID = 'a02_convolutions'


def sweep_harness(student, name, cases):
    """Runs in the worker: the student's `name(*args, **kwargs)` for every (args, kwargs) case."""
    fn = getattr(student, name, None)
    if fn is None or not callable(fn):
        raise NameError(f'`{name}` is not defined in your notebook')
    out = []
    for args, kwargs in cases:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            shown = ', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])
            detail = f': {exc}' if str(exc) else ''
            raise RuntimeError(f'{name}({shown}) raised {type(exc).__name__}{detail}') from None
        if hasattr(value, 'item') and hasattr(value, 'shape') and (tuple(value.shape) in ((), (1,))):
            value = value.item()
        out.append(value)
    return out


def call_text(name: str, args: tuple, kwargs: dict) -> str:
    return f'{name}(' + ', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()]) + ')'


def check_sweep(submission, name: str, cases: list[tuple[tuple, dict]], expected: list[float], mistakes: list[Mistake]) -> None:
    """Every case must give the expected integer; name a mistake that explains all cases, else show the first one."""
    got = submission.run(sweep_harness, name, cases)
    if not isinstance(got, list) or len(got) != len(cases):
        raise Mismatch(f'`{name}` did not return one value per call')
    values = []
    for (args, kwargs), value in zip(cases, got):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Mismatch(f'{call_text(name, args, kwargs)} returned a {type(value).__name__}; return an int')
        values.append(float(value))
    actual = np.asarray(values)
    wanted = np.asarray(expected, dtype=np.float64)
    if np.array_equal(actual, wanted):
        return
    for mistake in mistakes:
        if np.array_equal(actual, np.asarray(mistake.value, dtype=np.float64)):
            hint = f' {mistake.hint}' if mistake.hint else ''
            raise Mismatch(f'`{name}` is wrong: it looks like {mistake.name}.{hint}')
    bad = int(np.flatnonzero(actual != wanted)[0])
    args, kwargs = cases[bad]
    raise Mismatch(f'`{name}` is wrong in {int((actual != wanted).sum())} of {len(cases)} cases, for example {call_text(name, args, kwargs)} returned {got[bad]!r} but should be {int(wanted[bad])}.')


def conv_cases(rng, n: int, dilations: tuple[int, ...]) -> list[tuple[int, int, int, int, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = (int(rng.integers(1, 40)), int(rng.integers(1, 8)))
        s, p, d = (int(rng.integers(1, 5)), int(rng.integers(0, 4)), int(rng.choice(dilations)))
        try:
            ref.conv2d_output_size(d_in, k, s, p, d)
        except ValueError:
            continue
        cases.append((d_in, k, s, p, d))
    return cases


@pytest.mark.task('output_sizes')
@pytest.mark.points(1)
def test_conv_output_size_lecture_examples_and_random_grid(submission, rng):
    """conv_output_size: the lecture's layers (CIFAR models 2 and 3) and 40 random (d_in, k, stride, padding)"""
    lecture = [(32, 5, 1, 0, 1), (14, 5, 1, 0, 1), (32, 3, 1, 1, 1), (6, 3, 2, 0, 1), (7, 3, 2, 1, 1), (7, 3, 3, 1, 1)]
    cases = lecture + conv_cases(rng, 40, dilations=(1,))
    calls = [((d_in, k), {'stride': s, 'padding': p}) for d_in, k, s, p, _ in cases]
    check_sweep(submission, 'conv_output_size', calls, [ref.conv2d_output_size(*c) for c in cases], recorded_call('test_conv_output_size_lecture_examples_and_random_grid#1', None, cases))


def transpose_cases(rng, n: int, extras: bool) -> list[tuple[int, int, int, int, int, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = (int(rng.integers(1, 20)), int(rng.integers(1, 7)))
        s, p = (int(rng.integers(1, 5)), int(rng.integers(0, 3)))
        d = int(rng.integers(1, 4)) if extras else 1
        op = int(rng.integers(0, max(s, d))) if extras else 0
        try:
            ref.conv_transpose2d_output_size(d_in, k, s, p, op, d)
        except ValueError:
            continue
        cases.append((d_in, k, s, p, op, d))
    return cases


@pytest.mark.task('output_sizes')
@pytest.mark.points(1)
def test_conv_transpose_output_size_random_grid(submission, rng):
    """conv_transpose_output_size on 40 random (d_in, k, stride, padding), no output_padding or dilation"""
    cases = transpose_cases(rng, 40, extras=False)
    calls = [((d_in, k), {'stride': s, 'padding': p}) for d_in, k, s, p, _, _ in cases]
    check_sweep(submission, 'conv_transpose_output_size', calls, [ref.conv_transpose2d_output_size(*c) for c in cases], recorded_call('test_conv_transpose_output_size_random_grid#1', None, cases))


def pool_cases(rng, n: int, explicit_stride: bool) -> list[tuple[int, int, int | None, int]]:
    cases = []
    while len(cases) < n:
        d_in, k = (int(rng.integers(1, 40)), int(rng.integers(2, 6)))
        s = int(rng.integers(1, 5)) if explicit_stride else None
        p = int(rng.integers(0, k // 2 + 1))
        try:
            ref.pool2d_output_size(d_in, k, s, p)
        except ValueError:
            continue
        cases.append((d_in, k, s, p))
    return cases


@pytest.mark.task('output_sizes')
@pytest.mark.points(1)
def test_pool_output_size_with_the_default_stride(submission, rng):
    """pool_output_size(d_in, kernel_size) and with padding: the stride defaults to the kernel size (40 settings)"""
    cases = [(28, 2, None, 0), (10, 2, None, 0), (7, 2, None, 0)] + pool_cases(rng, 40, explicit_stride=False)
    calls = [((d_in, k), {} if p == 0 else {'padding': p}) for d_in, k, _, p in cases]
    check_sweep(submission, 'pool_output_size', calls, [ref.pool2d_output_size(*c) for c in cases], recorded_call('test_pool_output_size_with_the_default_stride#1', None, cases))


def param_cases(rng, n: int, with_bias: bool) -> list[tuple[int, int, int, bool]]:
    cases = []
    for _ in range(n):
        c_in, c_out = (int(rng.integers(1, 65)), int(rng.integers(1, 129)))
        while c_out == c_in:
            c_out = int(rng.integers(1, 129))
        k = int(rng.integers(2, 8))
        cases.append((c_in, c_out, k, with_bias))
    return cases


@pytest.mark.task('parameters')
@pytest.mark.points(1)
def test_count_conv_params_with_bias(submission, rng):
    """count_conv_params(c_in, c_out, k) with the bias, on CIFAR model 2's layers and 30 random layers"""
    cases = [(3, 6, 5, True), (6, 16, 5, True)] + param_cases(rng, 30, with_bias=True)
    calls = [((c_in, c_out, k), {}) for c_in, c_out, k, _ in cases]
    check_sweep(submission, 'count_conv_params', calls, [ref.conv2d_params(*c) for c in cases], recorded_call('test_count_conv_params_with_bias#1', None, cases))


def model_2_flatten(n: dict) -> int:
    """Features model 2 passes to its first Linear: two (k×k convolution, 2×2 max-pool) on side×side images."""
    side = n['side']
    for _ in range(2):
        side = ref.pool2d_output_size(ref.conv2d_output_size(side, n['k']), 2)
    return n['c2'] * side * side


@pytest.mark.task('parameters')
@pytest.mark.points(1)
def test_cifar_model_2_params(submission, student_id):
    """cifar_model_2_params: the trained parameters of model 2 with your numbers (the lecture's give 62,006)"""
    n = variant_numbers(ID, 'parameters', student_id)
    flat = model_2_flatten(n)
    expected = recorded_call('test_cifar_model_2_params#1', None, n, flat)
    biases = n['c1'] + n['c2'] + n['h1'] + n['h2'] + 10
    unpooled = n['c2'] * (n['side'] - 2 * (n['k'] - 1)) ** 2
    k, c1, c2 = (n['k'], n['c1'], n['c2'])
    assert_close(actual=submission.get('cifar_model_2_params'), expected=recorded_value('test_cifar_model_2_params#2', None, expected), name='cifar_model_2_params', mistakes=[Mistake('the biases forgotten (every conv and linear layer has one per output)', recorded_value('test_cifar_model_2_params#3', None, biases, expected)), Mistake(f'the max-pools forgotten before the flatten ({unpooled} features instead of {flat})', recorded_value('test_cifar_model_2_params#4', None, n, unpooled)), Mistake('k instead of k² in the convolutions', recorded_value('test_cifar_model_2_params#5', None, c1, c2, expected, k))])


def assert_conv_close(*, actual, expected, name: str, mistakes: list[Mistake]) -> None:
    """assert_close with a float64 result judged at the precision it was computed in (float32_digits: a convolution
    accumulated in float32 and promoted by a float64 bias). Every named mistake of conv2d is off by O(1), far outside
    float32's tolerance, so accepting float32 digits cannot pass a wrong convolution."""
    assert_close(actual=actual, expected=expected, name=name, mistakes=mistakes, float32_digits=True)


@pytest.mark.task('conv2d')
@pytest.mark.points(1)
def test_conv2d_one_channel_with_bias(submission, rng):
    """conv2d on one 6×6 image, one channel, a 3×3 kernel and a bias: the slide's y_ij = Σ_m Σ_n w_mn x_(i+m, j+n)"""
    x, w, b = (rng.normal(size=(1, 1, 6, 6)), rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(1,)))
    got = submission.call('conv2d', x, w, b)
    assert_conv_close(actual=got, expected=ref.conv2d(recorded_call('test_conv2d_one_channel_with_bias#1', None, x), recorded_call('test_conv2d_one_channel_with_bias#2', None, w), recorded_call('test_conv2d_one_channel_with_bias#3', None, b)).numpy(), name='conv2d(x, weight, bias)', mistakes=recorded_call('test_conv2d_one_channel_with_bias#4', None, x, w, b, 1, 0))


@pytest.mark.task('conv2d')
@pytest.mark.points(1)
def test_conv2d_batch_channels_and_padding(submission, rng):
    """conv2d on a batch of 2 images, 3 -> 4 channels, 3×3 kernels, padding 1 (sizes kept, as in CIFAR model 3)"""
    x, w, b = (rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=(4,)))
    got = submission.call('conv2d', x, w, b, stride=1, padding=1)
    assert_conv_close(actual=got, expected=ref.conv2d(recorded_call('test_conv2d_batch_channels_and_padding#1', None, x), recorded_call('test_conv2d_batch_channels_and_padding#2', None, w), recorded_call('test_conv2d_batch_channels_and_padding#3', None, b), 1, 1).numpy(), name='conv2d(x, weight, bias, padding=1)', mistakes=recorded_call('test_conv2d_batch_channels_and_padding#4', None, x, w, b, 1, 1))


@pytest.mark.task('pooling')
@pytest.mark.points(1)
def test_max_pool2d_2x2(submission, rng):
    """max_pool2d(x, 2) on a batch of 2, 3 channels, 6×6: the maximum of each 2×2 block (stride defaults to 2)"""
    x = rng.normal(size=(2, 3, 6, 6))
    got = submission.call('max_pool2d', x, 2)
    assert_close(actual=got, expected=recorded_value('test_max_pool2d_2x2#1', None, x), name='max_pool2d(x, 2)', mistakes=recorded_call('test_max_pool2d_2x2#2', None, 'max', x, 2, None))


@pytest.mark.task('pooling')
@pytest.mark.points(1)
def test_avg_pool2d_2x2(submission, rng):
    """avg_pool2d(x, 2) on a batch of 2, 3 channels, 6×4: the mean of each 2×2 block (stride defaults to 2)"""
    x = rng.normal(size=(2, 3, 6, 4))
    got = submission.call('avg_pool2d', x, 2)
    assert_close(actual=got, expected=recorded_value('test_avg_pool2d_2x2#1', None, x), name='avg_pool2d(x, 2)', mistakes=recorded_call('test_avg_pool2d_2x2#2', None, 'avg', x, 2, None))


@pytest.mark.task('squeeze')
@pytest.mark.points(1)
def test_squeeze_factor_2(submission, rng):
    """squeeze(x) with the default factor 2: (2, 3, 4, 6) -> (2, 12, 2, 3), as F.pixel_unshuffle"""
    x = rng.normal(size=(2, 3, 4, 6))
    got = submission.call('squeeze', x)
    assert_close(actual=got, expected=recorded_value('test_squeeze_factor_2#1', None, x), name='squeeze(x)', mistakes=recorded_call('test_squeeze_factor_2#2', None, x, 2))


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_receptive_field_of_stacked_convolutions(submission, student_id):
    """q_receptive_field: how many input pixels (per side) one output of your stack of k×k convolutions sees"""
    n = variant_numbers(ID, 'concepts', student_id)
    layers, k = (n['layers'], n['k'])
    expected = 1 + layers * (k - 1)
    assert_close(actual=submission.get('q_receptive_field'), expected=recorded_value('test_receptive_field_of_stacked_convolutions#1', None, expected), name='q_receptive_field', mistakes=[Mistake('the kernel sizes added: neighbouring windows overlap, each layer adds k - 1', recorded_value('test_receptive_field_of_stacked_convolutions#2', None, k, layers)), Mistake('the kernel sizes multiplied', recorded_value('test_receptive_field_of_stacked_convolutions#3', None, k, layers)), Mistake('the receptive field of a single convolution', recorded_value('test_receptive_field_of_stacked_convolutions#4', None, k))])
