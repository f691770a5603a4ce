"""Public checks of a07_gan, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import json
from pathlib import Path
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mismatch, Mistake, assert_choice, assert_close
ref = reference_module('reference.gan')
ring = shipped_module('ring')
coverage = shipped_module('generative_metrics').coverage
precision_recall = shipped_module('generative_metrics').precision_recall


CALIBRATION_FILE = Path(__file__).with_name('calibration_a07_gan.json')


CALIBRATION = json.loads(CALIBRATION_FILE.read_text(encoding='utf-8')) if CALIBRATION_FILE.exists() else {'metrics': {}}


THRESHOLDS = {name: entry['threshold'] for name, entry in CALIBRATION['metrics'].items()}


RING = {'dims': (2, 2, 64, False), 'steps': 1200, 'seconds': 60.0, 'n_train': 4096, 'n_eval': 2000, 'std': 0.05}


DIGITS = {'dims': (8, 64, 128, True), 'steps': 1500, 'seconds': 60.0, 'n_eval': 1000}


HARNESS_TIMEOUT = 75


TRAINING_SEED = 20260


NUDGE = 0.001


NOT_DETACHED = "the fake batch was not detached in the discriminator's step"


D_MOVED_IN_G_STEP = "D was updated during the generator's step"


D_LEFT_FROZEN = 'D left frozen after the step'


G_FIRST = 'the generator was updated before the discriminator'


IGNORES_Z = 'the generator ignores z'


D_PROBABILITIES = 'D returns probabilities, not logits'


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def check_reply(res) -> None:
    if isinstance(res, dict) and 'missing' in res:
        raise Mismatch(f"`{res['missing']}` is not defined in your notebook")
    if isinstance(res, dict) and 'problem' in res:
        raise Mismatch(res['problem'])


def _modules_harness(student, configs, n, seed):
    import torch
    for name in ('Generator', 'Discriminator'):
        if not callable(getattr(student, name, None)):
            return {'missing': name}
    torch.manual_seed(seed)
    out = []
    for latent, data_dim, hidden, bounded in configs:
        G = student.Generator(latent_dim=latent, data_dim=data_dim, hidden=hidden, bounded=bounded).double()
        D = student.Discriminator(data_dim=data_dim, hidden=hidden).double()
        z = torch.randn(n, latent, dtype=torch.float64)
        x = torch.randn(n, data_dim, dtype=torch.float64)
        g, g_big = (G(z), G(50.0 * z))
        d, d_big = (D(x), D(50.0 * x))
        if not all((isinstance(v, torch.Tensor) for v in (g, g_big, d, d_big))):
            return {'problem': 'Generator and Discriminator must return tensors'}
        G.zero_grad()
        D(G(z)).sum().backward()
        out.append({'g_shape': list(g.shape), 'd_shape': list(d.shape), 'g_min': float(g_big.min()), 'g_max': float(g_big.max()), 'd_min': float(d_big.min()), 'd_max': float(d_big.max()), 'g_spread': float((G(z) - G(z[:1])).abs().max()), 'g_params': sum((p.numel() for p in G.parameters())), 'd_params': sum((p.numel() for p in D.parameters())), 'g_grads': all((p.grad is not None for p in G.parameters())), 'latent_dim': getattr(G, 'latent_dim', None)})
    return out


def _check_modules(res, configs, n) -> None:
    check_reply(res)
    for got, (latent, data_dim, hidden, bounded) in zip(res, configs):
        where = f'Generator(latent_dim={latent}, data_dim={data_dim}, hidden={hidden}, bounded={bounded})'
        if got['g_shape'] != [n, data_dim]:
            raise Mismatch(f"{where}(z) for z of shape ({n}, {latent}) should have shape ({n}, {data_dim}), not {tuple(got['g_shape'])}")
        if got['d_shape'] == [n, 1]:
            raise Mismatch(f'Discriminator(data_dim={data_dim})(x) has shape ({n}, 1): squeeze the last axis so that D(x) has shape ({n},), one logit per sample')
        if got['d_shape'] != [n]:
            raise Mismatch(f"Discriminator(data_dim={data_dim})(x) for x of shape ({n}, {data_dim}) should have shape ({n},), not {tuple(got['d_shape'])}")
        if got['d_min'] >= 0.0 and got['d_max'] <= 1.0:
            raise Mismatch(f'{D_PROBABILITIES}: for large inputs every output of D stays in [0, 1]. Leave out the final sigmoid: the losses take logits (binary_cross_entropy_with_logits applies the sigmoid itself, stably)')
        if bounded and (got['g_min'] < -1.0 or got['g_max'] > 1.0):
            raise Mismatch(f'{where} gave values outside [-1, 1]: with bounded=True the last layer is followed by tanh')
        if not bounded and got['g_min'] >= -1.0 and (got['g_max'] <= 1.0):
            raise Mismatch(f"{where} stays in [-1, 1] even for large z: with bounded=False there is no tanh at the end (the ring's points lie at radius 2)")
        if got['g_spread'] == 0.0:
            raise Mismatch(f'{where} gives the same output for every z: {IGNORES_Z}')
        if not got['g_grads']:
            raise Mismatch('some parameters of the Generator get no gradient from D(G(z)).sum().backward(): use every layer in forward, and do not detach inside the modules')
        if got['latent_dim'] != latent:
            raise Mismatch(f'{where}.latent_dim should be {latent} (keep the given `self.latent_dim = latent_dim` line)')


@pytest.mark.task('modules')
@pytest.mark.points(1)
def test_generator_and_discriminator_shapes(submission, rng):
    """Generator maps z (N, latent_dim) to (N, data_dim), tanh-bounded when asked; Discriminator returns (N,) logits"""
    configs = [(2, 2, 16, False), (8, 64, 32, True)]
    res = submission.run(_modules_harness, configs, 7, int(rng.integers(2 ** 31)))
    _check_modules(res, configs, 7)


@pytest.mark.task('discriminator_loss')
@pytest.mark.points(2)
def test_discriminator_loss_on_logits(submission, rng):
    """discriminator_loss(real_logits, fake_logits) = mean −log σ(real) + mean −log(1 − σ(fake))"""
    r, f = (rng.uniform(0.05, 0.95, size=8), rng.uniform(0.05, 0.95, size=8))
    got = submission.call('discriminator_loss', r, f)
    expected = ref.discriminator_loss(recorded_call('test_discriminator_loss_on_logits#1', None, r), recorded_call('test_discriminator_loss_on_logits#2', None, f))
    assert_close(actual=got, expected=expected, name='discriminator_loss(real_logits, fake_logits)', mistakes=recorded_call('test_discriminator_loss_on_logits#3', None, r, f))


@pytest.mark.task('generator_loss')
@pytest.mark.points(1)
def test_generator_loss_non_saturating(submission, rng):
    """generator_loss_nonsaturating(fake_logits) = mean −log σ(fake_logits)"""
    f = rng.uniform(0.05, 0.95, size=9)
    got = submission.call('generator_loss_nonsaturating', f)
    assert_close(actual=got, expected=recorded_value('test_generator_loss_non_saturating#1', None, f), name='generator_loss_nonsaturating(fake_logits)', mistakes=recorded_call('test_generator_loss_non_saturating#2', None, f))


def _step_harness(student, weights, real, z, lr):
    """Runs in the sandbox (and, with reference steps, here): len(real) student gan_steps on small networks with the
    given weights and plain SGD; spies on both optimizers' step() to record parameters and gradients at each call."""
    import torch
    from torch import nn
    fn = getattr(student, 'gan_step', None)
    if not callable(fn):
        return {'missing': 'gan_step'}

    class SmallG(nn.Module):

        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 2))
            self.latent_dim = 2

        def forward(self, z):
            return self.net(z)

    class SmallD(nn.Module):

        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1))

        def forward(self, x):
            return self.net(x)[:, 0]
    device = real[0].device
    G, D = (SmallG().double().to(device), SmallD().double().to(device))
    with torch.no_grad():
        for p, w in zip(list(G.parameters()) + list(D.parameters()), weights):
            p.copy_(w)
    opt_G, opt_D = (torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr))

    def flat(m):
        return torch.cat([p.detach().reshape(-1) for p in m.parameters()]).to('cpu').numpy().copy()

    def grads(m):
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1) for p in m.parameters()]).to('cpu').numpy().copy()
    events = []

    def spy(name, opt):
        original = opt.step

        def step(*args, **kwargs):
            events.append({'opt': name, 'G': flat(G), 'D': flat(D), 'G_grad': grads(G), 'D_grad': grads(D)})
            return original(*args, **kwargs)
        opt.step = step
    spy('D', opt_D)
    spy('G', opt_G)
    steps = []
    for i in range(len(real)):
        try:
            out = fn(G, D, opt_G, opt_D, real[i], z[i])
        except NotImplementedError:
            raise
        except RuntimeError as exc:
            return {'runtime_error': str(exc)[:400], 'step': i, 'd_frozen': not all((p.requires_grad for p in D.parameters()))}
        losses = {}
        if isinstance(out, dict):
            for key in ('d_loss', 'g_loss'):
                try:
                    losses[key] = float(out[key])
                except Exception:
                    losses[key] = None
        steps.append({'G': flat(G), 'D': flat(D), 'events': list(events), 'losses': losses, 'G_grad_end': grads(G), 'd_requires_grad': all((p.requires_grad for p in D.parameters()))})
        events.clear()
    return steps


