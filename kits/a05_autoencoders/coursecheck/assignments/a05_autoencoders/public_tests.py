"""Public checks of a05_autoencoders, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import json
import math
from pathlib import Path
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mismatch, Mistake, assert_choice, assert_close, matches


CALIBRATION = json.loads(Path(__file__).with_name('calibration_a05_autoencoders.json').read_text(encoding='utf-8'))


BUDGET = CALIBRATION['budget']


CALL_SECONDS = 90


TRAINING_SEED = 20260


CODE_DIM = 32


NOISE_STD = 0.3


ANOMALY_CLASSES = tuple((int(c) for c in CALIBRATION['metrics']['anomaly_auroc']['per_class']))


PCA_STRIDE = 4


CONV_CODE = (8, 2, 2)


def threshold(metric: str, anomaly_class: int | None=None) -> float:
    entry = CALIBRATION['metrics'][metric]
    if anomaly_class is not None:
        entry = entry['per_class'][str(anomaly_class)]
    return float(entry['threshold'])


def scalar(got):
    """A 1-element array as a 0-d one (the channel may send a 0-d tensor as shape (1,))."""
    if isinstance(got, np.ndarray) and got.shape == (1,):
        return got.reshape(())
    return got


def digits8():
    load_digits8 = reference_module('grader.data').load_digits8
    X_train, _ = load_digits8('train', flatten=False)
    X_test, _ = load_digits8('test', flatten=False)
    return (X_train, X_test)


def corrupt_gaussian(X: np.ndarray, seed: int) -> np.ndarray:
    """The grader's held-out corrupted images (float32), drawn here: x + N(0, NOISE_STD²), clipped to [0, 1]."""
    noise = np.random.default_rng(seed).normal(0.0, NOISE_STD, size=X.shape)
    return np.clip(X + noise, 0.0, 1.0).astype(np.float32)


def _shape_harness(student, class_name, x, args):
    """Runs in the sandbox: build the student's model, return the shapes of encode, decode and forward."""
    import torch
    cls = getattr(student, class_name, None)
    if not callable(cls):
        return {'missing': class_name}
    torch.manual_seed(0)
    model = cls(*args)
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    model = model.to(x.device).eval()
    for name in ('encode', 'decode'):
        if not callable(getattr(model, name, None)):
            return {'missing': f'{class_name}.{name}'}
    with torch.no_grad():
        z = model.encode(x)
        if not isinstance(z, torch.Tensor):
            return {'code_type': type(z).__name__}
        out = model.decode(z)
        full = model(x)
    if not isinstance(out, torch.Tensor) or not isinstance(full, torch.Tensor):
        return {'out_type': type(out).__name__}
    same = out.shape == full.shape and bool(torch.allclose(out.double(), full.double(), atol=1e-06))
    return {'code': list(z.shape), 'out': list(out.shape), 'min': float(out.min()), 'max': float(out.max()), 'forward_is_decode_encode': same, 'params': int(sum((p.numel() for p in model.parameters())))}


