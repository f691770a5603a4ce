"""Grader for a05_autoencoders: an undercomplete dense autoencoder, denoising (the corruptions and training with the
clean target), sparse autoencoders (the KL and L1 penalties), anomaly detection by reconstruction error, PCA at
the same code size, a convolutional encoder-decoder, and concept questions (lectures: "Auto-Encoders", "Sparse
Auto-Encoders", "Denoising Auto-Encoders", "AutoEncoders: reconstruction error", "Basic Autoencoder").

Function-level tests draw inputs from the seeded `rng`, call the student's function in the sandbox and compare with
reference.autoencoder in float64 here; known-wrong variants are named in the feedback. Trained models run in the
sandbox through `_ae_harness` (the student's model and training function on the grader's images, under a fixed
budget of steps; the seconds are only a generous cap that machine load does not reach); only reconstructions,
codes, scores and the loss curve come back, and every verdict is computed here. The training seed is fixed
(TRAINING_SEED), so a trained-model verdict is a function of the code, not of the grading secret; the hidden inputs
(the noise on the held-out images, the order in which codes are decoded, the anomaly class) still come from `rng`.
Thresholds come from calibration_a05_autoencoders.json, written by benchmarks/calibrate_a05_autoencoders.py (the
solution over 20+ seeds, other correct trainings' pass rates, and the trivial baselines).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.compare import Mismatch, Mistake, assert_choice, assert_close, matches
from reference import autoencoder as ref

SUBMISSION_NAMES = ("Autoencoder", "train_autoencoder", "gaussian_noise", "masking_noise", "kl_sparsity_penalty",
                    "l1_activity_penalty", "select_normal", "anomaly_scores", "pca_reconstruct", "ConvAutoencoder",
                    "q_pca_vs_ae", "q_bottleneck", "q_denoise_target", "q_rho_hat", "q_anomaly")

CALIBRATION = json.loads(Path(__file__).with_name("calibration_a05_autoencoders.json").read_text(encoding="utf-8"))
BUDGET = CALIBRATION["budget"]  # {"steps": ..., "seconds": ...}: the steps are the budget, the seconds a cap load never reaches
CALL_SECONDS = 90               # wall clock for building + training + evaluating one model in the worker, above the seconds cap
# The seed of every training (initial weights, mini-batches, the training noise): fixed, so that the verdict on a
# trained model does not depend on the secret; the calibration's pass rates over >= 20 other seeds show it is not lucky.
TRAINING_SEED = 20260
CODE_DIM = 32                   # the lecture's encoding_dim
NOISE_STD = 0.3                 # the grader's corruption for the denoising AE: x + N(0, 0.3²), clipped to [0, 1]
RHO, BETA = 0.05, 0.5           # the trained sparse AE's target activation and penalty weight
ANOMALY_CLASSES = tuple(int(c) for c in CALIBRATION["metrics"]["anomaly_auroc"]["per_class"])
PCA_STRIDE = 4                  # the MNIST PCA test fits 500 of the 2,000 digits, X_train[1::4] (an SVD of 2,000 × 784 takes seconds)
CONV_CODE = (8, 2, 2)           # the convolutional AE's code for a 1×8×8 digit: 32 numbers for 64 pixels


def threshold(metric: str, anomaly_class: int | None = None) -> float:
    entry = CALIBRATION["metrics"][metric]
    if anomaly_class is not None:
        entry = entry["per_class"][str(anomaly_class)]
    return float(entry["threshold"])


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


def scalar(got):
    """A 1-element array as a 0-d one (the channel may send a 0-d tensor as shape (1,))."""
    if isinstance(got, np.ndarray) and got.shape == (1,):
        return got.reshape(())
    return got


def mnist():
    """The grader's images: every other training digit (2,000, stratified: the split is sorted by class) and the
    1,000 held-out test digits, never given to training."""
    from grader.data import load_mnist

    X_train, y_train = load_mnist("train")
    X_test, y_test = load_mnist("test")
    return X_train[::2], y_train[::2], X_test, y_test


def digits8():
    from grader.data import load_digits8

    X_train, _ = load_digits8("train", flatten=False)
    X_test, _ = load_digits8("test", flatten=False)
    return X_train, X_test


def corrupt_gaussian(X: np.ndarray, seed: int) -> np.ndarray:
    """The grader's held-out corrupted images (float32), drawn here: x + N(0, NOISE_STD²), clipped to [0, 1]."""
    noise = np.random.default_rng(seed).normal(0.0, NOISE_STD, size=X.shape)
    return np.clip(X + noise, 0.0, 1.0).astype(np.float32)