def _step_inputs(rng, n_steps):
    weights = [rng.normal(0.0, 0.7, size=s) for s in ((6, 2), (6,), (2, 6), (2,), (6, 2), (6,), (1, 6), (1,))]
    real = [ring.ring_modes().numpy()[rng.integers(0, 8, size=10)] + 0.1 * rng.normal(size=(10, 2)) for _ in range(n_steps)]
    z = [rng.normal(size=(10, 2)) for _ in range(n_steps)]
    return (weights, real, z, 0.1)


def _run_student_steps(submission, inputs) -> list[dict]:
    """The student's gan_step run in the sandbox on the grader's inputs (_step_inputs), checked step by step."""
    weights, real, z, lr = inputs
    got = submission.run(_step_harness, weights, real, z, lr)
    check_reply(got)
    if isinstance(got, dict) and 'runtime_error' in got:
        message = got['runtime_error']
        if 'second time' in message:
            raise Mismatch(f"""{NOT_DETACHED}: D's loss back-propagated into G's graph, which G's own backward then needed again ("backward through the graph a second time"). Use D(fake.detach()) in the discriminator's loss""")
        if 'does not require grad' in message and got['d_frozen'] and (got['step'] > 0):
            raise Mismatch(f'''{D_LEFT_FROZEN}: the second gan_step failed ("{message[:80]}") because D's parameters still had requires_grad=False from the first step. Call D.requires_grad_(True) at the end''')
        raise Mismatch(f'gan_step raised RuntimeError: {message}')
    for i, step in enumerate(got):
        kinds = [e['opt'] for e in step['events']]
        if 'D' not in kinds or 'G' not in kinds:
            missing = 'opt_D' if 'D' not in kinds else 'opt_G'
            raise Mismatch(f'{missing}.step() was not called in gan_step: update both networks once per step')
        if kinds[0] == 'G':
            raise Mismatch(f"{G_FIRST}: the lecture's step trains D on real and fake data first, then G with D frozen")
        first_d = step['events'][0]
        before = got[i - 1]['G_grad_end'] if i else np.zeros_like(first_d['G_grad'])
        if np.any(first_d['G_grad'] != 0) and np.any(first_d['G_grad'] != before):
            raise Mismatch(f"{NOT_DETACHED}: G's parameters had gradients when opt_D.step() ran, so D's loss back-propagated into G. Use D(fake.detach()) in the discriminator's loss")
        d_after_d_step = next((e['D'] for e in step['events'] if e['opt'] == 'G'))
        if kinds.count('D') > 1 or np.any(step['D'] != d_after_d_step):
            raise Mismatch(f"{D_MOVED_IN_G_STEP}: its parameters changed after its own update (opt_D.step() called again?). Freeze D (D.requires_grad_(False)) and step only opt_G in the generator's update")
    return got


