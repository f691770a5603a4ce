"""Public checks of a06_vae, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import json
import weakref
from functools import lru_cache
from pathlib import Path
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mismatch, Mistake, assert_choice, assert_close
from coursecheck.live import StudentCodeFailure
ref = reference_module('reference.vae')
precision_recall = shipped_module('generative_metrics').precision_recall


BUDGET = {'steps': 600, 'max_seconds': 60.0, 'latent_dim': 8, 'pca_dims': 8, 'k': 3}


TRAINING_SEED = 20260


CALIBRATION_FILE = Path(__file__).with_name('calibration_a06_vae.json')


@lru_cache(maxsize=1)
def calibration() -> dict:
    return json.loads(CALIBRATION_FILE.read_text(encoding='utf-8'))


def threshold(metric: str) -> float:
    return float(calibration()['metrics'][metric]['threshold'])


KL_FAR = 60.0


HARNESS_TIMEOUT = 100


INTERPOLATION_PAIR = (2, 7)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))


def call_or_fail(submission, name: str, *args, **kwargs):
    try:
        return submission.call(name, *args, **kwargs)
    except StudentCodeFailure as exc:
        if 'between 0 and 1' in str(exc):
            raise Mismatch(f'{name} raised an error: the logits were used as probabilities in the binary cross-entropy (logits lie outside [0, 1]). Use F.binary_cross_entropy_with_logits, or the stable softplus(l) − x·l.') from None
        raise


def _encode_harness(student, latent_dim):
    import torch
    if not callable(getattr(student, 'VAE', None)):
        return {'missing': 'VAE'}
    torch.manual_seed(0)
    model = student.VAE(input_dim=784, latent_dim=latent_dim)
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    x = torch.rand(5, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model.encode(x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return {'not_pair': type(out).__name__}
        mu, logvar = (torch.as_tensor(o).detach().to('cpu', torch.float64) for o in out)
        logits = torch.as_tensor(model.decode(mu.to(x.dtype))).detach().to('cpu', torch.float64)
    return {'mu': mu, 'logvar': logvar, 'logits': logits}


def _check_build(res: dict) -> None:
    if 'missing' in res:
        raise AssertionError(f"`{res['missing']}` is not defined in your notebook")
    if 'not_module' in res:
        raise AssertionError(f"VAE(...) should build a torch.nn.Module, but it gave a {res['not_module']}")
    if 'not_pair' in res:
        raise AssertionError(f"encode(x) should return a pair (mu, logvar), but it returned a {res['not_pair']}")


@pytest.mark.task('encoder')
@pytest.mark.points(1)
def test_encode_returns_mu_and_logvar_of_the_latent_size(submission):
    """VAE(input_dim=784, latent_dim=8).encode(x) returns (mu, logvar), each (N, 8); decode(mu) gives (N, 784) logits"""
    d = BUDGET['latent_dim']
    res = submission.run(_encode_harness, d)
    _check_build(res)
    for name in ('mu', 'logvar'):
        if res[name].shape != (5, d):
            raise AssertionError(f"encode(x) for x of shape (5, 784) should give {name} of shape (5, {d}), got {tuple(res[name].shape)}: the encoder's last layer must output latent_dim numbers")
        if not np.all(np.isfinite(res[name])):
            raise AssertionError(f'{name} contains NaN or infinities for a random input')
    if res['logits'].shape != (5, 784):
        raise AssertionError(f"decode(z) for z of shape (5, {d}) should give logits of shape (5, 784), got {tuple(res['logits'].shape)}")


@pytest.mark.task('reparameterize')
@pytest.mark.points(2)
def test_reparameterize_with_the_graders_noise(submission, rng):
    """reparameterize(mu, logvar, eps) = mu + exp(logvar / 2) · eps for a random batch and the grader's eps"""
    mu, logvar, eps = (rng.normal(size=(4, 6)), rng.normal(0.0, 1.5, size=(4, 6)), rng.normal(size=(4, 6)))
    got = submission.call('reparameterize', mu, logvar, eps)
    expected = ref.reparameterize(recorded_call('test_reparameterize_with_the_graders_noise#1', None, mu), recorded_call('test_reparameterize_with_the_graders_noise#2', None, logvar), recorded_call('test_reparameterize_with_the_graders_noise#3', None, eps))
    assert_close(actual=got, expected=expected, name='z', mistakes=[Mistake('exp(logvar) instead of exp(logvar / 2): the variance σ² used as the standard deviation', recorded_value('test_reparameterize_with_the_graders_noise#4', None, eps, logvar, mu), hint='σ = exp(½ log σ²).'), Mistake('logvar used directly as σ', recorded_value('test_reparameterize_with_the_graders_noise#5', None, eps, logvar, mu), hint='logvar is log σ²: σ = exp(logvar / 2).'), Mistake('eps ignored (z = mu)', mu, hint='z must be random: add σ·ε.'), Mistake('mu left out (z = σ·ε)', recorded_value('test_reparameterize_with_the_graders_noise#6', None, eps, logvar)), Mistake('σ divided by instead of multiplied (mu + eps / σ)', recorded_value('test_reparameterize_with_the_graders_noise#7', None, eps, logvar, mu))])


