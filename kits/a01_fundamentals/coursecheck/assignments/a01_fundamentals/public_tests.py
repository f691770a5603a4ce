"""Public checks of a01_fundamentals, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mistake, assert_choice, assert_close
ref_mlp = reference_module('reference.mlp')
reg = reference_module('reference.regularization')


SOFTMAX_NAN_HINT = 'e^x overflows to inf beyond x ≈ 709 and underflows to 0 below −745: subtract the maximum along dim before exp'


def scalar(got):
    """A 1-element array as a 0-d one: grader/channel.py sends 0-d tensors as shape (1,) (np.ascontiguousarray)."""
    if isinstance(got, np.ndarray) and got.shape == (1,):
        return got.reshape(())
    return got


@pytest.mark.task('activation_grads')
@pytest.mark.points(1)
def test_sigmoid_grad(submission, rng):
    """sigmoid_grad(x) = σ(x)(1 − σ(x)) on a random matrix"""
    x = rng.normal(0.0, 2.0, size=(4, 6))
    s = recorded_call('test_sigmoid_grad#1', None, x)
    got = submission.call('sigmoid_grad', x)
    assert_close(actual=got, expected=recorded_value('test_sigmoid_grad#2', None, x), name='sigmoid_grad(x)', mistakes=[Mistake('σ(x) itself, not its derivative', s), Mistake('σ(x)(1 + σ(x)): the sign inside is wrong', recorded_value('test_sigmoid_grad#3', None, s)), Mistake('x(1 − x): the formula σ(1 − σ) applied to x instead of σ(x)', recorded_value('test_sigmoid_grad#4', None, x), hint='Compute s = σ(x) first, then s(1 − s).')])


@pytest.mark.task('activation_grads')
@pytest.mark.points(1)
def test_relu_grad(submission, rng):
    """relu_grad(x) = 1 for x > 0 and 0 for x ≤ 0, as floating-point numbers"""
    x = rng.normal(size=(6, 5))
    got = submission.call('relu_grad', x)
    assert_close(actual=got, expected=recorded_value('test_relu_grad#1', None, x), name='relu_grad(x)', mistakes=[Mistake('the ReLU max(0, x) itself, not its derivative', recorded_value('test_relu_grad#2', None, x)), Mistake('1 for x < 0 and 0 for x > 0: the comparison is the wrong way round', recorded_value('test_relu_grad#3', None, x)), Mistake('sign(x): the derivative is 0, not −1, for x < 0', recorded_value('test_relu_grad#4', None, x))])


@pytest.mark.task('softmax')
@pytest.mark.points(1)
def test_softmax_rows(submission, rng):
    """softmax over the last axis of a batch of logits: each row sums to one"""
    x = rng.normal(0.0, 2.0, size=(5, 4))
    got = submission.call('softmax', x)
    e = np.exp(x)
    assert_close(actual=got, expected=recorded_value('test_softmax_rows#1', None, x), name='softmax(x)', nan_hint=SOFTMAX_NAN_HINT, mistakes=[Mistake('a softmax over the wrong axis (columns instead of rows)', recorded_value('test_softmax_rows#2', None, x)), Mistake('normalised over all elements at once instead of per row', recorded_value('test_softmax_rows#3', None, e)), Mistake('the log-softmax', recorded_value('test_softmax_rows#4', None, x)), Mistake('the exponentials without dividing by their sum', e)])


@pytest.mark.task('softmax')
@pytest.mark.points(1)
def test_softmax_jacobian(submission, rng):
    """softmax_jacobian(s) = diag(s) − s sᵀ for a probability vector s"""
    s = recorded_call('test_softmax_jacobian#1', None, rng.normal(size=6))
    got = submission.call('softmax_jacobian', s)
    assert_close(actual=got, expected=recorded_value('test_softmax_jacobian#2', None, s), name='softmax_jacobian(s)', mistakes=[Mistake('diag(s) only: the − s sᵀ term is missing', recorded_value('test_softmax_jacobian#3', None, s)), Mistake('diag(s(1 − s)): only the diagonal, as if the softmax were elementwise', recorded_value('test_softmax_jacobian#4', None, s)), Mistake('s sᵀ − diag(s): the sign is flipped', recorded_value('test_softmax_jacobian#5', None, s)), Mistake('− s sᵀ only: the diag(s) term is missing', recorded_value('test_softmax_jacobian#6', None, s))])


@pytest.mark.task('cross_entropy')
@pytest.mark.points(1)
def test_cross_entropy(submission, rng):
    """cross_entropy(logits, y) = −(1/N) Σ_n log softmax(z_n)_{y_n} on a random batch"""
    n, k = (8, 5)
    z = rng.normal(0.0, 2.0, size=(n, k))
    y = rng.integers(0, k, size=n)
    got = scalar(submission.call('cross_entropy', z, y))
    assert_close(actual=got, expected=recorded_value('test_cross_entropy#1', None, y, z), name='cross_entropy(logits, y)', mistakes=recorded_call('test_cross_entropy#2', None, z, y))


def _params(rng, sizes) -> dict[str, np.ndarray]:
    """A_i (k_i, k_{i-1}) and b_i (k_i,) on nn.Linear's scale, so that some ReLUs are on and some off."""
    p = {}
    for i in (1, 2, 3):
        bound = 1.5 / np.sqrt(sizes[i - 1])
        p[f'A{i}'] = rng.uniform(-bound, bound, size=(sizes[i], sizes[i - 1]))
        p[f'b{i}'] = rng.uniform(-0.5, 0.5, size=sizes[i])
    return p