@pytest.mark.task('gan_step')
@pytest.mark.points(2)
def test_gan_step_updates_like_the_reference(submission, rng):
    """one gan_step with SGD from given weights: G's and D's new parameters equal reference.gan_step's"""
    inputs = _step_inputs(rng, 1)
    got = _run_student_steps(submission, inputs)
    expected = recorded_call('test_gan_step_updates_like_the_reference#1', None, *inputs)[0]
    saturating = recorded_call('test_gan_step_updates_like_the_reference#2', None, *inputs, saturating=True)[0]
    d_twice = recorded_call('test_gan_step_updates_like_the_reference#3', None, *inputs, extra_D_step=True)[0]
    assert_close(actual=got[0]['D'], expected=recorded_value('test_gan_step_updates_like_the_reference#4', None, expected), name="D's parameters after gan_step", mistakes=[Mistake(D_MOVED_IN_G_STEP, recorded_value('test_gan_step_updates_like_the_reference#5', None, d_twice), hint='freeze D and step only opt_G in the G update')])
    assert_close(actual=got[0]['G'], expected=recorded_value('test_gan_step_updates_like_the_reference#6', None, expected), name="G's parameters after gan_step", mistakes=[Mistake('the saturating generator loss log(1 − D(G(z)))', recorded_value('test_gan_step_updates_like_the_reference#7', None, saturating), hint='use generator_loss_nonsaturating, −log D(G(z))')])