def _ae_harness(student, X_train, X_eval, seed, steps, seconds, options):
    """Runs in the sandbox: seed, build the student's model, train it with the student's train_autoencoder on the
    grader's images under the budget, then encode the held-out images and decode their codes in a shuffled order.

    options: model ("Autoencoder" or "ConvAutoencoder"), args (constructor arguments), noise_std (the denoising
    corruption, drawn here), rho and beta (the student's KL penalty added to the loss), y_train and anomaly_class
    (the training images are the student's select_normal; the scores are the student's anomaly_scores).
    """
    import time
    import numpy as np
    import torch
    needed = [options['model'], 'train_autoencoder']
    if options.get('rho') is not None:
        needed.append('kl_sparsity_penalty')
    if options.get('anomaly_class') is not None:
        needed += ['select_normal', 'anomaly_scores']
    for name in needed:
        if not callable(getattr(student, name, None)):
            return {'missing': name}
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = X_train.device
    model = getattr(student, options['model'])(*options.get('args', ()))
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    model = model.to(device)
    corrupt = penalty = None
    if options.get('noise_std'):
        std = float(options['noise_std'])
        gen = torch.Generator().manual_seed(seed + 1)

        def corrupt(batch):
            noise = torch.randn(batch.shape, generator=gen, dtype=batch.dtype).to(batch.device)
            return (batch + std * noise).clamp(0.0, 1.0)
    if options.get('rho') is not None:
        rho, beta, kl = (float(options['rho']), float(options['beta']), student.kl_sparsity_penalty)

        def penalty(code):
            penalty.calls += 1
            return kl(code, rho, beta)
        penalty.calls = 0
    if options.get('anomaly_class') is not None:
        X_train = student.select_normal(X_train, options['y_train'], int(options['anomaly_class']))
        if not isinstance(X_train, torch.Tensor):
            X_train = torch.as_tensor(np.asarray(X_train), dtype=torch.float32, device=device)
    before = [q.detach().clone() for q in model.parameters()]
    start = time.perf_counter()
    losses = student.train_autoencoder(model, X_train, steps=steps, seconds=seconds, corrupt=corrupt, penalty=penalty)
    train_seconds = time.perf_counter() - start
    weights_changed = any((not torch.equal(b, q.detach()) for b, q in zip(before, model.parameters())))
    if isinstance(losses, torch.nn.Module):
        return {'returned_module': True}
    try:
        losses = [float(v) for v in losses][:10 * steps + 1]
    except Exception:
        losses = []
    model.eval()
    reply = {'seconds': train_seconds, 'losses': losses, 'n_train': int(len(X_train)), 'weights_changed': weights_changed, 'penalty_calls': penalty.calls if penalty is not None else None}
    with torch.no_grad():
        codes = model.encode(X_eval)
        if not isinstance(codes, torch.Tensor):
            return {**reply, 'code_type': type(codes).__name__}
        reply['code_shape'] = list(codes.shape)
        if codes.shape[0] != X_eval.shape[0]:
            return reply
        perm_seed = int(options.get('perm_seed', seed + 2))
        perm = torch.randperm(len(codes), generator=torch.Generator().manual_seed(perm_seed)).to(codes.device)
        shuffled = model.decode(codes[perm])
        direct = model.decode(codes[:100])
        if not isinstance(shuffled, torch.Tensor) or not isinstance(direct, torch.Tensor):
            return {**reply, 'out_type': type(shuffled).__name__}
        reply['out_shape'] = list(shuffled.shape)
        if shuffled.shape[0] != len(codes):
            return reply
        recon = torch.empty_like(shuffled)
        recon[perm] = shuffled
        reply['recon'] = recon.detach().to('cpu', torch.float32)
        reply['direct'] = direct.detach().to('cpu', torch.float32)
        flat = codes.reshape(len(codes), -1).detach().to('cpu', torch.float64)
        reply['code_mean'] = flat.mean(dim=0)
        if options.get('anomaly_class') is not None:
            scores = student.anomaly_scores(model, X_eval)
            reply['scores'] = torch.as_tensor(scores).detach().to('cpu', torch.float64) if scores is not None else None
    return reply