# ============================================================================================ the sandbox harnesses
def _shape_harness(student, class_name, x, args):
    """Runs in the sandbox: build the student's model, return the shapes of encode, decode and forward."""
    import torch

    cls = getattr(student, class_name, None)
    if not callable(cls):
        return {"missing": class_name}
    torch.manual_seed(0)
    model = cls(*args)
    if not isinstance(model, torch.nn.Module):
        return {"not_module": type(model).__name__}
    model = model.to(x.device).eval()
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return {"missing": f"{class_name}.{name}"}
    with torch.no_grad():
        z = model.encode(x)
        if not isinstance(z, torch.Tensor):
            return {"code_type": type(z).__name__}
        out = model.decode(z)
        full = model(x)
    if not isinstance(out, torch.Tensor) or not isinstance(full, torch.Tensor):
        return {"out_type": type(out).__name__}
    same = out.shape == full.shape and bool(torch.allclose(out.double(), full.double(), atol=1e-6))
    return {"code": list(z.shape), "out": list(out.shape), "min": float(out.min()), "max": float(out.max()),
            "forward_is_decode_encode": same, "params": int(sum(p.numel() for p in model.parameters()))}


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

    needed = [options["model"], "train_autoencoder"]
    if options.get("rho") is not None:
        needed.append("kl_sparsity_penalty")
    if options.get("anomaly_class") is not None:
        needed += ["select_normal", "anomaly_scores"]
    for name in needed:
        if not callable(getattr(student, name, None)):
            return {"missing": name}
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = X_train.device
    model = getattr(student, options["model"])(*options.get("args", ()))
    if not isinstance(model, torch.nn.Module):
        return {"not_module": type(model).__name__}
    model = model.to(device)
    corrupt = penalty = None
    if options.get("noise_std"):
        std = float(options["noise_std"])
        gen = torch.Generator().manual_seed(seed + 1)

        def corrupt(batch):
            noise = torch.randn(batch.shape, generator=gen, dtype=batch.dtype).to(batch.device)
            return (batch + std * noise).clamp(0.0, 1.0)
    if options.get("rho") is not None:
        rho, beta, kl = float(options["rho"]), float(options["beta"]), student.kl_sparsity_penalty

        def penalty(code):
            penalty.calls += 1  # the evidence for "is the penalty added to the loss?"
            return kl(code, rho, beta)
        penalty.calls = 0
    if options.get("anomaly_class") is not None:
        X_train = student.select_normal(X_train, options["y_train"], int(options["anomaly_class"]))
        if not isinstance(X_train, torch.Tensor):
            X_train = torch.as_tensor(np.asarray(X_train), dtype=torch.float32, device=device)
    before = [q.detach().clone() for q in model.parameters()]
    start = time.perf_counter()
    losses = student.train_autoencoder(model, X_train, steps=steps, seconds=seconds, corrupt=corrupt, penalty=penalty)
    train_seconds = time.perf_counter() - start
    # the evidence for "is the model trained?": whether training changed any weight at all
    weights_changed = any(not torch.equal(b, q.detach()) for b, q in zip(before, model.parameters()))
    if isinstance(losses, torch.nn.Module):
        return {"returned_module": True}
    try:
        losses = [float(v) for v in losses][: 10 * steps + 1]
    except Exception:
        losses = []
    model.eval()
    reply = {"seconds": train_seconds, "losses": losses, "n_train": int(len(X_train)), "weights_changed": weights_changed,
             "penalty_calls": penalty.calls if penalty is not None else None}
    with torch.no_grad():
        codes = model.encode(X_eval)
        if not isinstance(codes, torch.Tensor):
            return {**reply, "code_type": type(codes).__name__}
        reply["code_shape"] = list(codes.shape)
        if codes.shape[0] != X_eval.shape[0]:
            return reply
        # decode the codes in a shuffled order, then put the rows back: a decoder that returns anything but a
        # function of the code it is given (a stored input, say) comes back scrambled
        perm_seed = int(options.get("perm_seed", seed + 2))  # a hidden input: the grader draws it from the secret
        perm = torch.randperm(len(codes), generator=torch.Generator().manual_seed(perm_seed)).to(codes.device)
        shuffled = model.decode(codes[perm])
        direct = model.decode(codes[:100])
        if not isinstance(shuffled, torch.Tensor) or not isinstance(direct, torch.Tensor):
            return {**reply, "out_type": type(shuffled).__name__}
        reply["out_shape"] = list(shuffled.shape)
        if shuffled.shape[0] != len(codes):
            return reply
        recon = torch.empty_like(shuffled)
        recon[perm] = shuffled
        reply["recon"] = recon.detach().to("cpu", torch.float32)
        reply["direct"] = direct.detach().to("cpu", torch.float32)
        flat = codes.reshape(len(codes), -1).detach().to("cpu", torch.float64)
        reply["code_mean"] = flat.mean(dim=0)
        if options.get("anomaly_class") is not None:
            scores = student.anomaly_scores(model, X_eval)
            reply["scores"] = torch.as_tensor(scores).detach().to("cpu", torch.float64) if scores is not None else None
    return reply


def _anomaly_scores_harness(student, X, W_enc, b_enc, W_dec, b_dec):
    """Runs in the sandbox: the student's anomaly_scores on a fixed small autoencoder given by the grader."""
    import torch

    if not callable(getattr(student, "anomaly_scores", None)):
        return {"missing": "anomaly_scores"}

    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Linear(W_enc.shape[1], W_enc.shape[0]).double()
            self.dec = torch.nn.Linear(W_dec.shape[1], W_dec.shape[0]).double()
            with torch.no_grad():
                self.enc.weight.copy_(W_enc), self.enc.bias.copy_(b_enc)
                self.dec.weight.copy_(W_dec), self.dec.bias.copy_(b_dec)

        def encode(self, x):
            return torch.relu(self.enc(x))

        def decode(self, z):
            return torch.sigmoid(self.dec(z))

        def forward(self, x):
            return self.decode(self.encode(x))

    model = Fixed().to(X.device).eval()
    return {"scores": student.anomaly_scores(model, X)}


def _noise_twice_harness(student, name, x, level):
    """Runs in the sandbox: two calls of the student's corruption on the same input."""
    import torch

    fn = getattr(student, name, None)
    if not callable(fn):
        return {"missing": name}
    torch.manual_seed(1234)
    first = fn(x.clone(), level)
    second = fn(x.clone(), level)
    return {"first": first, "second": second}


def check_reply(res: dict, what: str = "Autoencoder") -> None:
    if "missing" in res:
        raise Mismatch(f"`{res['missing']}` is not defined in your notebook")
    if "not_module" in res:
        raise Mismatch(f"{what}(...) should build a torch.nn.Module, but it gave a {res['not_module']}")
    if res.get("returned_module"):
        raise Mismatch("train_autoencoder should return the list of losses (one float per step), not the model: "
                       "it trains the model it is given in place")
    if "code_type" in res:
        raise Mismatch(f"encode(x) should return a tensor, but it returned a {res['code_type']}")
    if "out_type" in res:
        raise Mismatch(f"decode(z) should return a tensor, but it returned a {res['out_type']}")


def trained(submission, key: str, *args, what: str = "Autoencoder") -> dict:
    """One trained model per task, shared by that task's tests (kept on the submission object of this run)."""
    cache = submission.__dict__.setdefault("_a05_trained", {})
    if key not in cache:
        try:
            cache[key] = submission.run(_ae_harness, *args, timeout=CALL_SECONDS)
        except Exception as exc:  # a crash or timeout fails every test of the task with the same reason
            cache[key] = exc
    res = cache[key]
    if isinstance(res, Exception):
        raise res
    check_reply(res, what)
    return res


def check_trained(res: dict, n: int, code_shape: tuple, out_shape: tuple) -> np.ndarray:
    """The reconstructions, after checking the budget, the code's shape and the decoder's consistency."""
    steps = len(res.get("losses", []))
    if steps > BUDGET["steps"]:
        raise Mismatch(f"train_autoencoder ran {steps} steps, more than the budget of {BUDGET['steps']} it was given: "
                       "stop after `steps` optimisation steps (and after `seconds` seconds)")
    got = tuple(res.get("code_shape", ()))
    if got != (n, *code_shape):
        raise Mismatch(f"the code has shape {got}, expected {(n, *code_shape)}: the encoder must squeeze each image "
                       f"through the bottleneck of {int(np.prod(code_shape))} numbers (that is what makes the autoencoder "
                       "undercomplete; a wider code could simply copy the input)")
    got = tuple(res.get("out_shape", ()))
    if got != (n, *out_shape):
        raise Mismatch(f"decode(encode(x)) has shape {got}, expected {(n, *out_shape)}")
    recon = np.asarray(res["recon"], dtype=np.float64)
    if not np.all(np.isfinite(recon)):
        raise Mismatch("the reconstructions contain NaN or infinities: lower the learning rate, or check the loss")
    direct = np.asarray(res["direct"], dtype=np.float64)
    if direct.shape != recon[:100].shape or np.abs(direct - recon[:100]).max() > 1e-4:
        raise Mismatch("decode(z) must depend only on the code z it is given: decoding the same codes in a shuffled "
                       "order gave different images (does the decoder reuse a stored input instead of z?)")
    return recon