def _check_forward_output(got, n: int) -> tuple:
    assert isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], dict), f"mlp3_forward should return a pair (probs, cache) with cache a dict, but it returned {('a ' + type(got).__name__ + ' of length ' + str(len(got)) if isinstance(got, (tuple, list)) else 'a ' + type(got).__name__)}"
    return (got[0], got[1])


@pytest.mark.task('mlp_forward')
@pytest.mark.points(1)
def test_mlp3_forward_probs(submission, rng):
    """mlp3_forward: x_3 = softmax(A_3 ReLU(A_2 ReLU(A_1 x_0 + b_1) + b_2) + b_3) for a batch (12 → 8 → 6 → 4)"""
    sizes = (12, 8, 6, 4)
    p, X = (_params(rng, sizes), rng.normal(size=(10, sizes[0])))
    probs, _ = _check_forward_output(submission.call('mlp3_forward', X, p), len(X))
    expected, _ = recorded_call('test_mlp3_forward_probs#1', None, X, p)
    assert_close(actual=probs, expected=expected, name='probs = x_3', mistakes=recorded_call('test_mlp3_forward_probs#2', None, X, p, square=False))


def _check_backward(submission, rng, sizes, n, square: bool):
    p, X = (_params(rng, sizes), rng.normal(size=(n, sizes[0])))
    y = rng.integers(0, sizes[3], size=n)
    _, cache_t = recorded_call('_check_backward#1', None, X, p)
    cache = {k: v.numpy() for k, v in cache_t.items()}
    got = submission.call('mlp3_backward', cache, p, y)
    expected = recorded_call('_check_backward#2', None, X, p, y)
    assert isinstance(got, dict), f'mlp3_backward should return a dict of gradients, but it returned a {type(got).__name__}'
    missing = [k for k in ref_mlp.PARAM_NAMES if k not in got]
    assert not missing, f"the gradients have no entr{('y' if len(missing) == 1 else 'ies')} {', '.join(missing)}; return one gradient per parameter: A1, b1, A2, b2, A3, b3"
    variants = {'the gradient of the summed loss: divide ŷ − y by N (the loss is a mean over the batch)': dict(mean=False), "the ReLU derivative σ'(z_i) left out when back-propagating through a hidden layer": dict(mask=False), 'the sign of ∂l/∂z_3 flipped: it is ŷ − y, not y − ŷ': dict(sign=-1.0), '∂l/∂b_i averaged over the batch: it is the sum of the rows of ∂l/∂z_i (the 1/N is already in ∂l/∂z_3)': dict(bias_mean=True), "the slide's σ'_3(z_3) ⊙ l'(x_3), as if the softmax were elementwise: for softmax with cross-entropy, ∂l/∂z_3 = (ŷ − y)/N": dict(slide_softmax=True)}
    if square:
        variants['∂l/∂A_i transposed: it is (∂l/∂z_i)ᵀ x_{i-1}, the shape of A_i (k_i, k_{i-1})'] = dict(transpose_grad=True)
        variants['back-propagated with A_iᵀ: in the batch form ∂l/∂x_{i-1} = (∂l/∂z_i) A_i'] = dict(back_T=True)
    wrong = {name: recorded_call('_check_backward#3', None, cache, p, y, **flags) for name, flags in variants.items()}
    for key in ('A3', 'b3', 'A2', 'b2', 'A1', 'b1'):
        assert_close(actual=got[key], expected=recorded_value('_check_backward#4', None, expected, key), name=f'∂l/∂{key}', mistakes=[Mistake(name, recorded_value('_check_backward#5', None, g, key)) for name, g in wrong.items()])