@pytest.mark.task('gan_step')
@pytest.mark.points(1)
def test_gan_step_returns_the_losses(submission, rng):
    """gan_step returns {"d_loss": float, "g_loss": float}: D's loss before its update, G's loss with the updated D"""
    inputs = _step_inputs(rng, 1)
    got = _run_student_steps(submission, inputs)
    expected = recorded_call('test_gan_step_returns_the_losses#1', None, *inputs)[0]['losses']
    saturating = recorded_call('test_gan_step_returns_the_losses#2', None, *inputs, saturating=True)[0]['losses']
    losses = got[0]['losses']
    if not losses or losses.get('d_loss') is None or losses.get('g_loss') is None:
        raise Mismatch('gan_step should return a dict {"d_loss": ..., "g_loss": ...} of numbers (use loss.item())')
    assert_close(actual=losses['d_loss'], expected=recorded_value('test_gan_step_returns_the_losses#3', None, expected), name='gan_step(...)["d_loss"]')
    assert_close(actual=losses['g_loss'], expected=recorded_value('test_gan_step_returns_the_losses#4', None, expected), name='gan_step(...)["g_loss"]', mistakes=[Mistake('the saturating generator loss log(1 − D(G(z)))', recorded_value('test_gan_step_returns_the_losses#5', None, saturating))])


def _train_harness(student, data, z_eval, delta, dims, steps, seconds, seed):
    """Runs in the sandbox: builds the student's G and D, trains them with the student's train_gan on the grader's
    data under the budget, and returns samples for fresh z, for z + delta, and the loss history (plain arrays)."""
    import time
    import numpy as np
    import torch
    for name in ('Generator', 'Discriminator', 'gan_step', 'train_gan'):
        if not callable(getattr(student, name, None)):
            return {'missing': name}
    torch.manual_seed(seed)
    latent, data_dim, hidden, bounded = dims
    device = data.device
    G = student.Generator(latent_dim=latent, data_dim=data_dim, hidden=hidden, bounded=bounded).to(device)
    D = student.Discriminator(data_dim=data_dim, hidden=hidden).to(device)
    start = time.perf_counter()
    history = student.train_gan(G, D, data, steps=steps, seconds=seconds)
    used = time.perf_counter() - start
    G.eval()
    with torch.no_grad():
        samples, nudged = (G(z_eval), G(z_eval + delta))
    if not isinstance(samples, torch.Tensor) or not isinstance(nudged, torch.Tensor):
        return {'problem': f'G(z) returned a {type(samples).__name__}, not a tensor, after train_gan'}
    curves = {}
    if isinstance(history, dict):
        for key in ('d_loss', 'g_loss'):
            try:
                curves[key] = np.asarray([float(v) for v in history.get(key, [])][:100000], dtype=np.float64)
            except Exception:
                curves[key] = np.zeros(0)
    return {'samples': samples.detach().to('cpu', torch.float64).numpy(), 'nudged': nudged.detach().to('cpu', torch.float64).numpy(), 'seconds': used, 'steps_done': len(curves.get('d_loss', [])), **curves}


def check_samples(res, n: int, dim: int) -> None:
    check_reply(res)
    for key in ('samples', 'nudged'):
        value = res[key]
        if not isinstance(value, np.ndarray) or value.shape != (n, dim):
            shape = tuple(value.shape) if isinstance(value, np.ndarray) else type(value).__name__
            raise Mismatch(f'G(z) for z of shape ({n}, latent_dim) should have shape ({n}, {dim}) after training, got {shape}')
        if not np.all(np.isfinite(value)):
            raise Mismatch("the trained generator's samples contain NaN or infinities: training diverged (lower the learning rate, check the losses are computed from logits)")