def expected_noisy_target(X: np.ndarray, std: float) -> np.ndarray:
    """E[clip(x + ε, 0, 1)] for ε ~ N(0, std²), per pixel: what an AE trained against noisy targets converges to.

    With a = −x/σ and b = (1 − x)/σ: E = x(Φ(b) − Φ(a)) + σ(φ(a) − φ(b)) + (1 − Φ(b)).
    """
    x = torch.as_tensor(np.asarray(X, np.float64))
    a, b = -x / std, (1.0 - x) / std
    pdf = lambda u: torch.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)  # noqa: E731
    cdf_a, cdf_b = torch.special.ndtr(a), torch.special.ndtr(b)
    return (x * (cdf_b - cdf_a) + std * (pdf(a) - pdf(b)) + (1.0 - cdf_b)).numpy()


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).mean())


def image_grid(rows: list[tuple[str, np.ndarray]], side: int, n: int = 8):
    """One mosaic image (a single imshow is much faster to draw than a grid of axes): a row of n images per label."""
    from matplotlib.figure import Figure

    mosaic = np.ones((len(rows) * (side + 1), n * (side + 1)))
    for r, (_, images) in enumerate(rows):
        for i in range(n):
            mosaic[r * (side + 1): r * (side + 1) + side, i * (side + 1): i * (side + 1) + side] = \
                np.asarray(images[i], np.float64).reshape(side, side)
    fig = Figure(figsize=(n * 0.8, len(rows) * 0.8 + 0.3))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([(side + 1) * r + side / 2 for r in range(len(rows))], [label for label, _ in rows], fontsize=7)
    return fig