@pytest.mark.task('mlp_backward')
@pytest.mark.points(2)
def test_mlp3_backward_matches_autograd(submission, rng):
    """mlp3_backward: every ∂l/∂A_i and ∂l/∂b_i of the mean cross-entropy equals torch.autograd's (12 → 8 → 6 → 4)"""
    _check_backward(submission, rng, (12, 8, 6, 4), 10, square=False)


@pytest.mark.task('grad_check')
@pytest.mark.points(1)
def test_relative_error(submission, rng):
    """relative_error(g_a, g_n) = ‖g_a − g_n‖ / max(‖g_a‖, ‖g_n‖) for two different gradients"""
    g_a = rng.normal(size=(4, 3))
    g_n = 1.6 * g_a + rng.normal(0.0, 0.5, size=(4, 3))
    got = scalar(submission.call('relative_error', g_a, g_n))
    assert_close(actual=got, expected=recorded_value('test_relative_error#1', None, g_a, g_n), name='relative_error(g_a, g_n)', mistakes=recorded_call('test_relative_error#2', None, g_a, g_n))


def _numgrad_harness(student, x, w, h):
    import numpy as np

    def f(v):
        a = v.detach().cpu().numpy() if hasattr(v, 'detach') else np.asarray(v)
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        return float(np.sum(np.sin(a) * a ** 2) + 0.5 * np.dot(w.numpy(), a) ** 2)
    fn = getattr(student, 'numerical_gradient', None)
    if fn is None:
        return {'missing': True}
    return {'grad': fn(f, x, h)}


NUMGRAD_TOL = {'rtol': 1e-06, 'atol': 1e-07}


def _check_numgrad(submission, rng, shape, name):
    x = np.clip(rng.normal(0.0, 1.2, size=shape), -3.0, 3.0)
    w = np.linspace(-1.0, 1.0, x.size)
    h = 1e-05
    out = submission.run(_numgrad_harness, x, w, h)
    assert not out.get('missing'), '`numerical_gradient` is not defined in your notebook'
    assert_close(actual=out['grad'], expected=recorded_value('_check_numgrad#1', None, w, x), name=name, mistakes=recorded_call('_check_numgrad#2', None, x, w, h), **NUMGRAD_TOL)


@pytest.mark.task('grad_check')
@pytest.mark.points(1)
def test_numerical_gradient(submission, rng):
    """numerical_gradient(f, x, h) by central differences equals the exact gradient of a test function (x a vector)"""
    _check_numgrad(submission, rng, (6,), 'numerical_gradient(f, x)')