def check_kl(submission, mu: np.ndarray, logvar: np.ndarray, name: str) -> None:
    got = submission.call('kl_to_standard_normal', mu, logvar)
    expected = ref.kl_to_standard_normal(recorded_call('check_kl#1', None, mu), recorded_call('check_kl#2', None, logvar))
    arr = np.asarray(got) if isinstance(got, (np.ndarray, float, int, np.generic)) else None
    if arr is not None and (arr.ndim == 0 or (arr.shape == (1,) and mu.shape[0] != 1)):
        per_sample = expected.numpy()
        arr = arr.reshape(())
        which = 'averaged' if np.isclose(arr, per_sample.mean()) else 'summed' if np.isclose(arr, per_sample.sum()) else 'reduced'
        raise Mismatch(f'`{name}` is one number: the KL {which} over the batch. Return one KL per sample, shape ({mu.shape[0]},): sum over the latent dimensions only (dim=1); negative_elbo averages over the batch.')
    assert_close(actual=got, expected=expected, name=name, mistakes=recorded_call('check_kl#3', None, mu, logvar))


@pytest.mark.task('kl')
@pytest.mark.points(2)
def test_kl_per_sample_on_a_random_batch(submission, rng):
    """KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j) per sample, shape (N,)"""
    mu, logvar = (rng.normal(size=(6, 4)), rng.normal(size=(6, 4)))
    check_kl(submission, mu, logvar, 'KL')