def loss_figure(losses: list[float], title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(losses)
    ax.set_xlabel("step"), ax.set_ylabel("training loss"), ax.set_title(title, fontsize=8)
    return fig


_PCA_CACHE: dict = {}


def reference_pca(X_train: np.ndarray, X_test: np.ndarray, k: int, center: bool = True, columns: bool = False):
    """μ + (X_test − μ) V_k V_kᵀ in float64 (torch.linalg.svd), and the named mistaken variants."""
    Xtr, Xte = t(np.asarray(X_train, np.float64)), t(np.asarray(X_test, np.float64))
    mu = Xtr.mean(dim=0) if center else torch.zeros(Xtr.shape[1], dtype=torch.float64)
    key = (X_train.shape, float(np.asarray(X_train, np.float64).sum()), center)  # the MNIST SVD is reused by two tests
    if key not in _PCA_CACHE:
        _PCA_CACHE[key] = torch.linalg.svd(Xtr - mu, full_matrices=False)[2]
    Vh = _PCA_CACHE[key]
    V = Vh[:, :k] if columns else Vh[:k].T
    return (mu + (Xte - mu) @ V @ V.T).numpy()


# ============================================================================================ 1. undercomplete AE
@pytest.mark.task("undercomplete")
@pytest.mark.points(1)
def test_autoencoder_shapes(submission, rng):
    """Autoencoder(784, 32): encode (N, 784) → (N, 32), decode → (N, 784) with values in [0, 1], forward = decode(encode)"""
    x = rng.random((5, 784)).astype(np.float32)
    res = submission.run(_shape_harness, "Autoencoder", x, [784, CODE_DIM])
    check_reply(res)
    if tuple(res["code"]) != (5, CODE_DIM):
        raise Mismatch(f"encode(x) for x of shape (5, 784) has shape {tuple(res['code'])}, expected (5, {CODE_DIM}): "
                       f"the code is the bottleneck of code_dim = {CODE_DIM} numbers")
    if tuple(res["out"]) != (5, 784):
        raise Mismatch(f"decode(encode(x)) has shape {tuple(res['out'])}, expected (5, 784)")
    if res["min"] < 0 or res["max"] > 1:
        raise Mismatch(f"the reconstructions range over [{res['min']:.3g}, {res['max']:.3g}]; pixels lie in [0, 1]: "
                       "end the decoder with a sigmoid, as in the lecture's Dense(784, activation='sigmoid')")
    if not res["forward_is_decode_encode"]:
        raise Mismatch("forward(x) should return decode(encode(x))")


def _undercomplete(submission, rng):
    X_train, _, X_test, _ = mnist()
    res = trained(submission, "undercomplete", X_train, X_test, TRAINING_SEED, BUDGET["steps"], BUDGET["seconds"],
                  {"model": "Autoencoder", "args": [784, CODE_DIM], "perm_seed": int(rng.integers(2**31))})
    return res, X_train, X_test


@pytest.mark.task("undercomplete")
@pytest.mark.points(3)
def test_trained_autoencoder_reconstructs_held_out_digits(submission, rng, figure):
    """train_autoencoder on 2,000 MNIST digits under the budget: held-out reconstruction MSE below the calibrated threshold"""
    res, X_train, X_test = _undercomplete(submission, rng)
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    figure("undercomplete AE: held-out input, yours, PCA with 32 components (reference, fit on 500 digits)",
           image_grid([("input", X_test), ("yours", recon), ("PCA-32", reference_pca(X_train[1::PCA_STRIDE], X_test[:8], CODE_DIM))], 28))
    if res["losses"]:
        figure("undercomplete AE: your training loss", loss_figure(res["losses"], "train_autoencoder"))
    value, limit = mse(recon, X_test), threshold("undercomplete_mse")
    mean_image = mse(X_train.mean(axis=0, keepdims=True), X_test)
    if value > limit:
        if value > 0.8 * mean_image or recon.std(axis=0).mean() < 0.02:
            measured = (f"held-out MSE {value:.4f} (threshold {limit:.4f}): about what the mean image gets "
                        f"({mean_image:.4f}): the reconstructions barely depend on the input")
            if not res.get("weights_changed", True):  # a hint only with its evidence: no weight moved in training
                raise Mismatch(f"{measured}, and training changed no weight: is the model trained (loss.backward(), "
                               "optimizer.step() on the model's parameters)?")
            raise Mismatch(f"{measured} (training took {res['seconds']:.1f} s, {len(res['losses'])} steps; does encode use "
                           "x, and does the training reduce the loss?)")
        raise Mismatch(f"held-out MSE {value:.4f} is above the threshold {limit:.4f} (training took {res['seconds']:.1f} s, "
                       f"{len(res['losses'])} steps): try Adam with a learning rate around 1e-2 and batches of 64")


@pytest.mark.task("undercomplete")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_reconstructions_are_computed_not_copied(submission, rng):
    """the reconstructions are decoded from the codes (not stored inputs) and are not copies of training images"""
    res, X_train, X_test = _undercomplete(submission, rng)
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    dist = torch.cdist(t(recon[:200]), t(X_train.astype(np.float64))).min(dim=1).values.numpy()
    copied = float((dist < 1e-3).mean())  # distance to the nearest training image, over 784 pixels
    if copied > 0.1:
        raise Mismatch(f"{copied:.0%} of your reconstructions are copies of training images: the model must compute "
                       "the reconstruction from the code, not look up a memorised training digit")


# ============================================================================================ 2. denoising AE
def clipped_spread(sigma: float) -> float:
    """The standard deviation of clip(0.5 + sigma Z, 0, 1) - 0.5 for Z ~ N(0, 1): what a wrong sigma measures here.

    With a = 0.5 / sigma, E[clip(Z, -a, a)^2] = (2 Phi(a) - 1) - 2 a phi(a) + 2 a^2 (1 - Phi(a)); for sigma = sqrt(0.09)
    = 0.3 the clipping lowers the spread by 7 %, more than the test's 3 % tolerance.
    """
    a = 0.5 / sigma
    Phi = 0.5 * (1.0 + math.erf(a / math.sqrt(2.0)))
    phi = math.exp(-a * a / 2.0) / math.sqrt(2.0 * math.pi)
    return sigma * math.sqrt((2.0 * Phi - 1.0) - 2.0 * a * phi + 2.0 * a * a * (1.0 - Phi))


@pytest.mark.task("denoising")
@pytest.mark.points(1)
def test_gaussian_noise_statistics(submission, rng):
    """gaussian_noise(x, std) adds N(0, std²) per pixel: on x = 0.5 the added noise has standard deviation std"""
    std = float(rng.uniform(0.05, 0.09))
    x = np.full((200, 500), 0.5)
    got = submission.call("gaussian_noise", x, std)
    if not isinstance(got, (np.ndarray, torch.Tensor)) or tuple(np.shape(got)) != x.shape:
        raise Mismatch(f"gaussian_noise(x, std) should return an array of the shape of x {x.shape}")
    spread = float(np.std(np.asarray(got, np.float64) - x))
    # the sample std of 1e5 draws has relative standard error 1/sqrt(2e5) ≈ 0.002: rtol 0.03 is 14 standard errors,
    # and the mistakes below are > 20 % away
    assert_close(actual=spread, expected=std, name="std of gaussian_noise(x, std) − x", rtol=0.03, atol=0.0,
                 mistakes=[Mistake("std² used as the standard deviation (std is already σ, not σ²)", clipped_spread(std**2)),
                           Mistake("the square root of std used as the standard deviation", clipped_spread(std**0.5)),
                           Mistake("uniform noise in [−std, std] instead of a Gaussian", std / 3**0.5)])


@pytest.mark.task("denoising")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_gaussian_noise_is_clipped_and_fresh(submission, rng):
    """gaussian_noise keeps images in [0, 1] (clipped) and draws new noise on every call"""
    x = (rng.random((100, 400)) < 0.3).astype(np.float64)  # black-and-white pixels: unclipped noise leaves [0, 1] half the time
    res = submission.run(_noise_twice_harness, "gaussian_noise", x, 0.4)
    check_reply(res)
    first, second = (np.asarray(res[k], np.float64) for k in ("first", "second"))
    outside = float(((first < 0) | (first > 1)).mean())
    # the unclipped mistake leaves [0, 1] with probability 1/2 per pixel: 0.5 ± 0.0025 over 40,000 pixels
    assert_close(actual=outside, expected=0.0, name="fraction of noisy pixels outside [0, 1]", atol=0.02,
                 mistakes=[Mistake("the noisy image not clipped to [0, 1]", 0.5, hint="clamp x + noise to [0, 1]")])
    same = float((first == second).mean())
    # two fresh draws agree only where both clip to the same bound: a black pixel when both noises are < 0, a white
    # one when both are > 0, probability 1/4 either way (± 0.002 over 40,000 pixels); the same noise agrees everywhere
    assert_close(actual=same, expected=0.25, name="fraction of pixels equal in two calls", atol=0.02,
                 mistakes=[Mistake("the same noise on every call (a fixed seed inside the function)", 1.0,
                                   hint="do not seed inside gaussian_noise; draw with torch.randn_like")])


@pytest.mark.task("denoising")
@pytest.mark.points(1)
def test_masking_noise_statistics(submission, rng):
    """masking_noise(x, p) sets each pixel to 0 with probability p and keeps the others unchanged"""
    p = float(rng.uniform(0.15, 0.35))
    x = np.full((200, 500), 0.5)
    got = submission.call("masking_noise", x, p)
    if not isinstance(got, (np.ndarray, torch.Tensor)) or tuple(np.shape(got)) != x.shape:
        raise Mismatch(f"masking_noise(x, p) should return an array of the shape of x {x.shape}")
    got = np.asarray(got, np.float64)
    # the fraction of 1e5 Bernoulli(p) draws has standard error ≤ 0.0016: atol 0.015 is 9 of them; 1 − p is ≥ 0.3 away
    assert_close(actual=float((got == 0).mean()), expected=p, name="fraction of masked (zero) pixels", atol=0.015,
                 mistakes=[Mistake("each pixel kept with probability p instead of 1 − p (p is the masking probability)", 1 - p)])
    kept = got[got != 0]
    assert_close(actual=float(kept.mean()) if kept.size else 0.0, expected=0.5, name="mean of the kept pixels",
                 mistakes=[Mistake("the kept pixels rescaled by 1/(1 − p) as in inverted dropout: masking noise "
                                   "keeps them unchanged", 0.5 / (1 - p))])


@pytest.mark.task("denoising")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_masking_noise_draws_a_new_mask_every_call(submission, rng):
    """masking_noise draws a new mask on every call (two calls mask different pixels)"""
    p = float(rng.uniform(0.2, 0.4))
    res = submission.run(_noise_twice_harness, "masking_noise", np.full((100, 400), 0.5), p)
    check_reply(res)
    first, second = (np.asarray(res[k], np.float64) for k in ("first", "second"))
    agree = float(((first == 0) == (second == 0)).mean())
    # two independent masks agree where both mask or both keep: p² + (1 − p)² ± 0.0025 over 40,000 pixels
    assert_close(actual=agree, expected=p**2 + (1 - p) ** 2, name="fraction of pixels masked alike in two calls", atol=0.02,
                 mistakes=[Mistake("the same mask on every call (a fixed seed or a mask computed once)", 1.0)])


@pytest.mark.task("denoising")
@pytest.mark.points(2)
def test_denoising_autoencoder_removes_noise(submission, rng, figure):
    """a denoising AE trained on corrupted inputs with the clean target: on held-out noisy digits its outputs fit the clean digits (MSE below the threshold), not the noisy images"""
    X_train, _, X_test, _ = mnist()
    eval_seed = int(rng.integers(2**31))  # the held-out noise; the training has the fixed TRAINING_SEED
    noisy = corrupt_gaussian(X_test, eval_seed + 3)
    res = trained(submission, "denoising", X_train, noisy, TRAINING_SEED, BUDGET["steps"], BUDGET["seconds"],
                  {"model": "Autoencoder", "args": [784, CODE_DIM], "noise_std": NOISE_STD, "perm_seed": eval_seed + 2})
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    figure("denoising AE: held-out noisy input, yours, clean", image_grid([("noisy", noisy), ("yours", recon), ("clean", X_test)], 28))
    value, limit = mse(recon, X_test), threshold("denoising_mse")
    # Trained with the noisy image as its target, an AE converges to E[x̃ | x] = E[clip(x + ε)] (it cannot predict the
    # noise itself), whose background is grey (σ/√(2π) ≈ 0.12 where x = 0); trained with the clean target, to x, whose
    # background is black. denoising_background, the mean output where the clean digit is 0, tells the two apart with
    # a calibrated margin on both sides, so the MSE threshold can keep >= 3 standard deviations of the solution's seeds
    # without having to reject that mistake too. The MSE to E[x̃ | x] must also be small: an untrained uniform grey
    # output (≈ 0.5) has a grey background but fits neither, and is not named.
    to_noisy_target = mse(recon, expected_noisy_target(X_test, NOISE_STD))
    background = float(recon[X_test == 0].mean())
    if background > threshold("denoising_background") and to_noisy_target <= limit:
        raise Mismatch(f"your outputs have a grey background (mean {background:.3f} where the clean digit is 0, at most "
                       f"{threshold('denoising_background'):.3f} is expected) and fit what training against the noisy images "
                       f"gives (MSE {to_noisy_target:.4f} to E[x̃ | x]; {value:.4f} to the clean digits): it looks like the "
                       "loss compares the output with the noisy input instead of the clean image; a denoising AE feeds x̃ "
                       "and reconstructs x")
    if value > limit:
        raise Mismatch(f"denoising MSE {value:.4f} is above the threshold {limit:.4f} (the noisy images themselves "
                       f"have {mse(noisy, X_test):.4f}; training took {res['seconds']:.1f} s, {len(res['losses'])} steps); "
                       f"your outputs do not fit the noisy images' mean E[x̃ | x] either (MSE {to_noisy_target:.4f}, "
                       f"background {background:.3f}), so they do not show a noisy target: feed the corrupted batch, compare "
                       "the output with the clean batch, and train as in task 1")


# ============================================================================================ 3. sparse AE
def sigmoid_codes(rng: np.random.Generator, m: int, s: int) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-rng.normal(-1.0, 2.0, size=(m, s))))