def _sgd_harness(student, params, grads, lr):
    import numpy as np
    fn = getattr(student, 'sgd_step', None)
    if fn is None:
        return {'missing': True}
    before = {k: np.array(np.asarray(v), copy=True) for k, v in params.items()}
    out = fn(params, grads, lr)
    changed = sorted((k for k, v in params.items() if not np.array_equal(np.asarray(v), before[k])))
    return {'out': out, 'changed': changed}


def _check_sgd(submission, rng, sizes):
    p = _params(rng, sizes)
    g = {k: rng.normal(size=v.shape) for k, v in p.items()}
    lr = float(rng.choice([0.05, 0.1, 0.2]))
    res = submission.run(_sgd_harness, p, g, lr)
    assert not res.get('missing'), '`sgd_step` is not defined in your notebook'
    out = res['out']
    assert isinstance(out, dict), f'sgd_step should return a dict of new parameters, but it returned a {type(out).__name__}'
    expected = ref_mlp.sgd_step({k: recorded_call('_check_sgd#1', None, v) for k, v in p.items()}, {k: recorded_call('_check_sgd#2', None, v) for k, v in g.items()}, lr)
    for key in ref_mlp.PARAM_NAMES:
        assert key in out, f'the new parameters have no entry {key}: return every parameter of `params`'
        assert_close(actual=out[key], expected=recorded_value('_check_sgd#3', None, expected, key), name=f'the new {key}', mistakes=[Mistake('gradient ascent: θ + λ∇l; step against the gradient, θ − λ∇l', recorded_value('_check_sgd#4', None, g, key, lr, p)), Mistake('the learning rate left out: θ − ∇l', recorded_value('_check_sgd#5', None, g, key, p)), Mistake('the step −λ∇l returned instead of the new parameters θ − λ∇l', recorded_value('_check_sgd#6', None, g, key, lr))])
    return res


@pytest.mark.task('sgd')
@pytest.mark.points(1)
def test_sgd_step(submission, rng):
    """sgd_step: θ_{t+1} = θ_t − λ ∇_θ l for every parameter A1, b1, ..., b3"""
    _check_sgd(submission, rng, (5, 4, 3, 2))


def _minibatch_harness(student, N, b, drop_last, epochs):
    import numpy as np
    fn = getattr(student, 'minibatches', None)
    if fn is None:
        return {'missing': True}
    out = []
    for _ in range(epochs):
        out.append([np.asarray(batch).astype(np.int64).reshape(-1) for batch in fn(N, b, drop_last=drop_last)])
    return {'epochs': out}


def _check_minibatches(submission, N: int, b: int, drop_last: bool) -> None:
    res = submission.run(_minibatch_harness, N, b, drop_last, 2)
    assert not res.get('missing'), '`minibatches` is not defined in your notebook'
    call = f'minibatches(N={N}, batch_size={b}, drop_last={drop_last})'
    n_full, rest = divmod(N, b)
    expected_sizes = [b] * n_full + ([rest] if rest and (not drop_last) else [])
    for epoch in res['epochs']:
        sizes = [len(batch) for batch in epoch]
        if 0 in sizes:
            raise AssertionError(f'{call} yields an empty batch (sizes {sizes}): off by one in the number of batches, which is ⌈N/b⌉ = {len(expected_sizes)} here' if not drop_last else f'{call} yields an empty batch (sizes {sizes}); expected ⌊N/b⌋ = {n_full} batches')
        if not drop_last and sizes == [b] * n_full and rest:
            raise AssertionError(f'{call}: the last, smaller batch of the {rest} samples left over is missing (sizes {sizes}); with drop_last=False every sample is used once per epoch')
        if drop_last and sizes == [b] * n_full + [rest]:
            raise AssertionError(f"{call}: with drop_last=True the {rest} samples left over are not used (the slide's B = ⌊N/b⌋ batches), but a last batch of {rest} was yielded")
        if sizes != expected_sizes:
            raise AssertionError(f'{call} yields batches of sizes {sizes}; expected {expected_sizes}')
        flat = np.concatenate(epoch) if epoch else np.zeros(0, dtype=np.int64)
        if len(np.unique(flat)) != len(flat):
            raise AssertionError(f'{call}: some samples appear twice in one epoch and others never: draw a random permutation of the indices (sampling without replacement), not random indices')
        if flat.min() < 0 or flat.max() >= N:
            raise AssertionError(f'{call}: indices must lie in 0 … N − 1 = {N - 1}, got {flat.min()} … {flat.max()}')
        if np.array_equal(flat, np.arange(len(flat))):
            raise AssertionError(f'{call}: the batches are in the order 0, 1, 2, …: shuffle the samples with a new random permutation every epoch')
    first, second = (np.concatenate(e) for e in res['epochs'])
    if np.array_equal(first, second):
        raise AssertionError(f'{call}: two epochs gave the same order: draw a fresh permutation on every call (do not seed the generator inside the function)')