def elbo_inputs(rng, n=5, p=12, d=3, scale=2.0):
    x = rng.uniform(size=(n, p))
    x[:n // 2] = (x[:n // 2] > 0.5).astype(float)
    return (x, rng.normal(0.0, scale, size=(n, p)), rng.normal(size=(n, d)), rng.normal(size=(n, d)))


def finite(value) -> bool:
    """False only for a number or array with NaN or infinities (other types are left to assert_close)."""
    if isinstance(value, (np.ndarray, float, np.generic)):
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    return True


def unpack_elbo(got, name='negative_elbo'):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mismatch(f'{name} should return a tuple (loss, recon, kl), but it returned {type(got).__name__}' + (f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''))
    return [v.reshape(()) if isinstance(v, np.ndarray) and v.shape == (1,) else v for v in got]


@pytest.mark.task('elbo')
@pytest.mark.points(2)
def test_negative_elbo_from_logits(submission, rng):
    """loss = mean over the batch of [Σ_pixels BCE(x, sigmoid(logits)) + KL], from the decoder's logits"""
    x, logits, mu, logvar = elbo_inputs(rng)
    got = unpack_elbo(call_or_fail(submission, 'negative_elbo', x, logits, mu, logvar))
    expected = ref.elbo(recorded_call('test_negative_elbo_from_logits#1', None, x), recorded_call('test_negative_elbo_from_logits#2', None, logits), recorded_call('test_negative_elbo_from_logits#3', None, mu), recorded_call('test_negative_elbo_from_logits#4', None, logvar), logits=True)['loss']
    rec, kl = recorded_call('test_negative_elbo_from_logits#5', None, x, logits, mu, logvar)
    if not finite(got[0]):
        raise Mismatch('the loss is NaN or infinite: it looks like the logits were used as probabilities (log of a negative number). The decoder returns logits: use F.binary_cross_entropy_with_logits.')
    assert_close(actual=got[0], expected=expected, name='loss', mistakes=[Mistake('the sigmoid applied twice (BCE with logits of sigmoid(logits))', recorded_value('test_negative_elbo_from_logits#6', None, kl, logits, x), hint='binary_cross_entropy_with_logits applies the sigmoid itself: pass the raw logits.'), Mistake("the mean over the pixels instead of the sum (reduction='mean')", recorded_value('test_negative_elbo_from_logits#7', None, kl, rec), hint="log p(x|z) of independent pixels is a sum over pixels: reduction='none', then .sum(dim=1)."), Mistake('the loss summed over the batch instead of averaged', recorded_value('test_negative_elbo_from_logits#8', None, kl, rec)), Mistake('the KL term left out', recorded_value('test_negative_elbo_from_logits#9', None, rec), hint='the negative ELBO is reconstruction + KL.'), Mistake('the KL subtracted instead of added', recorded_value('test_negative_elbo_from_logits#10', None, kl, rec)), Mistake('a squared error instead of the Bernoulli cross-entropy', recorded_value('test_negative_elbo_from_logits#11', None, kl, logits, x))])


def _vae_harness(student, X_train, X_test, seed, steps, max_seconds, latent_dim, pair):
    """Runs in the worker: build the student's VAE, train it with the student's `train` under the budget, and
    return plain arrays computed on held-out digits. z is drawn here from the grader's eps, not by the student."""
    import time
    import numpy as np
    import torch
    for name in ('VAE', 'train'):
        if not callable(getattr(student, name, None)):
            return {'missing': name}
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = torch.as_tensor(X_train).device
    Xtr = torch.as_tensor(X_train).to(device=device, dtype=torch.float32)
    Xte = torch.as_tensor(X_test).to(device=device, dtype=torch.float32)
    model = student.VAE(input_dim=Xtr.shape[1], latent_dim=latent_dim)
    if not isinstance(model, torch.nn.Module):
        return {'not_module': type(model).__name__}
    model = model.to(device)
    before = [p.detach().clone() for p in model.parameters()]
    start = time.perf_counter()
    losses = student.train(model, Xtr, steps=steps, max_seconds=max_seconds)
    seconds = time.perf_counter() - start
    after = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
    moved = sum((float((a.detach() - b).double().pow(2).sum()) for a, b in zip(after, before))) ** 0.5 / max(sum((float(b.double().pow(2).sum()) for b in before)) ** 0.5, 1e-300) if len(after) == len(before) else float('nan')
    try:
        losses = [float(v) for v in losses][:10 * steps]
    except TypeError:
        losses = []
    if isinstance(model, torch.nn.Module):
        model.eval()

    def arr(v):
        return torch.as_tensor(v).detach().to('cpu', torch.float32)
    g = torch.Generator().manual_seed(seed + 1)
    n = Xte.shape[0]
    eps = torch.randn(n, latent_dim, generator=g).to(device)
    z_prior = torch.randn(n, latent_dim, generator=g).to(device)
    out = {'seconds': seconds, 'losses': np.asarray(losses, dtype=np.float64), 'weights_moved': moved}
    with torch.no_grad():
        mu, logvar = model.encode(Xte)
        mu, logvar = (torch.as_tensor(mu), torch.as_tensor(logvar))
        if tuple(mu.shape) != (n, latent_dim) or tuple(logvar.shape) != (n, latent_dim):
            return {'bad_codes': [list(mu.shape), list(logvar.shape)]}
        model.encode(Xtr[:n])
        z = mu + torch.exp(0.5 * logvar) * eps
        out.update(mu=arr(mu), logvar=arr(logvar), logits=arr(model.decode(z)), logits_swapped=arr(model.decode(z.roll(1, dims=0))), prior=arr(model.decode(z_prior)))
        try:
            torch.manual_seed(seed + 2)
            out['samples'] = arr(model.sample(n))
        except Exception as exc:
            out['samples_error'] = f'{type(exc).__name__}: {exc}'[:300]
        try:
            path = student.interpolate(mu[pair[0]], mu[pair[1]], 10)
            path = torch.as_tensor(np.asarray(path) if not isinstance(path, torch.Tensor) else path)
            out['interpolation'] = arr(torch.sigmoid(model.decode(path.to(device=device, dtype=mu.dtype))))
        except Exception as exc:
            out['interpolation_error'] = f'{type(exc).__name__}: {exc}'[:300]
    return out


@lru_cache(maxsize=1)
def mnist():
    load_mnist = reference_module('grader.data').load_mnist
    X_train, _ = load_mnist('train')
    X_test, y_test = load_mnist('test')
    pair = tuple((int(np.flatnonzero(y_test == label)[0]) for label in INTERPOLATION_PAIR))
    return (X_train, X_test, pair)


@lru_cache(maxsize=1)
def pca_basis(dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The top principal directions of the training digits: the feature space of precision/recall."""
    X_train = mnist()[0].astype(np.float64)
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    return (mean, vt[:dims].T)


def features(images: np.ndarray) -> torch.Tensor:
    mean, basis = pca_basis(BUDGET['pca_dims'])
    return torch.from_numpy((np.asarray(images, dtype=np.float64) - mean) @ basis)


def nearest_train_distance(images: np.ndarray) -> np.ndarray:
    train = torch.from_numpy(mnist()[0])
    queries = torch.from_numpy(np.asarray(images, dtype=np.float32))
    return torch.cdist(queries, train).min(dim=1).values.double().numpy()


@lru_cache(maxsize=1)
def heldout_to_train_distance() -> float:
    return float(np.median(nearest_train_distance(mnist()[1])))


def heldout_parts(x: np.ndarray, logits: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> tuple[float, float]:
    """(reconstruction, KL) of the negative ELBO, each averaged over the images, in float64: PyTorch's BCE on logits
    (the call the release tells students to make) and torch.distributions' KL to N(0, I) (a style the kl task
    accepts: tests/mutants/a06_vae.py). Not reference.vae: the student kit ships this measurement and must not ship
    the kl and elbo tasks' answers (tests/test_calibration_a06_vae.py checks this equals reference.vae.elbo)."""
    x, logits, mu, logvar = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (x, logits, mu, logvar))
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1).mean()
    posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return (float(recon), float(torch.distributions.kl_divergence(posterior, prior).sum(dim=1).mean()))