def kl_mistakes(a: np.ndarray, rho: float, beta: float) -> list[Mistake]:
    def kl(p, q):
        return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))

    rho_hat = a.mean(axis=0)
    return [
        Mistake("KL(ρ̂‖ρ): the arguments of the KL are swapped (the lecture's penalty is KL(ρ‖ρ̂_j))", beta * kl(rho_hat, rho).sum()),
        Mistake("ρ̂ averaged over the hidden units instead of over the batch (ρ̂_j is unit j's mean activation over the m samples)",
                beta * kl(rho, a.mean(axis=1)).sum()),
        Mistake("the weight β left out", kl(rho, rho_hat).sum()),
        Mistake("the KL averaged over the units instead of summed (Σ_j)", beta * kl(rho, rho_hat).mean()),
    ]


@pytest.mark.task("sparse")
@pytest.mark.points(1)
def test_kl_sparsity_penalty(submission, rng):
    """kl_sparsity_penalty(a, ρ, β) = β Σ_j KL(ρ‖ρ̂_j) with ρ̂_j the mean activation of unit j over the batch"""
    a = sigmoid_codes(rng, 40, 12)
    rho, beta = float(rng.choice([0.05, 0.1, 0.2])), float(rng.uniform(0.5, 3.0))
    got = scalar(submission.call("kl_sparsity_penalty", a, rho, beta))
    # float32_digits: `torch.log(torch.tensor(rho))` is float32 inside an otherwise float64 penalty (a correct style,
    # tests/mutants STYLES); every named mistake (swapped KL, β left out, mean over units) is off by far more
    assert_close(actual=got, expected=ref.kl_sparsity_penalty(t(a), rho, beta), name="kl_sparsity_penalty(a, rho, beta)",
                 mistakes=kl_mistakes(a, rho, beta), float32_digits=True)


@pytest.mark.task("sparse")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_kl_sparsity_penalty_other_shapes(submission, rng):
    """kl_sparsity_penalty on a batch with more units than samples (m = 6, S = 25)"""
    a = sigmoid_codes(rng, 6, 25)
    rho, beta = float(rng.choice([0.02, 0.05, 0.1])), float(rng.uniform(0.5, 3.0))
    got = scalar(submission.call("kl_sparsity_penalty", a, rho, beta))
    # float32_digits: `torch.log(torch.tensor(rho))` is float32 inside an otherwise float64 penalty (a correct style,
    # tests/mutants STYLES); every named mistake (swapped KL, β left out, mean over units) is off by far more
    assert_close(actual=got, expected=ref.kl_sparsity_penalty(t(a), rho, beta), name="kl_sparsity_penalty(a, rho, beta)",
                 mistakes=kl_mistakes(a, rho, beta), float32_digits=True)