def _anomaly_scores_harness(student, X, W_enc, b_enc, W_dec, b_dec):
    """Runs in the sandbox: the student's anomaly_scores on a fixed small autoencoder given by the grader."""
    import torch
    if not callable(getattr(student, 'anomaly_scores', None)):
        return {'missing': 'anomaly_scores'}

    class Fixed(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Linear(W_enc.shape[1], W_enc.shape[0]).double()
            self.dec = torch.nn.Linear(W_dec.shape[1], W_dec.shape[0]).double()
            with torch.no_grad():
                (self.enc.weight.copy_(W_enc), self.enc.bias.copy_(b_enc))
                (self.dec.weight.copy_(W_dec), self.dec.bias.copy_(b_dec))

        def encode(self, x):
            return torch.relu(self.enc(x))

        def decode(self, z):
            return torch.sigmoid(self.dec(z))

        def forward(self, x):
            return self.decode(self.encode(x))
    model = Fixed().to(X.device).eval()
    return {'scores': student.anomaly_scores(model, X)}


def check_reply(res: dict, what: str='Autoencoder') -> None:
    if 'missing' in res:
        raise Mismatch(f"`{res['missing']}` is not defined in your notebook")
    if 'not_module' in res:
        raise Mismatch(f"{what}(...) should build a torch.nn.Module, but it gave a {res['not_module']}")
    if res.get('returned_module'):
        raise Mismatch('train_autoencoder should return the list of losses (one float per step), not the model: it trains the model it is given in place')
    if 'code_type' in res:
        raise Mismatch(f"encode(x) should return a tensor, but it returned a {res['code_type']}")
    if 'out_type' in res:
        raise Mismatch(f"decode(z) should return a tensor, but it returned a {res['out_type']}")


def trained(submission, key: str, *args, what: str='Autoencoder') -> dict:
    """One trained model per task, shared by that task's tests (kept on the submission object of this run)."""
    cache = submission.__dict__.setdefault('_a05_trained', {})
    if key not in cache:
        try:
            cache[key] = submission.run(_ae_harness, *args, timeout=CALL_SECONDS)
        except Exception as exc:
            cache[key] = exc
    res = cache[key]
    if isinstance(res, Exception):
        raise res
    check_reply(res, what)
    return res


def check_trained(res: dict, n: int, code_shape: tuple, out_shape: tuple) -> np.ndarray:
    """The reconstructions, after checking the budget, the code's shape and the decoder's consistency."""
    steps = len(res.get('losses', []))
    if steps > BUDGET['steps']:
        raise Mismatch(f"train_autoencoder ran {steps} steps, more than the budget of {BUDGET['steps']} it was given: stop after `steps` optimisation steps (and after `seconds` seconds)")
    got = tuple(res.get('code_shape', ()))
    if got != (n, *code_shape):
        raise Mismatch(f'the code has shape {got}, expected {(n, *code_shape)}: the encoder must squeeze each image through the bottleneck of {int(np.prod(code_shape))} numbers (that is what makes the autoencoder undercomplete; a wider code could simply copy the input)')
    got = tuple(res.get('out_shape', ()))
    if got != (n, *out_shape):
        raise Mismatch(f'decode(encode(x)) has shape {got}, expected {(n, *out_shape)}')
    recon = np.asarray(res['recon'], dtype=np.float64)
    if not np.all(np.isfinite(recon)):
        raise Mismatch('the reconstructions contain NaN or infinities: lower the learning rate, or check the loss')
    direct = np.asarray(res['direct'], dtype=np.float64)
    if direct.shape != recon[:100].shape or np.abs(direct - recon[:100]).max() > 0.0001:
        raise Mismatch('decode(z) must depend only on the code z it is given: decoding the same codes in a shuffled order gave different images (does the decoder reuse a stored input instead of z?)')
    return recon


def expected_noisy_target(X: np.ndarray, std: float) -> np.ndarray:
    """E[clip(x + ε, 0, 1)] for ε ~ N(0, std²), per pixel: what an AE trained against noisy targets converges to.

    With a = −x/σ and b = (1 − x)/σ: E = x(Φ(b) − Φ(a)) + σ(φ(a) − φ(b)) + (1 − Φ(b)).
    """
    x = torch.as_tensor(np.asarray(X, np.float64))
    a, b = (-x / std, (1.0 - x) / std)
    pdf = lambda u: torch.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    cdf_a, cdf_b = (torch.special.ndtr(a), torch.special.ndtr(b))
    return (x * (cdf_b - cdf_a) + std * (pdf(a) - pdf(b)) + (1.0 - cdf_b)).numpy()


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).mean())