@pytest.mark.task('sgd')
@pytest.mark.points(1)
def test_minibatches_cover_every_sample(submission):
    """minibatches(N, b): a random permutation cut into ⌈N/b⌉ batches of b, the last one smaller (N = 103, b = 10)"""
    _check_minibatches(submission, 103, 10, drop_last=False)


def _reg_inputs(rng, shape):
    w, g = (rng.normal(size=shape), rng.normal(size=shape))
    return (w, g, float(rng.choice([0.05, 0.1, 0.5])), float(rng.choice([0.01, 0.1, 0.3])))


@pytest.mark.task('regularization')
@pytest.mark.points(1)
def test_l2_update(submission, rng):
    """l2_update: w ← w − η(∂L/∂w + 2λw), one step on J + λ‖W‖²"""
    w, g, lr, lam = _reg_inputs(rng, (4, 5))
    got = submission.call('l2_update', w, g, lr, lam)
    assert_close(actual=got, expected=recorded_value('test_l2_update#1', None, g, lam, lr, w), name='l2_update(w, grad, lr, lam)', mistakes=recorded_call('test_l2_update#2', None, w, g, lr, lam))


@pytest.mark.task('regularization')
@pytest.mark.points(1)
def test_l1_update(submission, rng):
    """l1_update: w ← w − η(∂L/∂w + λ sign(w)), one step on J + λ‖W‖₁"""
    w, g, lr, lam = _reg_inputs(rng, (5, 3))
    got = submission.call('l1_update', w, g, lr, lam)
    assert_close(actual=got, expected=recorded_value('test_l1_update#1', None, g, lam, lr, w), name='l1_update(w, grad, lr, lam)', mistakes=recorded_call('test_l1_update#2', None, w, g, lr, lam))


@pytest.mark.task('dropout')
@pytest.mark.points(1)
def test_dropout_with_a_given_mask(submission, rng):
    """dropout(x, p, mask) in training = x ⊙ mask / (1 − p) (inverted dropout)"""
    x = rng.normal(size=(6, 8))
    p = float(rng.choice([0.2, 0.3, 0.4]))
    mask = (rng.random(x.shape) >= p).astype(np.float64)
    got = submission.call('dropout', x, p, mask=mask, training=True)
    expected, _ = reg.dropout(recorded_call('test_dropout_with_a_given_mask#1', None, x), p, mask=recorded_call('test_dropout_with_a_given_mask#2', None, mask))
    assert_close(actual=got, expected=expected, name=f'dropout(x, p={p}, mask)', mistakes=recorded_call('test_dropout_with_a_given_mask#3', None, x, mask, p))