def continuity_ratio(samples: np.ndarray, nudged: np.ndarray, delta: np.ndarray) -> float:
    """median |G(z + δ) − G(z)| / |δ|: a network is Lipschitz, a lookup of stored samples jumps."""
    return float(np.median(np.linalg.norm(nudged - samples, axis=1) / np.linalg.norm(delta, axis=1)))


def copy_fraction(samples: np.ndarray, train: np.ndarray, tol: float) -> float:
    """fraction of samples within `tol` of a training point."""
    d = torch.cdist(torch.as_tensor(samples, dtype=torch.float64), torch.as_tensor(train, dtype=torch.float64)).min(dim=1).values
    return float((d <= tol).double().mean())


def ring_data(training_seed: int, eval_seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training points float32, z_eval float32, delta float32): the points from the training seed, the evaluation's
    fresh z and nudges from the (secret) evaluation seed."""
    gen = torch.Generator().manual_seed(training_seed)
    train = ring.mixture_of_gaussians(RING['n_train'], std=RING['std'], generator=gen).float().numpy()
    gen = torch.Generator().manual_seed(eval_seed)
    z = torch.randn(RING['n_eval'], 2, generator=gen).numpy()
    delta = NUDGE * torch.randn(RING['n_eval'], 2, generator=gen).numpy()
    return (train, z, delta)


RING_WINDOW = 0.2


def ring_contrast(samples: np.ndarray) -> float:
    """(fraction of samples within RING_WINDOW of a mode centre + 1/n) / (same near a midpoint between two modes + 1/n):
    about 1 for anything spread evenly along the ring or around it (a circle, a Gaussian blob), above 1 when the samples
    gather on the modes."""
    angles = np.arange(8) * (2 * np.pi / 8)
    midpoints = 2.0 * np.stack([np.cos(angles + np.pi / 8), np.sin(angles + np.pi / 8)], axis=1)
    near_mode = np.linalg.norm(samples[:, None, :] - ring.ring_modes().numpy()[None], axis=2).min(axis=1) <= RING_WINDOW
    near_gap = np.linalg.norm(samples[:, None, :] - midpoints[None], axis=2).min(axis=1) <= RING_WINDOW
    floor = 1.0 / len(samples)
    return float((near_mode.mean() + floor) / (near_gap.mean() + floor))


def ring_metrics(res: dict, train: np.ndarray, delta: np.ndarray) -> dict:
    s = res['samples']
    covered, quality = ring.mode_coverage(t(s), std=RING['std'])
    modes = ring.ring_modes().numpy()
    near_s = np.linalg.norm(s[:, None, :] - modes[None], axis=2).min(axis=1)
    near_d = np.linalg.norm(train[:, None, :].astype(np.float64) - modes[None], axis=2).min(axis=1)
    good = near_s <= 3 * RING['std']
    spread = float(np.median(near_s[good]) / np.median(near_d)) if good.any() else float('nan')
    return {'ring_modes': covered, 'ring_quality': quality, 'ring_contrast': ring_contrast(s), 'ring_spread': spread, 'ring_z_std': float(s.std(axis=0).max()), 'ring_copies': copy_fraction(s, train, 1e-06), 'ring_continuity': continuity_ratio(s, res['nudged'], delta)}


def digits_data(eval_seed: int):
    """(training digits, held-out digits, their labels, z_eval, delta); z and the nudges from the evaluation seed."""
    load_digits8 = reference_module('grader.data').load_digits8
    X_train, _ = load_digits8('train')
    X_test, y_test = load_digits8('test')
    gen = torch.Generator().manual_seed(eval_seed)
    latent = DIGITS['dims'][0]
    z = torch.randn(DIGITS['n_eval'], latent, generator=gen).numpy()
    delta = NUDGE * torch.randn(DIGITS['n_eval'], latent, generator=gen).numpy()
    return (X_train, X_test, y_test, z, delta)


def digit_metrics(res: dict, X_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, delta: np.ndarray) -> dict:
    """samples are G's outputs in [-1, 1], mapped back to pixel values in [0, 1]."""
    s = (res['samples'] + 1.0) / 2.0
    nudged = (res['nudged'] + 1.0) / 2.0
    precision, recall = precision_recall(recorded_call('digit_metrics#1', None, X_test), t(s))
    covered = coverage(torch.as_tensor(X_test, dtype=torch.float64), torch.as_tensor(s, dtype=torch.float64))
    labels = y_test[torch.cdist(t(s), recorded_call('digit_metrics#2', None, X_test)).argmin(dim=1).numpy()]
    counts = np.bincount(labels, minlength=10)
    return {'digits_precision': precision, 'digits_recall': recall, 'digits_coverage': covered, 'digits_classes': int((counts >= 0.01 * len(s)).sum()), 'digits_z_std': float(s.std(axis=0).max()), 'digits_copies': copy_fraction(s, X_train, 0.001), 'digits_continuity': continuity_ratio(s, nudged, delta)}