def image_grid(rows: list[tuple[str, np.ndarray]], side: int, n: int=8):
    """One mosaic image (a single imshow is much faster to draw than a grid of axes): a row of n images per label."""
    from matplotlib.figure import Figure
    mosaic = np.ones((len(rows) * (side + 1), n * (side + 1)))
    for r, (_, images) in enumerate(rows):
        for i in range(n):
            mosaic[r * (side + 1):r * (side + 1) + side, i * (side + 1):i * (side + 1) + side] = np.asarray(images[i], np.float64).reshape(side, side)
    fig = Figure(figsize=(n * 0.8, len(rows) * 0.8 + 0.3))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(mosaic, cmap='gray', vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([(side + 1) * r + side / 2 for r in range(len(rows))], [label for label, _ in rows], fontsize=7)
    return fig


def loss_figure(losses: list[float], title: str):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4, 2.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(losses)
    (ax.set_xlabel('step'), ax.set_ylabel('training loss'), ax.set_title(title, fontsize=8))
    return fig


_PCA_CACHE: dict = {}


def reference_pca(X_train: np.ndarray, X_test: np.ndarray, k: int, center: bool=True, columns: bool=False):
    """μ + (X_test − μ) V_k V_kᵀ in float64 (torch.linalg.svd), and the named mistaken variants."""
    Xtr, Xte = (recorded_call('reference_pca#1', None, np.asarray(X_train, np.float64)), recorded_call('reference_pca#2', None, np.asarray(X_test, np.float64)))
    mu = Xtr.mean(dim=0) if center else torch.zeros(Xtr.shape[1], dtype=torch.float64)
    key = (X_train.shape, float(np.asarray(X_train, np.float64).sum()), center)
    if key not in _PCA_CACHE:
        _PCA_CACHE[key] = torch.linalg.svd(Xtr - mu, full_matrices=False)[2]
    Vh = _PCA_CACHE[key]
    V = Vh[:, :k] if columns else Vh[:k].T
    return (mu + (Xte - mu) @ V @ V.T).numpy()


@pytest.mark.task('undercomplete')
@pytest.mark.points(1)
def test_autoencoder_shapes(submission, rng):
    """Autoencoder(784, 32): encode (N, 784) → (N, 32), decode → (N, 784) with values in [0, 1], forward = decode(encode)"""
    x = rng.random((5, 784)).astype(np.float32)
    res = submission.run(_shape_harness, 'Autoencoder', x, [784, CODE_DIM])
    check_reply(res)
    if tuple(res['code']) != (5, CODE_DIM):
        raise Mismatch(f"encode(x) for x of shape (5, 784) has shape {tuple(res['code'])}, expected (5, {CODE_DIM}): the code is the bottleneck of code_dim = {CODE_DIM} numbers")
    if tuple(res['out']) != (5, 784):
        raise Mismatch(f"decode(encode(x)) has shape {tuple(res['out'])}, expected (5, 784)")
    if res['min'] < 0 or res['max'] > 1:
        raise Mismatch(f"the reconstructions range over [{res['min']:.3g}, {res['max']:.3g}]; pixels lie in [0, 1]: end the decoder with a sigmoid, as in the lecture's Dense(784, activation='sigmoid')")
    if not res['forward_is_decode_encode']:
        raise Mismatch('forward(x) should return decode(encode(x))')


def _undercomplete(submission, rng):
    X_train, _, X_test, _ = recorded_call('_undercomplete#1', None)
    res = trained(submission, 'undercomplete', X_train, X_test, TRAINING_SEED, BUDGET['steps'], BUDGET['seconds'], {'model': 'Autoencoder', 'args': [784, CODE_DIM], 'perm_seed': int(rng.integers(2 ** 31))})
    return (res, X_train, X_test)


@pytest.mark.task('undercomplete')
@pytest.mark.points(3)
def test_trained_autoencoder_reconstructs_held_out_digits(submission, rng, figure):
    """train_autoencoder on 2,000 MNIST digits under the budget: held-out reconstruction MSE below the calibrated threshold"""
    res, X_train, X_test = _undercomplete(submission, rng)
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    figure('undercomplete AE: held-out input, yours, PCA with 32 components (reference, fit on 500 digits)', image_grid([('input', X_test), ('yours', recon), ('PCA-32', reference_pca(X_train[1::PCA_STRIDE], X_test[:8], CODE_DIM))], 28))
    if res['losses']:
        figure('undercomplete AE: your training loss', loss_figure(res['losses'], 'train_autoencoder'))
    value, limit = (mse(recon, X_test), threshold('undercomplete_mse'))
    mean_image = mse(X_train.mean(axis=0, keepdims=True), X_test)
    if value > limit:
        if value > 0.8 * mean_image or recon.std(axis=0).mean() < 0.02:
            measured = f'held-out MSE {value:.4f} (threshold {limit:.4f}): about what the mean image gets ({mean_image:.4f}): the reconstructions barely depend on the input'
            if not res.get('weights_changed', True):
                raise Mismatch(f"{measured}, and training changed no weight: is the model trained (loss.backward(), optimizer.step() on the model's parameters)?")
            raise Mismatch(f"{measured} (training took {res['seconds']:.1f} s, {len(res['losses'])} steps; does encode use x, and does the training reduce the loss?)")
        raise Mismatch(f"held-out MSE {value:.4f} is above the threshold {limit:.4f} (training took {res['seconds']:.1f} s, {len(res['losses'])} steps): try Adam with a learning rate around 1e-2 and batches of 64")


@pytest.mark.task('denoising')
@pytest.mark.points(1)
def test_gaussian_noise_statistics(submission, rng):
    """gaussian_noise(x, std) adds N(0, std²) per pixel: on x = 0.5 the added noise has standard deviation std"""
    std = float(rng.uniform(0.05, 0.09))
    x = np.full((200, 500), 0.5)
    got = submission.call('gaussian_noise', x, std)
    if not isinstance(got, (np.ndarray, torch.Tensor)) or tuple(np.shape(got)) != x.shape:
        raise Mismatch(f'gaussian_noise(x, std) should return an array of the shape of x {x.shape}')
    spread = float(np.std(np.asarray(got, np.float64) - x))
    assert_close(actual=spread, expected=std, name='std of gaussian_noise(x, std) − x', rtol=0.03, atol=0.0, mistakes=[Mistake('std² used as the standard deviation (std is already σ, not σ²)', recorded_value('test_gaussian_noise_statistics#1', None, std)), Mistake('the square root of std used as the standard deviation', recorded_value('test_gaussian_noise_statistics#2', None, std)), Mistake('uniform noise in [−std, std] instead of a Gaussian', recorded_value('test_gaussian_noise_statistics#3', None, std))])


@pytest.mark.task('denoising')
@pytest.mark.points(1)
def test_masking_noise_statistics(submission, rng):
    """masking_noise(x, p) sets each pixel to 0 with probability p and keeps the others unchanged"""
    p = float(rng.uniform(0.15, 0.35))
    x = np.full((200, 500), 0.5)
    got = submission.call('masking_noise', x, p)
    if not isinstance(got, (np.ndarray, torch.Tensor)) or tuple(np.shape(got)) != x.shape:
        raise Mismatch(f'masking_noise(x, p) should return an array of the shape of x {x.shape}')
    got = np.asarray(got, np.float64)
    assert_close(actual=float((got == 0).mean()), expected=p, name='fraction of masked (zero) pixels', atol=0.015, mistakes=[Mistake('each pixel kept with probability p instead of 1 − p (p is the masking probability)', recorded_value('test_masking_noise_statistics#1', None, p))])
    kept = got[got != 0]
    assert_close(actual=float(kept.mean()) if kept.size else 0.0, expected=0.5, name='mean of the kept pixels', mistakes=[Mistake('the kept pixels rescaled by 1/(1 − p) as in inverted dropout: masking noise keeps them unchanged', recorded_value('test_masking_noise_statistics#2', None, p))])


@pytest.mark.task('denoising')
@pytest.mark.points(2)
def test_denoising_autoencoder_removes_noise(submission, rng, figure):
    """a denoising AE trained on corrupted inputs with the clean target: on held-out noisy digits its outputs fit the clean digits (MSE below the threshold), not the noisy images"""
    X_train, _, X_test, _ = recorded_call('test_denoising_autoencoder_removes_noise#1', None)
    eval_seed = int(rng.integers(2 ** 31))
    noisy = corrupt_gaussian(X_test, eval_seed + 3)
    res = trained(submission, 'denoising', X_train, noisy, TRAINING_SEED, BUDGET['steps'], BUDGET['seconds'], {'model': 'Autoencoder', 'args': [784, CODE_DIM], 'noise_std': NOISE_STD, 'perm_seed': eval_seed + 2})
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    figure('denoising AE: held-out noisy input, yours, clean', image_grid([('noisy', noisy), ('yours', recon), ('clean', X_test)], 28))
    value, limit = (mse(recon, X_test), threshold('denoising_mse'))
    to_noisy_target = mse(recon, expected_noisy_target(X_test, NOISE_STD))
    background = float(recon[X_test == 0].mean())
    if background > threshold('denoising_background') and to_noisy_target <= limit:
        raise Mismatch(f"your outputs have a grey background (mean {background:.3f} where the clean digit is 0, at most {threshold('denoising_background'):.3f} is expected) and fit what training against the noisy images gives (MSE {to_noisy_target:.4f} to E[x̃ | x]; {value:.4f} to the clean digits): it looks like the loss compares the output with the noisy input instead of the clean image; a denoising AE feeds x̃ and reconstructs x")
    if value > limit:
        raise Mismatch(f"denoising MSE {value:.4f} is above the threshold {limit:.4f} (the noisy images themselves have {mse(noisy, X_test):.4f}; training took {res['seconds']:.1f} s, {len(res['losses'])} steps); your outputs do not fit the noisy images' mean E[x̃ | x] either (MSE {to_noisy_target:.4f}, background {background:.3f}), so they do not show a noisy target: feed the corrupted batch, compare the output with the clean batch, and train as in task 1")


def sigmoid_codes(rng: np.random.Generator, m: int, s: int) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-rng.normal(-1.0, 2.0, size=(m, s))))