def _check_drawn_dropout(submission, rng, shape, p):
    x = 1.0 + np.abs(rng.normal(size=shape))
    got = submission.call('dropout', x, p, training=True)
    if not isinstance(got, np.ndarray) or got.shape != x.shape:
        assert_close(actual=got, expected=x, name=f'dropout(x, p={p})')
    dropped = got == 0
    expected = np.where(dropped, 0.0, x / (1 - p))
    assert_close(actual=got, expected=expected, name=f'the kept units of dropout(x, p={p})', mistakes=[Mistake('dropout without rescaling: divide the kept units by 1 − p', np.where(dropped, 0.0, x)), Mistake('the kept units divided by p instead of 1 − p', np.where(dropped, 0.0, x / p))])
    rate = float(dropped.mean())
    if abs(rate - (1 - p)) < 0.025:
        raise AssertionError(f'dropout(x, p={p}) dropped {rate:.1%} of the units: it keeps each unit with probability p instead of 1 − p; p is the probability of dropping a unit')
    if rate == 0:
        raise AssertionError(f'dropout(x, p={p}) dropped no unit at all: with training=True and no mask, draw one, keeping each unit with probability 1 − p')
    if abs(rate - p) > 0.025:
        raise AssertionError(f'dropout(x, p={p}) dropped {rate:.1%} of the units; about {p:.0%} should be dropped')


@pytest.mark.task('dropout')
@pytest.mark.points(1)
def test_dropout_draws_its_own_mask(submission, rng):
    """dropout(x, p) with no mask drops about a fraction p of the units and rescales the others by 1/(1 − p)"""
    _check_drawn_dropout(submission, rng, (400, 50), 0.2)


def _bn_inputs(rng, n, c, scale):
    x = rng.normal(size=(n, c)) * rng.uniform(0.5, 2.0, size=c) * scale + rng.normal(0.0, 3.0, size=c)
    return (x, rng.uniform(0.5, 2.0, size=c), rng.normal(size=c))


@pytest.mark.task('batch_norm')
@pytest.mark.points(1)
def test_batch_norm_train(submission, rng):
    """batch_norm_train(x, γ, β, ε) with the batch's mean and (biased) variance per feature, x of shape (b, C)"""
    x, gamma, beta = _bn_inputs(rng, 16, 5, 1.0)
    eps = 1e-05
    got = submission.call('batch_norm_train', x, gamma, beta, eps=eps)
    expected, _, _ = reg.batch_norm_train(recorded_call('test_batch_norm_train#1', None, x), recorded_call('test_batch_norm_train#2', None, gamma), recorded_call('test_batch_norm_train#3', None, beta), eps=eps)
    assert_close(actual=got, expected=expected, name='batch_norm_train(x, gamma, beta)', mistakes=recorded_call('test_batch_norm_train#4', None, x, gamma, beta, eps))


MNIST_SEED = 2026


MNIST_THRESHOLD = 0.9


MNIST_SECONDS = 20


def _mnist_harness(student, X_train, y_train, X_test, seed):
    import time
    import numpy as np
    import torch
    for name in ('build_mlp', 'train'):
        if not callable(getattr(student, name, None)):
            return {'missing': name}
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = student.build_mlp()
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    before = [p.detach().clone() for p in model.parameters()]
    given = model
    start = time.perf_counter()
    out = student.train(model, X_train, y_train)
    if isinstance(out, torch.nn.Module):
        model = out
    seconds = time.perf_counter() - start
    weights_changed = None if model is not given else any((not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters())))
    model.eval()
    with torch.no_grad():
        logits = model(X_test)
    if isinstance(logits, torch.Tensor):
        logits = logits.detach().to('cpu', torch.float64)
    return {'logits': logits, 'seconds': seconds, 'weights_changed': weights_changed}


def _build_harness(student):
    import torch
    fn = getattr(student, 'build_mlp', None)
    if not callable(fn):
        return {'missing': 'build_mlp'}
    torch.manual_seed(0)
    model = fn()
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(3, 784))
    n_params = sum((p.numel() for p in model.parameters()))
    return {'shape': list(out.shape) if isinstance(out, torch.Tensor) else None, 'n_params': int(n_params)}