def metrics(res: dict) -> dict[str, float]:
    """The calibrated metrics of a harness reply, computed in this trusted process (the calibration uses it too)."""
    X_test = mnist()[1].astype(np.float64)
    mu, logvar, logits = (np.asarray(res[k], dtype=np.float64) for k in ('mu', 'logvar', 'logits'))
    own, kl = heldout_parts(X_test, logits, mu, logvar)
    neg_elbo = own + kl
    swapped = heldout_parts(X_test, np.asarray(res['logits_swapped'], dtype=np.float64), mu, logvar)[0]
    prior = sigmoid(np.asarray(res['prior'], dtype=np.float64))
    precision, recall = precision_recall(features(X_test), features(prior), k=BUDGET['k'])
    memo = float(np.median(nearest_train_distance(prior)) / heldout_to_train_distance())
    out = {'heldout_neg_elbo': neg_elbo, 'precision': precision, 'recall': recall, 'memorisation_ratio': memo, 'swap_ratio': float(own / swapped) if swapped > 0 else float('nan')}
    if 'samples' in res and np.asarray(res['samples']).shape == prior.shape:
        sp, sr = precision_recall(features(prior), features(np.asarray(res['samples'], dtype=np.float64)), k=BUDGET['k'])
        out['sample_precision'], out['sample_recall'] = (sp, sr)
    return out


def decoder_ignores_z(res: dict) -> bool:
    """The evidence for "the decoder ignores z": decoding every digit's code and decoding another digit's code give
    the same logits (to float32 rounding). An untrained or under-trained decoder still changes with z."""
    own, other = (np.asarray(res[k], dtype=np.float64) for k in ('logits', 'logits_swapped'))
    return float(np.abs(own - other).mean()) <= 1e-06 * max(float(np.abs(own).mean()), 1e-12)


def train_moved_no_weight(res: dict) -> bool:
    """The evidence for "train did not update the weights": none moved (a reply without the measurement proves nothing)."""
    moved = res.get('weights_moved')
    return isinstance(moved, float) and moved == 0.0


NO_UPDATE = " Your train did not change any weight: call zero_grad, backward and the optimizer's step for every batch."


_RUNS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def run_training(submission, seed: int) -> dict:
    X_train, X_test, pair = mnist()
    return submission.run(_vae_harness, X_train, X_test, seed, BUDGET['steps'], BUDGET['max_seconds'], BUDGET['latent_dim'], list(pair), timeout=HARNESS_TIMEOUT)