@pytest.mark.task("sparse")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_kl_sparsity_penalty_of_a_dead_unit_is_finite(submission, rng):
    """a unit that is exactly 0 on the whole batch gives a large but finite penalty (ρ̂ clamped, no log of 0)"""
    a = sigmoid_codes(rng, 20, 6)
    a[:, 2] = 0.0
    rho, beta = 0.05, 1.0
    got = scalar(submission.call("kl_sparsity_penalty", a, rho, beta))
    value = np.asarray(got, np.float64) if isinstance(got, (np.ndarray, torch.Tensor, float, int)) else None
    if value is None or value.size != 1:
        raise Mismatch("kl_sparsity_penalty should return a single number (a 0-d tensor)")
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise Mismatch(f"kl_sparsity_penalty is {value} when a unit is 0 on the whole batch: that is a log of 0; clamp "
                       "ρ̂ to [eps, 1 − eps] (eps = 1e-8) before the logarithms")
    alive = a[:, [0, 1, 3, 4, 5]]
    floor = float(ref.kl_sparsity_penalty(t(alive), rho, beta)) + 0.5 * rho * np.log(rho / 1e-3)
    if value < floor:  # a dead unit (ρ̂ ≤ 1e-3 after any reasonable clamp) adds at least ρ log(ρ/1e-3) − (1−ρ)·ρ
        raise Mismatch(f"kl_sparsity_penalty is {value:.4g}: a unit that is never active should add a large penalty "
                       "(ρ log(ρ/ρ̂) with ρ̂ ≈ 0); clamp ρ̂ to a tiny eps, do not drop or zero that unit")


@pytest.mark.task("sparse")
@pytest.mark.points(1)
def test_l1_activity_penalty(submission, rng):
    """l1_activity_penalty(a, λ) = λ · (1/m) Σ_i Σ_j |a_ij|: summed over the units, averaged over the batch"""
    a = rng.normal(size=(16, 10))
    lam = float(rng.uniform(0.01, 0.5))
    got = scalar(submission.call("l1_activity_penalty", a, lam))
    assert_close(actual=got, expected=ref.l1_activity_penalty(t(a), lam), name="l1_activity_penalty(a, lam)",
                 mistakes=[Mistake("the L2 penalty Σ a² instead of the L1 penalty Σ |a|", lam * (a**2).sum(axis=1).mean()),
                           Mistake("summed over the batch instead of averaged", lam * np.abs(a).sum()),
                           Mistake("averaged over the units instead of summed", lam * np.abs(a).mean()),
                           Mistake("the weight λ left out", np.abs(a).sum(axis=1).mean()),
                           Mistake("Σ a without the absolute value", lam * a.sum(axis=1).mean())])


@pytest.mark.task("sparse")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_l1_activity_penalty_other_shapes(submission, rng):
    """l1_activity_penalty on a batch of 5 samples with 30 units"""
    a = rng.normal(size=(5, 30))
    lam = float(rng.uniform(0.01, 0.5))
    got = scalar(submission.call("l1_activity_penalty", a, lam))
    assert_close(actual=got, expected=ref.l1_activity_penalty(t(a), lam), name="l1_activity_penalty(a, lam)",
                 mistakes=[Mistake("the L2 penalty Σ a² instead of the L1 penalty Σ |a|", lam * (a**2).sum(axis=1).mean()),
                           Mistake("summed over the batch instead of averaged", lam * np.abs(a).sum())])


@pytest.mark.task("sparse")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_trained_sparse_autoencoder_reaches_rho(submission, rng):
    """a sparse AE (sigmoid code) trained with your KL penalty (ρ = 0.05, β = 0.5): mean activation of its units near ρ"""
    X_train, _, X_test, _ = mnist()
    res = trained(submission, "sparse", X_train, X_test, TRAINING_SEED, BUDGET["steps"], BUDGET["seconds"],
                  {"model": "Autoencoder", "args": [784, CODE_DIM, "sigmoid"], "rho": RHO, "beta": BETA,
                   "perm_seed": int(rng.integers(2**31))})
    recon = check_trained(res, len(X_test), (CODE_DIM,), (784,))
    rho_hat = np.asarray(res["code_mean"], np.float64)
    gap, limit = abs(float(rho_hat.mean()) - RHO), threshold("sparse_rho_gap")
    if not np.isfinite(gap) or gap > limit:
        measured = f"the trained code's mean activation is {rho_hat.mean():.3f}, not within {limit:.3f} of ρ = {RHO}"
        # a hint only with its evidence: train_autoencoder never called the penalty it was given
        if res.get("penalty_calls") == 0:
            raise Mismatch(f"{measured}, and train_autoencoder never called the `penalty` it was given: is the penalty "
                           "added to the loss in train_autoencoder (loss = reconstruction + penalty(code))?")
        raise Mismatch(f"{measured} (held-out reconstruction MSE {mse(recon, X_test):.4f}; does Autoencoder(..., "
                       "'sigmoid') use a sigmoid code, and does the training reduce the loss?)")


# ============================================================================================ 4. anomaly detection
@pytest.mark.task("anomaly")
@pytest.mark.points(1)
def test_select_normal(submission, rng):
    """select_normal(X, y, c) keeps the images of every digit except the anomaly class c"""
    y = rng.integers(0, 5, size=30)
    X = rng.normal(size=(30, 4))
    c = int(rng.integers(1, 4))
    got = submission.call("select_normal", X, y, c)
    mistakes = [Mistake("only the anomaly class kept (y == c) instead of removed", X[y == c]),
                Mistake("all digits kept: the training set includes the anomaly class", X),
                Mistake("the wrong class removed (off by one)", X[y != c + 1]),
                Mistake("the wrong class removed (off by one)", X[y != c - 1])]
    for mistake in mistakes:  # these have other shapes than the answer, which assert_close would report first
        if matches(got, mistake.value) and not matches(got, X[y != c]):
            raise Mismatch(f"`select_normal(X, y, c)` is wrong: it looks like {mistake.name}.")
    assert_close(actual=got, expected=X[y != c], name="select_normal(X, y, c)", mistakes=mistakes)


def anomaly_model(rng: np.random.Generator, d: int, k: int):
    return (rng.normal(0, 0.5, size=(k, d)), rng.normal(0, 0.1, size=k), rng.normal(0, 0.5, size=(d, k)), rng.normal(0, 0.1, size=d))


@pytest.mark.task("anomaly")
@pytest.mark.points(1)
def test_anomaly_scores_on_a_fixed_model(submission, rng):
    """anomaly_scores(model, X) = MSE_i = (1/k)‖x_i − x̂_i‖² per image, x̂ = model.decode(model.encode(x))"""
    X = rng.random((12, 20))
    W1, b1, W2, b2 = anomaly_model(rng, 20, 5)
    res = submission.run(_anomaly_scores_harness, X, W1, b1, W2, b2)
    check_reply(res)
    x_hat = 1 / (1 + np.exp(-(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2)))
    err = ((X - x_hat) ** 2)
    assert_close(actual=res["scores"], expected=ref.reconstruction_mse(t(X), t(x_hat)), name="anomaly_scores(model, X)",
                 mistakes=[Mistake("scored by the negative error (a higher score must mean more anomalous)", -err.mean(axis=1)),
                           Mistake("the squared errors summed over the pixels, not averaged (the lecture's MSE_i has 1/k)", err.sum(axis=1)),
                           Mistake("the norm ‖x − x̂‖ (a square root) instead of the mean squared error", np.sqrt(err.sum(axis=1))),
                           Mistake("the absolute error instead of the squared error", np.abs(X - x_hat).mean(axis=1))])