@pytest.mark.task('sparse')
@pytest.mark.points(1)
def test_kl_sparsity_penalty(submission, rng):
    """kl_sparsity_penalty(a, ρ, β) = β Σ_j KL(ρ‖ρ̂_j) with ρ̂_j the mean activation of unit j over the batch"""
    a = sigmoid_codes(rng, 40, 12)
    rho, beta = (float(rng.choice([0.05, 0.1, 0.2])), float(rng.uniform(0.5, 3.0)))
    got = scalar(submission.call('kl_sparsity_penalty', a, rho, beta))
    assert_close(actual=got, expected=recorded_value('test_kl_sparsity_penalty#1', None, a, beta, rho), name='kl_sparsity_penalty(a, rho, beta)', mistakes=recorded_call('test_kl_sparsity_penalty#2', None, a, rho, beta), float32_digits=True)


@pytest.mark.task('sparse')
@pytest.mark.points(1)
def test_l1_activity_penalty(submission, rng):
    """l1_activity_penalty(a, λ) = λ · (1/m) Σ_i Σ_j |a_ij|: summed over the units, averaged over the batch"""
    a = rng.normal(size=(16, 10))
    lam = float(rng.uniform(0.01, 0.5))
    got = scalar(submission.call('l1_activity_penalty', a, lam))
    assert_close(actual=got, expected=recorded_value('test_l1_activity_penalty#1', None, a, lam), name='l1_activity_penalty(a, lam)', mistakes=[Mistake('the L2 penalty Σ a² instead of the L1 penalty Σ |a|', recorded_value('test_l1_activity_penalty#2', None, a, lam)), Mistake('summed over the batch instead of averaged', recorded_value('test_l1_activity_penalty#3', None, a, lam)), Mistake('averaged over the units instead of summed', recorded_value('test_l1_activity_penalty#4', None, a, lam)), Mistake('the weight λ left out', recorded_value('test_l1_activity_penalty#5', None, a)), Mistake('Σ a without the absolute value', recorded_value('test_l1_activity_penalty#6', None, a, lam))])