def trained(submission) -> dict:
    """Train the student's VAE once per submission (the first test that needs it), with TRAINING_SEED, and share the reply."""
    if submission not in _RUNS:
        try:
            res = run_training(submission, TRAINING_SEED)
            _RUNS[submission] = ('ok', res)
        except StudentCodeFailure as exc:
            _RUNS[submission] = ('failed', exc)
    kind, value = _RUNS[submission]
    if kind == 'failed':
        raise value
    if 'missing' in value:
        raise AssertionError(f"`{value['missing']}` is not defined in your notebook")
    if 'not_module' in value:
        raise AssertionError(f"VAE(...) should build a torch.nn.Module, but it gave a {value['not_module']}")
    if 'bad_codes' in value:
        a, b = value['bad_codes']
        raise AssertionError(f"encode(X_test) gave mu of shape {tuple(a)} and logvar of shape {tuple(b)}; expected ({len(mnist()[1])}, {BUDGET['latent_dim']}) each")
    n, p = mnist()[1].shape
    for key in ('logits', 'logits_swapped', 'prior'):
        if value[key].shape != (n, p):
            raise AssertionError(f"decode(z) for z of shape ({n}, {BUDGET['latent_dim']}) should give ({n}, {p}) logits, got {tuple(value[key].shape)}")
        if not np.all(np.isfinite(value[key])):
            raise AssertionError("the trained decoder's logits contain NaN or infinities: lower the learning rate")
    if not np.all(np.isfinite(value['mu'])) or not np.all(np.isfinite(value['logvar'])):
        raise AssertionError("the trained encoder's mu or logvar contain NaN or infinities: lower the learning rate")
    if 'metrics' not in value:
        value['metrics'] = metrics(value)
    return value