def _check_harness_reply(res: dict) -> None:
    if 'missing' in res:
        raise AssertionError(f"`{res['missing']}` is not defined in your notebook")
    if 'not_module' in res:
        raise AssertionError(f"build_mlp() should return a torch.nn.Module, but it returned a {res['not_module']}")


@pytest.mark.task('mnist_mlp')
@pytest.mark.points(1)
def test_build_mlp_gives_ten_logits(submission):
    """build_mlp() returns an nn.Module that maps a batch of flattened images (N, 784) to logits (N, 10)"""
    res = submission.run(_build_harness)
    _check_harness_reply(res)
    assert res['shape'] == [3, 10], f"model(x) for x of shape (3, 784) should give logits of shape (3, 10), but gave {('a non-tensor' if res['shape'] is None else tuple(res['shape']))}"
    assert res['n_params'] > 0, 'the model has no trainable parameters'


@pytest.mark.task('mnist_mlp')
@pytest.mark.points(3)
def test_trained_mlp_reaches_the_accuracy(submission):
    """train(model, X, y) on 4,000 MNIST digits reaches a test accuracy ≥ 0.90 on the 1,000 test digits (≤ 20 s)"""
    load_mnist = reference_module('grader.data').load_mnist
    X_train, y_train = load_mnist('train')
    X_test, y_test = load_mnist('test')
    res = submission.run(_mnist_harness, X_train, y_train, X_test, MNIST_SEED, timeout=MNIST_SECONDS)
    _check_harness_reply(res)
    logits = res['logits']
    if not isinstance(logits, np.ndarray) or logits.shape != (len(X_test), 10):
        shape = tuple(logits.shape) if isinstance(logits, np.ndarray) else type(logits).__name__
        raise AssertionError(f'model(X_test) should give logits of shape ({len(X_test)}, 10), got {shape}')
    if not np.all(np.isfinite(logits)):
        raise AssertionError("the trained model's logits contain NaN or infinities: lower the learning rate")
    pred = logits.argmax(axis=1)
    accuracy = float((pred == y_test).mean())
    classes = np.unique(pred)
    if len(classes) == 1:
        raise AssertionError(f'the model predicts class {classes[0]} for every test image (accuracy {accuracy:.3f}): its output ignores the input; check that forward uses x and that train updates the weights')
    if accuracy < MNIST_THRESHOLD:
        if res.get('weights_changed') is False:
            hint = ' The weights of the model are exactly the ones it started with after train(): no update was applied. Is optimizer.step() called, on an optimizer built from model.parameters()?'
        elif accuracy < 0.3 and res.get('weights_changed') is True:
            hint = ' That is close to chance (0.10) although the weights changed during training: the updates do not reduce the loss. Check what the loss compares (the logits with the labels y) and the learning rate.'
        elif accuracy < 0.3:
            hint = ' That is close to chance (0.10).'
        else:
            hint = ' Train a little longer, with a larger learning rate, or a wider hidden layer.'
        raise AssertionError(f"test accuracy {accuracy:.3f} is below the required {MNIST_THRESHOLD:.2f} (training took {res['seconds']:.1f} s).{hint}")


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_dropout(submission):
    """What is dropout used for? (lecture exercise #17)"""
    assert_choice(actual=submission.get('q_dropout'), correct='b', name='q_dropout', explanations={'a': 'dropout does not speed up training: the thinned network usually needs more epochs to converge', 'c': 'dropout is not an activation function: it zeroes random units and rescales the others', 'd': 'normalising activations is what batch normalisation does, not dropout'})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_softmax_max(submission):
    """Why subtract max_k x_k before exponentiating in the softmax?"""
    assert_choice(actual=submission.get('q_softmax_max'), correct='c', name='q_softmax_max', explanations={'a': 'the division by Σ e^{x_i} already makes the outputs sum to one, with or without the shift', 'b': 'the probabilities do not change at all: softmax(x − c) = softmax(x) for any constant c', 'd': 'after the shift the logits are ≤ 0, not ≥ 0; and softmax accepts negative logits anyway'})