@pytest.mark.task('anomaly')
@pytest.mark.points(1)
def test_select_normal(submission, rng):
    """select_normal(X, y, c) keeps the images of every digit except the anomaly class c"""
    y = rng.integers(0, 5, size=30)
    X = rng.normal(size=(30, 4))
    c = int(rng.integers(1, 4))
    got = submission.call('select_normal', X, y, c)
    mistakes = [Mistake('only the anomaly class kept (y == c) instead of removed', recorded_value('test_select_normal#1', None, X, c, y)), Mistake('all digits kept: the training set includes the anomaly class', X), Mistake('the wrong class removed (off by one)', recorded_value('test_select_normal#2', None, X, c, y)), Mistake('the wrong class removed (off by one)', recorded_value('test_select_normal#3', None, X, c, y))]
    for mistake in mistakes:
        if matches(got, mistake.value) and (not matches(got, X[y != c])):
            raise Mismatch(f'`select_normal(X, y, c)` is wrong: it looks like {mistake.name}.')
    assert_close(actual=got, expected=recorded_value('test_select_normal#4', None, X, c, y), name='select_normal(X, y, c)', mistakes=mistakes)


def anomaly_model(rng: np.random.Generator, d: int, k: int):
    return (rng.normal(0, 0.5, size=(k, d)), rng.normal(0, 0.1, size=k), rng.normal(0, 0.5, size=(d, k)), rng.normal(0, 0.1, size=d))


@pytest.mark.task('anomaly')
@pytest.mark.points(1)
def test_anomaly_scores_on_a_fixed_model(submission, rng):
    """anomaly_scores(model, X) = MSE_i = (1/k)‖x_i − x̂_i‖² per image, x̂ = model.decode(model.encode(x))"""
    X = rng.random((12, 20))
    W1, b1, W2, b2 = anomaly_model(rng, 20, 5)
    res = submission.run(_anomaly_scores_harness, X, W1, b1, W2, b2)
    check_reply(res)
    x_hat = 1 / (1 + np.exp(-(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2)))
    err = (X - x_hat) ** 2
    assert_close(actual=res['scores'], expected=recorded_value('test_anomaly_scores_on_a_fixed_model#1', None, X, x_hat), name='anomaly_scores(model, X)', mistakes=[Mistake('scored by the negative error (a higher score must mean more anomalous)', recorded_value('test_anomaly_scores_on_a_fixed_model#2', None, err)), Mistake("the squared errors summed over the pixels, not averaged (the lecture's MSE_i has 1/k)", recorded_value('test_anomaly_scores_on_a_fixed_model#3', None, err)), Mistake('the norm ‖x − x̂‖ (a square root) instead of the mean squared error', recorded_value('test_anomaly_scores_on_a_fixed_model#4', None, err)), Mistake('the absolute error instead of the squared error', recorded_value('test_anomaly_scores_on_a_fixed_model#5', None, X, x_hat))])