def trained(submission, key: str, run):
    """One training run per submission and task, shared by its tests (errors are shared too)."""
    _cache = submission.__dict__.setdefault('_a07_trained', {})
    slot = key
    if slot not in _cache:
        try:
            _cache[slot] = ('ok', run())
        except BaseException as exc:
            _cache[slot] = ('error', exc)
    kind, value = _cache[slot]
    if kind == 'error':
        raise value
    return value


def run_ring(submission, eval_seed: int):
    train, z, delta = ring_data(TRAINING_SEED, eval_seed)
    res = submission.run(_train_harness, train, z, delta, RING['dims'], RING['steps'], RING['seconds'], TRAINING_SEED, timeout=HARNESS_TIMEOUT)
    check_samples(res, RING['n_eval'], 2)
    return (res, ring_metrics(res, train, delta), train)


def loss_figure(res: dict, title: str):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5, 3))
    ax = fig.add_subplot(1, 1, 1)
    for key in ('d_loss', 'g_loss'):
        if len(res.get(key, [])):
            ax.plot(res[key], label=key, linewidth=0.8)
    ax.set_xlabel('step')
    ax.set_title(title)
    ax.legend()
    return fig


def budget_note(res: dict, steps: int) -> str:
    """What the feedback says about the training run: its time, and whether the seconds cap cut it short."""
    done = int(res.get('steps_done', 0))
    cut = f', stopped by the time cap after {done} of {steps} steps: make train_gan faster' if 0 < done < steps else ''
    return f"training took {res['seconds']:.1f} s{cut}"


@pytest.mark.task('ring')
@pytest.mark.points(2)
def test_ring_gan_covers_the_modes(submission, rng, figure):
    """train_gan on the 8-Gaussian ring (1,200 steps): the samples of fresh z cover the modes and gather on them"""
    eval_seed = int(rng.integers(2 ** 31))
    res, m, train = trained(submission, 'ring', lambda: run_ring(submission, eval_seed))
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 4))
    for i, (pts, title) in enumerate(((train[:2000], 'real (ring of 8 Gaussians)'), (res['samples'], 'your G(z)'))):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
        ax.scatter(*ring.ring_modes().numpy().T, marker='x', color='red', s=20)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect('equal')
        ax.set_title(title)
    figure('ring: real samples and yours (red crosses: mode centres)', fig)
    figure('ring: your d_loss and g_loss', loss_figure(res, 'train_gan on the ring'))
    problems = []
    if m['ring_modes'] < THRESHOLDS['ring_modes']:
        collapse = ' (mode collapse: G maps every z to a few modes)' if 0 < m['ring_modes'] <= 3 and m['ring_quality'] >= THRESHOLDS['ring_quality'] else ''
        problems.append(f"it covers {m['ring_modes']} of 8 modes, at least {THRESHOLDS['ring_modes']} are required{collapse}")
    if m['ring_quality'] < THRESHOLDS['ring_quality']:
        problems.append(f"{100 * m['ring_quality']:.1f}% of its samples lie within 3σ of a mode, at least {100 * THRESHOLDS['ring_quality']:.0f}% are required")
    if m['ring_contrast'] < THRESHOLDS['ring_contrast']:
        problems.append(f"its samples are {m['ring_contrast']:.2f} times as dense near the mode centres as between neighbouring modes, at least {THRESHOLDS['ring_contrast']:.2f} is required (samples spread evenly along the ring or around it have about 1: G has not learnt where the modes are)")
    if problems:
        raise Mismatch(f"your ring GAN: {'; '.join(problems)} ({budget_note(res, RING['steps'])}). Check gan_step, the learning rate (the solution uses Adam, lr 2e-3, betas (0.5, 0.999)) and batch size 128")