def area_under_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUROC as the Mann-Whitney statistic: the chance that an anomaly outscores a normal image, ties counting half.
    Written here rather than taken from scikit-learn so that the student kit, which has only numpy and torch, can
    measure it too (tests/test_calibration_a05_autoencoders.py checks it equals sklearn's roc_auc_score)."""
    pos, neg = scores[labels][:, None], scores[~labels][None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


@pytest.mark.task("anomaly")
@pytest.mark.points(3)
def test_anomaly_detection_auroc(submission, rng, figure):
    """an AE trained on every digit but one: its reconstruction error flags the held-out digit (AUROC above the threshold)"""
    X_train, y_train, X_test, y_test = mnist()
    perm_seed = int(rng.integers(2**31))
    c = int(rng.choice(ANOMALY_CLASSES))
    res = trained(submission, "anomaly", X_train, X_test, TRAINING_SEED, BUDGET["steps"], BUDGET["seconds"],
                  {"model": "Autoencoder", "args": [784, CODE_DIM], "y_train": y_train, "anomaly_class": c, "perm_seed": perm_seed})
    check_trained(res, len(X_test), (CODE_DIM,), (784,))
    scores = res.get("scores")
    if not isinstance(scores, np.ndarray) or scores.shape != (len(X_test),):
        shape = tuple(scores.shape) if isinstance(scores, np.ndarray) else type(scores).__name__
        raise Mismatch(f"anomaly_scores(model, X) should give one score per image, shape ({len(X_test)},), not {shape}")
    if not np.all(np.isfinite(scores)):
        raise Mismatch("anomaly_scores contains NaN or infinities")
    labels = y_test == c
    auroc, limit = area_under_roc(labels, scores), threshold("anomaly_auroc", c)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist([scores[~labels], scores[labels]], bins=30, label=["normal digits", f"digit {c} (anomaly)"], density=True)
    ax.legend(fontsize=7), ax.set_xlabel("your anomaly score"), ax.set_title(f"AUROC {auroc:.3f}", fontsize=8)
    figure(f"anomaly detection: scores of normal digits and of the held-out digit {c}", fig)
    expected_n = int((y_train != c).sum())
    if res["n_train"] != expected_n:
        raise Mismatch(f"the model was trained on {res['n_train']} images, but the training digits other than {c} are "
                       f"{expected_n}: select_normal must remove exactly the anomaly class")
    if auroc < 0.5 and 1.0 - auroc >= limit:  # reversed scores would pass: that is the evidence for "reversed"
        raise Mismatch(f"AUROC {auroc:.3f} is below 0.5: your scores are reversed (the anomalies get lower scores); "
                       "a higher score must mean a larger reconstruction error")
    if auroc < limit:
        raise Mismatch(f"AUROC {auroc:.3f} for the held-out digit {c} is below the threshold {limit:.3f}: train on the "
                       "normal digits only and score by the reconstruction error of each image")


# ============================================================================================ 5. PCA
def pca_data(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    scales = 3.0 * 0.6 ** np.arange(d)  # well-separated singular values: the top-k subspace is well defined
    return rng.normal(size=(n, d)) * scales + rng.normal(2.0, 1.0, size=d)


def pca_mistakes(X_train, X_test, k, columns: bool = True, off_by_one: bool = True):
    found = [Mistake("the data not centred (subtract the training mean μ before the SVD, add it back after)",
                     reference_pca(X_train, X_test, k, center=False))]
    if columns:  # only when Vh is square (n ≥ d): otherwise its first k columns do not even fit
        found.append(Mistake("the columns of Vh used instead of its rows (the principal directions are the rows of Vh, "
                             "the columns of V)", reference_pca(X_train, X_test, k, columns=True)))
    if off_by_one:
        found += [Mistake("k + 1 components instead of k (off by one)", reference_pca(X_train, X_test, k + 1)),
                  Mistake("k − 1 components instead of k (off by one)", reference_pca(X_train, X_test, k - 1))]
    return found


@pytest.mark.task("pca")
@pytest.mark.points(1)
def test_pca_reconstruct(submission, rng):
    """pca_reconstruct(X_train, X_test, k) = μ + (X_test − μ) V_k V_kᵀ with V_k the top-k right singular vectors"""
    X_train, X_test, k = pca_data(rng, 40, 8), pca_data(rng, 10, 8), 3
    got = submission.call("pca_reconstruct", X_train, X_test, k)
    assert_close(actual=got, expected=reference_pca(X_train, X_test, k), name="pca_reconstruct(X_train, X_test, 3)",
                 mistakes=pca_mistakes(X_train, X_test, k))


@pytest.mark.task("pca")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_pca_reconstruct_with_fewer_samples_than_features(submission, rng):
    """pca_reconstruct with fewer training samples than features (n = 15, d = 30, k = 4)"""
    X_train, X_test, k = pca_data(rng, 15, 30), pca_data(rng, 6, 30), 4
    got = submission.call("pca_reconstruct", X_train, X_test, k)
    assert_close(actual=got, expected=reference_pca(X_train, X_test, k), name="pca_reconstruct(X_train, X_test, 4)",
                 mistakes=pca_mistakes(X_train, X_test, k, columns=False))


@pytest.mark.task("pca")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_pca_reconstruct_on_mnist_at_k32(submission):
    """pca_reconstruct on 500 MNIST training digits, 200 held-out digits, k = 32 (the AE's code size)"""
    X_train, _, X_test, _ = mnist()
    X_train, X_test = X_train[1::PCA_STRIDE].astype(np.float64), X_test[:200].astype(np.float64)
    got = submission.call("pca_reconstruct", X_train, X_test, CODE_DIM)
    # σ_32/σ_33 = 1.047 on these 500 digits: the top-32 subspace is still well conditioned, but an SVD in float32 (or of
    # XᵀX instead of X) moves the projection by ~1e-5: atol 1e-4 on pixels in [0, 1] accepts those, and a single
    # missing or extra component moves pixels by more than 1e-2
    assert_close(actual=got, expected=reference_pca(X_train, X_test, CODE_DIM), name="pca_reconstruct(X_train, X_test, 32)",
                 rtol=1e-4, atol=1e-4, mistakes=pca_mistakes(X_train, X_test, CODE_DIM, columns=False, off_by_one=False))


@pytest.mark.task("pca")
@pytest.mark.points(1)
def test_q_pca_vs_ae(submission):
    """Why can PCA with 32 components beat the notebook's 32-unit autoencoder trained for a few hundred steps?"""
    assert_choice(actual=submission.get("q_pca_vs_ae"), correct="b", name="q_pca_vs_ae", explanations={
        "a": "PCA does not use the labels: it is as unsupervised as the autoencoder",
        "c": "an autoencoder's code is not limited to linear maps: with non-linear activations it can represent more than "
             "a linear projection, which is why it can eventually beat PCA",
        "d": "the comparison uses the same held-out images and the same MSE for both, so the metric is not the reason",
    })


# ============================================================================================ 6. convolutional AE
@pytest.mark.task("conv")
@pytest.mark.points(1)
def test_conv_autoencoder_shapes(submission, rng):
    """ConvAutoencoder(): encode (N, 1, 8, 8) → code (N, 8, 2, 2), decode → (N, 1, 8, 8) in [0, 1]"""
    x = rng.random((5, 1, 8, 8)).astype(np.float32)
    res = submission.run(_shape_harness, "ConvAutoencoder", x, [])
    check_reply(res, "ConvAutoencoder")
    if tuple(res["code"]) != (5, *CONV_CODE):
        raise Mismatch(f"encode(x) for x of shape (5, 1, 8, 8) has shape {tuple(res['code'])}, expected (5, 8, 2, 2): "
                       "two stride-2 convolutions halve 8 → 4 → 2, and the second has 8 output channels")
    if tuple(res["out"]) != (5, 1, 8, 8):
        raise Mismatch(f"decode(encode(x)) has shape {tuple(res['out'])}, expected (5, 1, 8, 8): a transposed "
                       "convolution with kernel 3, stride 2, padding 1 needs output_padding=1 to double the size")
    if res["min"] < 0 or res["max"] > 1:
        raise Mismatch(f"the reconstructions range over [{res['min']:.3g}, {res['max']:.3g}]: end the decoder with a sigmoid")
    if not res["forward_is_decode_encode"]:
        raise Mismatch("forward(x) should return decode(encode(x))")


def _conv(submission, rng):
    X_train, X_test = digits8()
    return trained(submission, "conv", X_train, X_test, TRAINING_SEED, BUDGET["steps"], BUDGET["seconds"],
                   {"model": "ConvAutoencoder", "args": [], "perm_seed": int(rng.integers(2**31))}, what="ConvAutoencoder"), X_train, X_test


@pytest.mark.task("conv")
@pytest.mark.points(2)
def test_trained_conv_autoencoder_reconstructs(submission, rng, figure):
    """the convolutional AE trained with your train_autoencoder on 8×8 digits: held-out MSE below the threshold"""
    res, X_train, X_test = _conv(submission, rng)
    recon = check_trained(res, len(X_test), CONV_CODE, (1, 8, 8))
    figure("convolutional AE: held-out 8×8 input, yours", image_grid([("input", X_test), ("yours", recon)], 8))
    value, limit = mse(recon, X_test), threshold("conv_mse")
    if value > limit:
        measured = (f"held-out MSE {value:.4f} is above the threshold {limit:.4f} (the mean image gets "
                    f"{mse(X_train.mean(axis=0, keepdims=True), X_test):.4f})")
        # a hint only with its evidence: training losses that did not fall, or outputs outside [0, 1]
        losses = np.asarray(res.get("losses") or [], dtype=np.float64)
        tenth = max(1, len(losses) // 10)
        if not res.get("weights_changed", True):
            raise Mismatch(f"{measured}, and training changed no weight: is the model trained (loss.backward() and "
                           "optimizer.step() on the model's parameters)?")
        if len(losses) >= 2 and np.isfinite(losses).all() and losses[-tenth:].mean() >= losses[:tenth].mean():
            raise Mismatch(f"{measured}, and the losses train_autoencoder returned did not fall (first steps "
                           f"{losses[:tenth].mean():.4f}, last steps {losses[-tenth:].mean():.4f})")
        if recon.min() < 0 or recon.max() > 1:
            raise Mismatch(f"{measured}, and the reconstructions range over [{recon.min():.3g}, {recon.max():.3g}]: "
                           "end the decoder with a sigmoid")
        raise Mismatch(measured)


@pytest.mark.task("conv")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_conv_decoder_uses_the_code(submission, rng):
    """the convolutional AE's reconstructions depend on the input, through the code"""
    res, X_train, X_test = _conv(submission, rng)
    recon = check_trained(res, len(X_test), CONV_CODE, (1, 8, 8))
    spread = float(recon.std(axis=0).mean())
    if spread < 0.05:
        measured = f"your reconstructions are nearly the same image for every input (mean std across images {spread:.3f})"
        if spread < 1e-4:  # the same image whatever the input: the evidence that the code does not reach the output
            raise Mismatch(f"{measured}: the decoder must use the code")
        raise Mismatch(f"{measured}; a trained autoencoder's vary by at least 0.05")


# ============================================================================================ 7. concept questions
@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_bottleneck(submission):
    """Why is the code of an undercomplete autoencoder smaller than its input?"""
    assert_choice(actual=submission.get("q_bottleneck"), correct="c", name="q_bottleneck", explanations={
        "a": "a smaller code does not make training faster in any essential way; the point is what the network can learn",
        "b": "the reconstruction loss needs no labels whatever the code size: autoencoders are unsupervised either way",
        "d": "the code size does not have to match the number of classes: the lecture uses 32 for 10 digits",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_denoise_target(submission):
    """In a denoising autoencoder, what is the output compared with in the loss?"""
    assert_choice(actual=submission.get("q_denoise_target"), correct="a", name="q_denoise_target", explanations={
        "b": "comparing with the noisy input teaches the network to reproduce the noise: that is an ordinary AE on noisy data",
        "c": "the noise itself is not the target (that would be a noise predictor, as in diffusion models), the clean image is",
        "d": "the code has no target: the loss compares images",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_rho_hat(submission):
    """What is ρ̂_j in the sparse autoencoder's KL penalty?"""
    assert_choice(actual=submission.get("q_rho_hat"), correct="d", name="q_rho_hat", explanations={
        "a": "ρ is the target the user chooses (e.g. 0.05); ρ̂_j is measured from the network",
        "b": "averaging over the units of one sample gives one number per sample; the penalty needs one number per unit",
        "c": "the weights are not what the KL penalises: it constrains the activations of the hidden units",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_anomaly(submission):
    """Why does a large reconstruction error flag an anomaly?"""
    assert_choice(actual=submission.get("q_anomaly"), correct="b", name="q_anomaly", explanations={
        "a": "the autoencoder never sees labels: it is trained only to reconstruct the normal data",
        "c": "anomalies do not have to be noisier or darker: they differ from the training distribution",
        "d": "the error is large for anomalies because of what the model learnt, not because of the image size",
    })