def area_under_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUROC as the Mann-Whitney statistic: the chance that an anomaly outscores a normal image, ties counting half.
    Written here rather than taken from scikit-learn so that the student kit, which has only numpy and torch, can
    measure it too (tests/test_calibration_a05_autoencoders.py checks it equals sklearn's roc_auc_score)."""
    pos, neg = (scores[labels][:, None], scores[~labels][None, :])
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


@pytest.mark.task('anomaly')
@pytest.mark.points(3)
def test_anomaly_detection_auroc(submission, rng, figure):
    """an AE trained on every digit but one: its reconstruction error flags the held-out digit (AUROC above the threshold)"""
    X_train, y_train, X_test, y_test = recorded_call('test_anomaly_detection_auroc#1', None)
    perm_seed = int(rng.integers(2 ** 31))
    c = int(rng.choice(ANOMALY_CLASSES))
    res = trained(submission, 'anomaly', X_train, X_test, TRAINING_SEED, BUDGET['steps'], BUDGET['seconds'], {'model': 'Autoencoder', 'args': [784, CODE_DIM], 'y_train': y_train, 'anomaly_class': c, 'perm_seed': perm_seed})
    check_trained(res, len(X_test), (CODE_DIM,), (784,))
    scores = res.get('scores')
    if not isinstance(scores, np.ndarray) or scores.shape != (len(X_test),):
        shape = tuple(scores.shape) if isinstance(scores, np.ndarray) else type(scores).__name__
        raise Mismatch(f'anomaly_scores(model, X) should give one score per image, shape ({len(X_test)},), not {shape}')
    if not np.all(np.isfinite(scores)):
        raise Mismatch('anomaly_scores contains NaN or infinities')
    labels = y_test == c
    auroc, limit = (area_under_roc(labels, scores), threshold('anomaly_auroc', c))
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4, 2.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist([scores[~labels], scores[labels]], bins=30, label=['normal digits', f'digit {c} (anomaly)'], density=True)
    (ax.legend(fontsize=7), ax.set_xlabel('your anomaly score'), ax.set_title(f'AUROC {auroc:.3f}', fontsize=8))
    figure(f'anomaly detection: scores of normal digits and of the held-out digit {c}', fig)
    expected_n = int((y_train != c).sum())
    if res['n_train'] != expected_n:
        raise Mismatch(f"the model was trained on {res['n_train']} images, but the training digits other than {c} are {expected_n}: select_normal must remove exactly the anomaly class")
    if auroc < 0.5 and 1.0 - auroc >= limit:
        raise Mismatch(f'AUROC {auroc:.3f} is below 0.5: your scores are reversed (the anomalies get lower scores); a higher score must mean a larger reconstruction error')
    if auroc < limit:
        raise Mismatch(f'AUROC {auroc:.3f} for the held-out digit {c} is below the threshold {limit:.3f}: train on the normal digits only and score by the reconstruction error of each image')


def pca_data(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    scales = 3.0 * 0.6 ** np.arange(d)
    return rng.normal(size=(n, d)) * scales + rng.normal(2.0, 1.0, size=d)


@pytest.mark.task('pca')
@pytest.mark.points(1)
def test_pca_reconstruct(submission, rng):
    """pca_reconstruct(X_train, X_test, k) = μ + (X_test − μ) V_k V_kᵀ with V_k the top-k right singular vectors"""
    X_train, X_test, k = (pca_data(rng, 40, 8), pca_data(rng, 10, 8), 3)
    got = submission.call('pca_reconstruct', X_train, X_test, k)
    assert_close(actual=got, expected=recorded_value('test_pca_reconstruct#1', None, X_test, X_train, k), name='pca_reconstruct(X_train, X_test, 3)', mistakes=recorded_call('test_pca_reconstruct#2', None, X_train, X_test, k))


@pytest.mark.task('pca')
@pytest.mark.points(1)
def test_q_pca_vs_ae(submission):
    """Why can PCA with 32 components beat the notebook's 32-unit autoencoder trained for a few hundred steps?"""
    assert_choice(actual=submission.get('q_pca_vs_ae'), correct='b', name='q_pca_vs_ae', explanations={'a': 'PCA does not use the labels: it is as unsupervised as the autoencoder', 'c': "an autoencoder's code is not limited to linear maps: with non-linear activations it can represent more than a linear projection, which is why it can eventually beat PCA", 'd': 'the comparison uses the same held-out images and the same MSE for both, so the metric is not the reason'})


@pytest.mark.task('conv')
@pytest.mark.points(1)
def test_conv_autoencoder_shapes(submission, rng):
    """ConvAutoencoder(): encode (N, 1, 8, 8) → code (N, 8, 2, 2), decode → (N, 1, 8, 8) in [0, 1]"""
    x = rng.random((5, 1, 8, 8)).astype(np.float32)
    res = submission.run(_shape_harness, 'ConvAutoencoder', x, [])
    check_reply(res, 'ConvAutoencoder')
    if tuple(res['code']) != (5, *CONV_CODE):
        raise Mismatch(f"encode(x) for x of shape (5, 1, 8, 8) has shape {tuple(res['code'])}, expected (5, 8, 2, 2): two stride-2 convolutions halve 8 → 4 → 2, and the second has 8 output channels")
    if tuple(res['out']) != (5, 1, 8, 8):
        raise Mismatch(f"decode(encode(x)) has shape {tuple(res['out'])}, expected (5, 1, 8, 8): a transposed convolution with kernel 3, stride 2, padding 1 needs output_padding=1 to double the size")
    if res['min'] < 0 or res['max'] > 1:
        raise Mismatch(f"the reconstructions range over [{res['min']:.3g}, {res['max']:.3g}]: end the decoder with a sigmoid")
    if not res['forward_is_decode_encode']:
        raise Mismatch('forward(x) should return decode(encode(x))')


def _conv(submission, rng):
    X_train, X_test = digits8()
    return (trained(submission, 'conv', X_train, X_test, TRAINING_SEED, BUDGET['steps'], BUDGET['seconds'], {'model': 'ConvAutoencoder', 'args': [], 'perm_seed': int(rng.integers(2 ** 31))}, what='ConvAutoencoder'), X_train, X_test)


@pytest.mark.task('conv')
@pytest.mark.points(2)
def test_trained_conv_autoencoder_reconstructs(submission, rng, figure):
    """the convolutional AE trained with your train_autoencoder on 8×8 digits: held-out MSE below the threshold"""
    res, X_train, X_test = _conv(submission, rng)
    recon = check_trained(res, len(X_test), CONV_CODE, (1, 8, 8))
    figure('convolutional AE: held-out 8×8 input, yours', image_grid([('input', X_test), ('yours', recon)], 8))
    value, limit = (mse(recon, X_test), threshold('conv_mse'))
    if value > limit:
        measured = f'held-out MSE {value:.4f} is above the threshold {limit:.4f} (the mean image gets {mse(X_train.mean(axis=0, keepdims=True), X_test):.4f})'
        losses = np.asarray(res.get('losses') or [], dtype=np.float64)
        tenth = max(1, len(losses) // 10)
        if not res.get('weights_changed', True):
            raise Mismatch(f"{measured}, and training changed no weight: is the model trained (loss.backward() and optimizer.step() on the model's parameters)?")
        if len(losses) >= 2 and np.isfinite(losses).all() and (losses[-tenth:].mean() >= losses[:tenth].mean()):
            raise Mismatch(f'{measured}, and the losses train_autoencoder returned did not fall (first steps {losses[:tenth].mean():.4f}, last steps {losses[-tenth:].mean():.4f})')
        if recon.min() < 0 or recon.max() > 1:
            raise Mismatch(f'{measured}, and the reconstructions range over [{recon.min():.3g}, {recon.max():.3g}]: end the decoder with a sigmoid')
        raise Mismatch(measured)


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_bottleneck(submission):
    """Why is the code of an undercomplete autoencoder smaller than its input?"""
    assert_choice(actual=submission.get('q_bottleneck'), correct='c', name='q_bottleneck', explanations={'a': 'a smaller code does not make training faster in any essential way; the point is what the network can learn', 'b': 'the reconstruction loss needs no labels whatever the code size: autoencoders are unsupervised either way', 'd': 'the code size does not have to match the number of classes: the lecture uses 32 for 10 digits'})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_rho_hat(submission):
    """What is ρ̂_j in the sparse autoencoder's KL penalty?"""
    assert_choice(actual=submission.get('q_rho_hat'), correct='d', name='q_rho_hat', explanations={'a': 'ρ is the target the user chooses (e.g. 0.05); ρ̂_j is measured from the network', 'b': 'averaging over the units of one sample gives one number per sample; the penalty needs one number per unit', 'c': 'the weights are not what the KL penalises: it constrains the activations of the hidden units'})