def run_digits(submission, eval_seed: int):
    X_train, X_test, y_test, z, delta = digits_data(eval_seed)
    res = submission.run(_train_harness, X_train * 2.0 - 1.0, z, delta, DIGITS['dims'], DIGITS['steps'], DIGITS['seconds'], TRAINING_SEED, timeout=HARNESS_TIMEOUT)
    check_samples(res, DIGITS['n_eval'], 64)
    return (res, digit_metrics(res, X_train, X_test, y_test, delta), X_test)


@pytest.mark.task('digits')
@pytest.mark.points(2)
def test_digit_gan_precision_coverage_and_classes(submission, rng, figure):
    """train_gan on 8×8 digits in [-1, 1] (1,500 steps): precision and coverage of held-out digits, several classes"""
    eval_seed = int(rng.integers(2 ** 31))
    res, m, X_test = trained(submission, 'digits', lambda: run_digits(submission, eval_seed))
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 4))
    for col, (imgs, title) in enumerate(((X_test[:32], 'held-out real digits'), ((res['samples'][:32] + 1) / 2, 'your G(z)'))):
        for i in range(32):
            ax = fig.add_subplot(4, 17, i // 8 * 17 + col * 9 + i % 8 + 1)
            ax.imshow(np.clip(imgs[i].reshape(8, 8), 0, 1), cmap='gray_r', vmin=0, vmax=1)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=7, loc='left')
    figure('digits: held-out real digits and your samples', fig)
    figure('digits: your d_loss and g_loss', loss_figure(res, 'train_gan on 8x8 digits'))
    problems = []
    if m['digits_precision'] < THRESHOLDS['digits_precision']:
        problems.append(f"precision {m['digits_precision']:.3f} < {THRESHOLDS['digits_precision']:.3f} (too few samples look like real digits)")
    if m['digits_coverage'] < THRESHOLDS['digits_coverage']:
        problems.append(f"coverage {m['digits_coverage']:.3f} < {THRESHOLDS['digits_coverage']:.3f} (the samples come near too few of the held-out digits; for comparison, the training mean plus noise stays below the threshold)")
    if m['digits_classes'] < THRESHOLDS['digits_classes']:
        collapse = ': mode collapse' if m['digits_precision'] >= THRESHOLDS['digits_precision'] else ''
        problems.append(f"only {m['digits_classes']} digit classes among the samples (nearest held-out digit), at least {THRESHOLDS['digits_classes']} are required{collapse}")
    if problems:
        raise Mismatch('your digit GAN: ' + '; '.join(problems) + f" (recall {m['digits_recall']:.3f}, {budget_note(res, DIGITS['steps'])}). Check gan_step and train_gan (the solution uses Adam, lr 2e-3, batch 128)")


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_mode_collapse(submission):
    """What is mode collapse?"""
    assert_choice(actual=submission.get('q_mode_collapse'), correct='b', name='q_mode_collapse', explanations={'a': "D's loss going to 0 is D winning (its gradients to G vanish with the saturating loss); collapse is about G's outputs, which can collapse while D's loss stays moderate", 'c': 'oscillating losses are normal in the adversarial game and do not say how many modes G covers', 'd': "collapse is not about G's weights shrinking; G can have large weights and still map every z to one mode"})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_nonsaturating(submission):
    """Why train G with −log D(G(z)) instead of minimising log(1 − D(G(z)))?"""
    assert_choice(actual=submission.get('q_nonsaturating'), correct='c', name='q_nonsaturating', explanations={'a': 'both losses push D(G(z)) towards 1 and have the same fixed point p_g = p_data; only the gradients differ', 'b': 'the cost is the same: both are one BCE-with-logits term', 'd': "D's optimum D* = p_data / (p_data + p_g) depends only on the two densities, not on G's loss"})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_d_optimum(submission):
    """For a fixed G, which discriminator maximises V(D, G)?"""
    assert_choice(actual=submission.get('q_d_optimum'), correct='a', name='q_d_optimum', explanations={'b': 'that is 1 − D*: it is largest where the fakes are, the opposite of what D is trained to say', 'c': 'D* = 1/2 only where p_g = p_data (at the equilibrium), not for any G', 'd': "D compares the two densities: p_data alone is not a probability of 'real' (it can exceed 1)"})