def image_grid(fig, rows: list[tuple[str, np.ndarray]], side: int=28) -> None:
    """One mosaic image (a single imshow is much faster than an axes per digit), one labelled row per entry."""
    pad = 2
    cols = max((images.shape[0] for _, images in rows))
    mosaic = np.ones((len(rows) * (side + pad) + pad, cols * (side + pad) + pad))
    for r, (_, images) in enumerate(rows):
        for c in range(images.shape[0]):
            y, x = (pad + r * (side + pad), pad + c * (side + pad))
            mosaic[y:y + side, x:x + side] = np.clip(images[c].reshape(side, side), 0, 1)
    ax = fig.subplots()
    ax.imshow(mosaic, cmap='gray', vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([pad + r * (side + pad) + side / 2 for r in range(len(rows))], [label for label, _ in rows])


def mean_digit_hint(res: dict) -> str:
    """What a negative ELBO no better than the mean digit's says, from the evidence in the reply."""
    said = ' That is what a model that ignores its input gets (the mean digit, KL = 0)'
    if decoder_ignores_z(res):
        return said + ': your decoder gives the same output for every z. decode(z) must map the code through the network.'
    if train_moved_no_weight(res):
        return said + '.' + NO_UPDATE
    return said + f". Your decoder depends on z and your train moved the weights (by {100 * res['weights_moved']:.2g} % of their size), but the model learnt little in the budget: compare your loss curve with a falling one (Adam with a learning rate of 2e-3 to 3e-3 and batches of 64 trains well in 600 steps)."


@pytest.mark.task('trained_vae')
@pytest.mark.points(2)
def test_trained_vae_reaches_the_heldout_elbo(submission, figure):
    """your VAE trained by your `train` (600 steps, ≤ 60 s) reaches the calibrated negative ELBO on 1,000 held-out digits"""
    from matplotlib.figure import Figure
    res = trained(submission)
    m = res['metrics']
    X_test = mnist()[1]
    fig = Figure(figsize=(10, 2.4))
    image_grid(fig, [('input', X_test[:10]), ('yours', sigmoid(res['logits'][:10]))])
    fig.suptitle('held-out digits and their reconstructions decode(μ + σ·ε)')
    figure('reconstructions: input and yours', fig)
    if len(res['losses']):
        fig = Figure(figsize=(6, 3))
        ax = fig.subplots()
        ax.plot(res['losses'])
        ax.set_xlabel('step')
        ax.set_ylabel('negative ELBO (your loss)')
        ax.set_title(f"training loss ({len(res['losses'])} steps, {res['seconds']:.1f} s)")
        figure('loss curve', fig)
    limit = threshold('heldout_neg_elbo')
    if not np.isfinite(m['heldout_neg_elbo']) or m['heldout_neg_elbo'] > limit:
        logits, X_test = (res['logits'].astype(np.float64), mnist()[1].astype(np.float64))
        recon, kl = heldout_parts(X_test, logits, res['mu'], res['logvar'])
        hint = ' Your decode(z) returns values in [0, 1]: it looks like probabilities. decode must return logits (no sigmoid), because the ELBO is computed with the BCE on logits.' if logits.min() >= 0 and logits.max() <= 1 else f' The KL is large ({kl:.0f} nats): is the KL term in your training loss (recon + beta * kl)?' if kl > KL_FAR else mean_digit_hint(res) if m['heldout_neg_elbo'] > calibration()['baselines']['input_mean']['heldout_neg_elbo'] - 5 else ' Check the loss (sum over pixels, KL added) and the learning rate (Adam with 2e-3 to 3e-3 and batches of 64 trains well in 600 steps; 1e-3 is too slow).'
        raise AssertionError(f"the held-out negative ELBO, recomputed from your mu, logvar and decoded logits, is {m['heldout_neg_elbo']:.1f} nats per digit; it must be ≤ {limit:.1f} (the solution gets about {calibration()['metrics']['heldout_neg_elbo']['mean']:.0f}; training took {res['seconds']:.1f} s, {len(res['losses'])} steps; reconstruction {recon:.1f} + KL {kl:.1f}).{hint}")


def check_interpolation(submission, z0: np.ndarray, z1: np.ndarray, steps: int) -> None:
    got = submission.call('interpolate', z0, z1, steps)
    ts = np.linspace(0.0, 1.0, steps)[:, None]
    expected = (1 - ts) * z0 + ts * z1
    arr = np.asarray(got) if isinstance(got, np.ndarray) else None
    if arr is not None and arr.ndim == 2 and (arr.shape[0] != steps):
        off = arr.shape[0] - steps
        raise Mismatch(f'interpolate(z0, z1, steps={steps}) returned {arr.shape[0]} codes: steps off by {off:+d}. It must return exactly `steps` codes, z0 first and z1 last: torch.linspace(0, 1, steps).')
    inner = np.linspace(0.0, 1.0, steps + 2)[1:-1, None]
    assert_close(actual=got, expected=expected, name=f'interpolate(z0, z1, {steps})', rtol=1e-06, atol=1e-06, mistakes=[Mistake('the endpoints excluded', recorded_value('check_interpolation#1', None, inner, z0, z1), hint='the first code is z0, the last z1.'), Mistake('the direction reversed (from z1 to z0)', recorded_value('check_interpolation#2', None, ts, z0, z1)), Mistake('the (1 − t) weight of z0 missing (z0 + t·z1)', recorded_value('check_interpolation#3', None, ts, z0, z1)), Mistake('t = k / steps instead of k / (steps − 1): z1 never reached', recorded_value('check_interpolation#4', None, steps, z0, z1))])


@pytest.mark.task('sampling')
@pytest.mark.points(1)
def test_interpolate_includes_both_endpoints(submission, rng):
    """interpolate(z0, z1, steps): `steps` evenly spaced codes from z0 to z1, both endpoints included"""
    check_interpolation(submission, rng.normal(size=8), rng.normal(size=8), 6)


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_reparam(submission):
    """Why does a VAE use the reparameterisation trick z = μ + σ ⊙ ε?"""
    assert_choice(actual=submission.get('q_reparam'), correct='b', name='q_reparam', explanations={'a': 'the KL to N(0, I) has a closed form whether or not z is reparameterised: it depends only on μ and σ', 'c': 'the trick does not change the size of z: it has as many dimensions as μ', 'd': 'the decoder is a deterministic network anyway; the trick is about training the encoder by gradients'})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_kl(submission):
    """What does the KL term of the negative ELBO do?"""
    assert_choice(actual=submission.get('q_kl'), correct='c', name='q_kl', explanations={'a': 'the reconstruction term measures how well x̂ matches x; the KL only looks at q(z|x) and the prior', 'b': 'the KL is not constant: it depends on μ and σ², so it changes the encoder through its gradient', 'd': "that is the sparse autoencoder's KL between activation rates ρ and ρ̂_j, a different penalty"})
