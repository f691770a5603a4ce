"""Grader for a06_vae: variational autoencoders (lectures: "Introduction to the basics of AI - S9", Variational
Auto-Encoders; CE6146 "Autoencoders", Variational Autoencoders).

Function-level tests draw their inputs here from the seeded `rng`, call the student's function in the sandbox and
compare with the float64 reference in reference.vae, naming known mistakes. The trained-model tests run the
student's own VAE and `train` inside the worker with `_vae_harness` (a budget of steps on MNIST; the seconds are only
a cap that machine load does not reach), with a training seed fixed for the assignment (TRAINING_SEED) so a verdict is
a function of the code, not of the grading secret or the load; they get back only plain arrays (codes, reconstruction
logits, decoded prior samples, the loss curve), and decide here:
the held-out negative ELBO is recomputed with the reference from the returned mu, logvar and logits, and sample
quality is measured with precision/recall against the held-out digits. Thresholds come from
calibration_a06_vae.json, written by benchmarks/calibrate_a06_vae.py (the solution over >= 20 seeds), which also
records the pass rates of the solution and of other correct trainings over >= 20 seeds, quiet and loaded.
"""
from __future__ import annotations

import json
import weakref
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.compare import Mismatch, Mistake, assert_choice, assert_close
from grader.sandbox import StudentCodeFailure
from reference import vae as ref
from reference.generative_metrics import precision_recall

# Measurements that answer no task, shipped in the student kit as code (grader/kit.py): the kit measures a student's
# trained VAE as grading does.
KIT_SHIPS = ("reference.generative_metrics",)

SUBMISSION_NAMES = ("q_reparam", "q_kl", "q_beta", "q_logvar")

# The grading budget and the metrics' settings; benchmarks/calibrate_a06_vae.py calibrates under exactly these and
# tests/test_calibration_a06_vae.py checks that the calibration file was made with them.
# The steps are the budget; max_seconds is a cap load does not reach: 600 steps take 2-7 s on a quiet core and at most
# 20 s with twice as many busy processes as cores (pass_rates' seconds_max in the calibration file), a third of the cap.
BUDGET = {"steps": 600, "max_seconds": 60.0, "latent_dim": 8, "pca_dims": 8, "k": 3}
# One training seed for every submission (its evaluation noise follows from it): the trained-model verdicts must not
# depend on which secret was drawn. The calibration's pass rates over >= 20 other seeds show it is not a lucky one.
TRAINING_SEED = 20260
CALIBRATION_FILE = Path(__file__).with_name("calibration_a06_vae.json")


@lru_cache(maxsize=1)
def calibration() -> dict:
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def threshold(metric: str) -> float:
    return float(calibration()["metrics"][metric]["threshold"])


KL_FAR = 60.0  # nats per digit: the solution's held-out KL is about 14 (seeds 1000-1002 and TRAINING_SEED), a
# training without the KL term ends near 120 (the beta=0 mutant of tests/mutants/a06_vae.py)
HARNESS_TIMEOUT = 100  # wall clock for building, training (capped at BUDGET["max_seconds"]) and evaluating in the worker;
# course.yaml's submission_seconds (150) leaves room for it and for every other test
INTERPOLATION_PAIR = (2, 7)  # labels of the two held-out digits whose codes are interpolated for the figure


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))  # the same function, without overflow


def bce_with_logits(logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elementwise −[x log σ(l) + (1 − x) log(1 − σ(l))], stable: softplus(l) − x·l."""
    return np.logaddexp(0.0, logits) - x * logits


def call_or_fail(submission, name: str, *args, **kwargs):
    try:
        return submission.call(name, *args, **kwargs)
    except StudentCodeFailure as exc:
        if "between 0 and 1" in str(exc):
            raise Mismatch(
                f"{name} raised an error: the logits were used as probabilities in the binary cross-entropy (logits "
                "lie outside [0, 1]). Use F.binary_cross_entropy_with_logits, or the stable softplus(l) − x·l."
            ) from None
        raise


# ============================================================================================ 1. the encoder
def _encode_harness(student, latent_dim):
    import torch

    if not callable(getattr(student, "VAE", None)):
        return {"missing": "VAE"}
    torch.manual_seed(0)
    model = student.VAE(input_dim=784, latent_dim=latent_dim)
    if not isinstance(model, torch.nn.Module):
        return {"not_module": type(model).__name__}
    x = torch.rand(5, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model.encode(x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return {"not_pair": type(out).__name__}
        mu, logvar = (torch.as_tensor(o).detach().to("cpu", torch.float64) for o in out)
        logits = torch.as_tensor(model.decode(mu.to(x.dtype))).detach().to("cpu", torch.float64)
    return {"mu": mu, "logvar": logvar, "logits": logits}


def _check_build(res: dict) -> None:
    if "missing" in res:
        raise AssertionError(f"`{res['missing']}` is not defined in your notebook")
    if "not_module" in res:
        raise AssertionError(f"VAE(...) should build a torch.nn.Module, but it gave a {res['not_module']}")
    if "not_pair" in res:
        raise AssertionError(f"encode(x) should return a pair (mu, logvar), but it returned a {res['not_pair']}")


@pytest.mark.task("encoder")
@pytest.mark.points(1)
def test_encode_returns_mu_and_logvar_of_the_latent_size(submission):
    """VAE(input_dim=784, latent_dim=8).encode(x) returns (mu, logvar), each (N, 8); decode(mu) gives (N, 784) logits"""
    d = BUDGET["latent_dim"]
    res = submission.run(_encode_harness, d)
    _check_build(res)
    for name in ("mu", "logvar"):
        if res[name].shape != (5, d):
            raise AssertionError(f"encode(x) for x of shape (5, 784) should give {name} of shape (5, {d}), got "
                                 f"{tuple(res[name].shape)}: the encoder's last layer must output latent_dim numbers")
        if not np.all(np.isfinite(res[name])):
            raise AssertionError(f"{name} contains NaN or infinities for a random input")
    if res["logits"].shape != (5, 784):
        raise AssertionError(f"decode(z) for z of shape (5, {d}) should give logits of shape (5, 784), got {tuple(res['logits'].shape)}")


@pytest.mark.task("encoder")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_mu_and_logvar_come_from_two_outputs(submission):
    """mu and logvar are two different outputs of the encoder (two heads, or one layer of 2·latent_dim split in two)"""
    res = submission.run(_encode_harness, BUDGET["latent_dim"])
    _check_build(res)
    if res["mu"].shape == res["logvar"].shape and np.allclose(res["mu"], res["logvar"]):
        raise AssertionError(
            "mu and logvar are identical: it looks like one head for both mu and logvar. Give the encoder two output "
            "layers (or one with 2·latent_dim outputs, split with .chunk(2, dim=1)): the mean and the spread of "
            "q(z|x) are different numbers."
        )


@pytest.mark.task("encoder")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_trained_encoder_outputs_a_log_variance(submission):
    """after training, logvar = log σ² takes negative values (σ < 1) on held-out digits: it is not σ or σ²"""
    res = trained(submission)
    logvar = res["logvar"]
    if not np.all(np.isfinite(logvar)):
        raise AssertionError("the trained encoder's logvar contains NaN or infinities")
    if np.all(logvar >= 0):
        raise AssertionError(
            "every logvar of the trained encoder is ≥ 0: it looks like σ or σ² (always positive) returned instead of "
            "log σ². A trained VAE has posterior variances below 1, so log σ² < 0; output log σ² from a plain linear "
            "layer (no exp, softplus or ReLU) and use σ = exp(logvar / 2) in reparameterize."
        )


# ============================================================================================ 2. reparameterisation
@pytest.mark.task("reparameterize")
@pytest.mark.points(2)
def test_reparameterize_with_the_graders_noise(submission, rng):
    """reparameterize(mu, logvar, eps) = mu + exp(logvar / 2) · eps for a random batch and the grader's eps"""
    mu, logvar, eps = rng.normal(size=(4, 6)), rng.normal(0.0, 1.5, size=(4, 6)), rng.normal(size=(4, 6))
    got = submission.call("reparameterize", mu, logvar, eps)
    expected = ref.reparameterize(t(mu), t(logvar), t(eps))
    assert_close(
        actual=got, expected=expected, name="z",
        mistakes=[
            Mistake("exp(logvar) instead of exp(logvar / 2): the variance σ² used as the standard deviation",
                    mu + np.exp(logvar) * eps, hint="σ = exp(½ log σ²)."),
            Mistake("logvar used directly as σ", mu + logvar * eps, hint="logvar is log σ²: σ = exp(logvar / 2)."),
            Mistake("eps ignored (z = mu)", mu, hint="z must be random: add σ·ε."),
            Mistake("mu left out (z = σ·ε)", np.exp(0.5 * logvar) * eps),
            Mistake("σ divided by instead of multiplied (mu + eps / σ)", mu + eps / np.exp(0.5 * logvar)),
        ],
    )


def _grad_harness(student, mu, logvar, eps):
    import torch

    mu = mu.clone().requires_grad_(True)
    logvar = logvar.clone().requires_grad_(True)
    z = student.reparameterize(mu, logvar, eps)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return {"detached": type(z).__name__}
    d_mu, d_logvar = torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True)
    zero = torch.zeros_like(mu)
    # The gradients are only as precise as the forward pass: a z computed in float32 gives float32-accurate
    # gradients even though mu and logvar are float64, so they go back in z's dtype and get that dtype's tolerance.
    d_mu, d_logvar = (zero if d is None else d for d in (d_mu, d_logvar))
    return {"z": z.detach(), "d_mu": d_mu.to(z.dtype), "d_logvar": d_logvar.to(z.dtype)}


@pytest.mark.task("reparameterize")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_reparameterize_lets_gradients_reach_mu_and_logvar(submission, rng):
    """gradients of z flow back to mu (∂z/∂μ = 1) and logvar (∂z/∂logvar = ½ σ ε): the point of the trick"""
    mu, logvar, eps = rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    res = submission.run(_grad_harness, mu, logvar, eps)
    if "detached" in res:
        raise AssertionError(
            f"reparameterize returned a {res['detached']} that autograd cannot differentiate: gradients do not flow "
            "to mu and logvar (no .detach(), .item(), numpy or torch.no_grad() inside; use torch operations)"
        )
    sigma = np.exp(0.5 * logvar)
    assert_close(actual=res["d_mu"], expected=np.ones_like(mu), name="∂(Σz)/∂mu",
                 mistakes=[Mistake("eps ignored (z = mu)", np.zeros_like(mu))])
    assert_close(actual=res["d_logvar"], expected=0.5 * sigma * eps, name="∂(Σz)/∂logvar",
                 mistakes=[Mistake("exp(logvar) instead of exp(logvar / 2): the variance σ² used as the standard deviation",
                                   np.exp(logvar) * eps),
                           Mistake("logvar used directly as σ", eps),
                           Mistake("eps ignored (z = mu)", np.zeros_like(mu))])


# ============================================================================================ 3. the KL term
def kl_mistakes(mu: np.ndarray, logvar: np.ndarray) -> list[Mistake]:
    inner = 1 + logvar - mu**2 - np.exp(logvar)
    return [
        Mistake("the sign flipped (+½ Σ instead of −½ Σ)", 0.5 * inner.sum(axis=1), hint="the KL is never negative."),
        Mistake("the factor ½ missing", -inner.sum(axis=1)),
        Mistake("logvar instead of exp(logvar) = σ² in the last term", -0.5 * (1 + logvar - mu**2 - logvar).sum(axis=1)),
        Mistake("the mean over the latent dimensions instead of the sum", -0.5 * inner.mean(axis=1),
                hint="the KL of independent dimensions adds up: sum over dim=1."),
    ]


def check_kl(submission, mu: np.ndarray, logvar: np.ndarray, name: str) -> None:
    got = submission.call("kl_to_standard_normal", mu, logvar)
    expected = ref.kl_to_standard_normal(t(mu), t(logvar))
    arr = np.asarray(got) if isinstance(got, (np.ndarray, float, int, np.generic)) else None
    if arr is not None and (arr.ndim == 0 or (arr.shape == (1,) and mu.shape[0] != 1)):  # (1,): a 0-d tensor sent back
        per_sample = expected.numpy()
        arr = arr.reshape(())
        which = "averaged" if np.isclose(arr, per_sample.mean()) else "summed" if np.isclose(arr, per_sample.sum()) else "reduced"
        raise Mismatch(f"`{name}` is one number: the KL {which} over the batch. Return one KL per sample, shape "
                       f"({mu.shape[0]},): sum over the latent dimensions only (dim=1); negative_elbo averages over the batch.")
    assert_close(actual=got, expected=expected, name=name, mistakes=kl_mistakes(mu, logvar))


@pytest.mark.task("kl")
@pytest.mark.points(2)
def test_kl_per_sample_on_a_random_batch(submission, rng):
    """KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j) per sample, shape (N,)"""
    mu, logvar = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    check_kl(submission, mu, logvar, "KL")


@pytest.mark.task("kl")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_kl_is_zero_at_the_prior_and_large_far_from_it(submission, rng):
    """the KL is 0 for μ = 0, log σ² = 0 (q = prior) and correct for codes far from the prior"""
    mu = np.vstack([np.zeros((1, 5)), rng.normal(0.0, 3.0, size=(4, 5))])
    logvar = np.vstack([np.zeros((1, 5)), rng.uniform(-6.0, 3.0, size=(4, 5))])
    check_kl(submission, mu, logvar, "KL")


# ============================================================================================ 4. the ELBO
def elbo_inputs(rng, n=5, p=12, d=3, scale=2.0):
    x = rng.uniform(size=(n, p))
    x[: n // 2] = (x[: n // 2] > 0.5).astype(float)  # binary pixels and grey levels both
    return x, rng.normal(0.0, scale, size=(n, p)), rng.normal(size=(n, d)), rng.normal(size=(n, d))


def elbo_parts(x, logits, mu, logvar):
    rec = bce_with_logits(logits, x)  # (N, P)
    kl = -0.5 * (1 + logvar - mu**2 - np.exp(logvar)).sum(axis=1)  # (N,)
    return rec, kl


def finite(value) -> bool:
    """False only for a number or array with NaN or infinities (other types are left to assert_close)."""
    if isinstance(value, (np.ndarray, float, np.generic)):
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    return True


def unpack_elbo(got, name="negative_elbo"):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mismatch(f"{name} should return a tuple (loss, recon, kl), but it returned {type(got).__name__}"
                       + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""))
    # The channel returns a 0-d tensor as an array of shape (1,) (np.ascontiguousarray makes 0-d arrays 1-d):
    # read those back as 0-d, so that a correct 0-d loss is compared as one.
    return [v.reshape(()) if isinstance(v, np.ndarray) and v.shape == (1,) else v for v in got]


@pytest.mark.task("elbo")
@pytest.mark.points(2)
def test_negative_elbo_from_logits(submission, rng):
    """loss = mean over the batch of [Σ_pixels BCE(x, sigmoid(logits)) + KL], from the decoder's logits"""
    x, logits, mu, logvar = elbo_inputs(rng)
    got = unpack_elbo(call_or_fail(submission, "negative_elbo", x, logits, mu, logvar))
    expected = ref.elbo(t(x), t(logits), t(mu), t(logvar), logits=True)["loss"]
    rec, kl = elbo_parts(x, logits, mu, logvar)
    if not finite(got[0]):
        raise Mismatch("the loss is NaN or infinite: it looks like the logits were used as probabilities (log of a "
                       "negative number). The decoder returns logits: use F.binary_cross_entropy_with_logits.")
    assert_close(
        actual=got[0], expected=expected, name="loss",
        mistakes=[
            Mistake("the sigmoid applied twice (BCE with logits of sigmoid(logits))",
                    (bce_with_logits(sigmoid(logits), x).sum(axis=1) + kl).mean(),
                    hint="binary_cross_entropy_with_logits applies the sigmoid itself: pass the raw logits."),
            Mistake("the mean over the pixels instead of the sum (reduction='mean')", (rec.mean(axis=1) + kl).mean(),
                    hint="log p(x|z) of independent pixels is a sum over pixels: reduction='none', then .sum(dim=1)."),
            Mistake("the loss summed over the batch instead of averaged", (rec.sum(axis=1) + kl).sum()),
            Mistake("the KL term left out", rec.sum(axis=1).mean(), hint="the negative ELBO is reconstruction + KL."),
            Mistake("the KL subtracted instead of added", (rec.sum(axis=1) - kl).mean()),
            Mistake("a squared error instead of the Bernoulli cross-entropy",
                    (((sigmoid(logits) - x) ** 2).sum(axis=1) + kl).mean()),
        ],
    )


@pytest.mark.task("elbo")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_negative_elbo_parts_and_beta(submission, rng):
    """recon and kl are returned separately (batch means), and beta weights the KL: loss = recon + β·kl"""
    x, logits, mu, logvar = elbo_inputs(rng, n=6, p=10, d=4)
    beta = float(rng.choice([0.5, 2.0, 4.0]))
    got = unpack_elbo(call_or_fail(submission, "negative_elbo", x, logits, mu, logvar, beta=beta))
    parts = ref.elbo(t(x), t(logits), t(mu), t(logvar), logits=True)
    rec, kl = elbo_parts(x, logits, mu, logvar)
    assert_close(actual=got[1], expected=parts["recon"], name="recon",
                 mistakes=[Mistake("the mean over the pixels instead of the sum (reduction='mean')", rec.mean(axis=1).mean())])
    assert_close(actual=got[2], expected=parts["kl"], name="kl",
                 mistakes=[Mistake("the KL summed over the batch instead of averaged", kl.sum())])
    assert_close(
        actual=got[0], expected=parts["recon"] + beta * parts["kl"], name=f"loss with beta={beta}",
        mistakes=[Mistake("beta ignored", (rec.sum(axis=1) + kl).mean()),
                  Mistake("the KL term left out", rec.sum(axis=1).mean(), hint="the negative ELBO is reconstruction + β·KL."),
                  Mistake("beta multiplying the reconstruction instead of the KL", (beta * rec.sum(axis=1) + kl).mean())],
    )


@pytest.mark.task("elbo")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_negative_elbo_is_stable_for_confident_logits(submission, rng):
    """the reconstruction stays finite and exact for confident logits (|logit| up to 150): the BCE is computed from logits"""
    x, logits, mu, logvar = elbo_inputs(rng, n=4, p=16, d=2, scale=25.0)
    logits = np.clip(logits, -60.0, 60.0)
    logits[0, 0], x[0, 0] = -60.0, 1.0  # a pixel that is on, predicted off with certainty: log σ(−60) = −60
    # Beyond |logit| 100 a BCE on probabilities is wrong though finite: F.binary_cross_entropy clamps its log at −100
    # (log σ(−150) = −150), and 1 − σ(150) is 0 in float64. From logits (softplus) both terms stay exact.
    logits[1, 1], x[1, 1] = -float(rng.uniform(130.0, 170.0)), 1.0
    logits[2, 2], x[2, 2] = float(rng.uniform(130.0, 170.0)), 0.0
    got = unpack_elbo(call_or_fail(submission, "negative_elbo", x, logits, mu, logvar))
    expected = ref.elbo(t(x), t(logits), t(mu), t(logvar), logits=True)["loss"]
    if not finite(got[0]):
        raise Mismatch("the loss is NaN or infinite for confident logits: log(sigmoid(l)) underflows to log(0). "
                       "Compute the BCE from the logits: F.binary_cross_entropy_with_logits, or softplus(l) − x·l.")
    rec, kl = elbo_parts(x, logits, mu, logvar)
    clipped = -(x * np.log(np.clip(sigmoid(logits), 1e-12, 1.0)) + (1 - x) * np.log(np.clip(1 - sigmoid(logits), 1e-12, 1.0)))
    # torch's own arithmetic: 1 − σ(l) cancels for large l, and the mistake must round the way the student's code does
    on_probabilities = torch.nn.functional.binary_cross_entropy(torch.sigmoid(t(logits)), t(x), reduction="none").numpy()
    assert_close(actual=got[0], expected=expected, name="loss for confident logits",
                 mistakes=[Mistake("a BCE on probabilities (F.binary_cross_entropy(torch.sigmoid(logits), x) clamps its log "
                                   "at -100, so a logit beyond ±100 costs too little)", (on_probabilities.sum(axis=1) + kl).mean(),
                                   hint="Compute the BCE from the logits: F.binary_cross_entropy_with_logits."),
                           Mistake("probabilities clipped before the log instead of a BCE on logits",
                                   (clipped.sum(axis=1) + kl).mean()),
                           Mistake("the KL term left out", rec.sum(axis=1).mean()),
                           Mistake("the sigmoid applied twice (BCE with logits of sigmoid(logits))",
                                   (bce_with_logits(sigmoid(logits), x).sum(axis=1) + kl).mean())])


# ============================================================================================ 5. the trained VAE
def _vae_harness(student, X_train, X_test, seed, steps, max_seconds, latent_dim, pair):
    """Runs in the worker: build the student's VAE, train it with the student's `train` under the budget, and
    return plain arrays computed on held-out digits. z is drawn here from the grader's eps, not by the student."""
    import time

    import numpy as np
    import torch

    for name in ("VAE", "train"):
        if not callable(getattr(student, name, None)):
            return {"missing": name}
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = torch.as_tensor(X_train).device  # the worker puts the inputs on the grading device
    Xtr = torch.as_tensor(X_train).to(device=device, dtype=torch.float32)
    Xte = torch.as_tensor(X_test).to(device=device, dtype=torch.float32)
    model = student.VAE(input_dim=Xtr.shape[1], latent_dim=latent_dim)
    if not isinstance(model, torch.nn.Module):
        return {"not_module": type(model).__name__}
    model = model.to(device)
    before = [p.detach().clone() for p in model.parameters()]
    start = time.perf_counter()
    losses = student.train(model, Xtr, steps=steps, max_seconds=max_seconds)
    seconds = time.perf_counter() - start
    # how far train moved the weights (relative): the evidence for "train did not update them", never a guess
    after = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
    moved = (sum(float((a.detach() - b).double().pow(2).sum()) for a, b in zip(after, before)) ** 0.5
             / max(sum(float(b.double().pow(2).sum()) for b in before) ** 0.5, 1e-300)) if len(after) == len(before) else float("nan")
    try:
        losses = [float(v) for v in losses][: 10 * steps]
    except TypeError:
        losses = []
    if isinstance(model, torch.nn.Module):
        model.eval()

    def arr(v):
        return torch.as_tensor(v).detach().to("cpu", torch.float32)

    g = torch.Generator().manual_seed(seed + 1)
    n = Xte.shape[0]
    eps = torch.randn(n, latent_dim, generator=g).to(device)
    z_prior = torch.randn(n, latent_dim, generator=g).to(device)
    out = {"seconds": seconds, "losses": np.asarray(losses, dtype=np.float64), "weights_moved": moved}
    with torch.no_grad():
        mu, logvar = model.encode(Xte)
        mu, logvar = torch.as_tensor(mu), torch.as_tensor(logvar)
        if tuple(mu.shape) != (n, latent_dim) or tuple(logvar.shape) != (n, latent_dim):
            return {"bad_codes": [list(mu.shape), list(logvar.shape)]}
        model.encode(Xtr[:n])  # another batch in between: a decoder replaying the last encoded input gets it wrong
        z = mu + torch.exp(0.5 * logvar) * eps
        out.update(mu=arr(mu), logvar=arr(logvar), logits=arr(model.decode(z)),
                   logits_swapped=arr(model.decode(z.roll(1, dims=0))), prior=arr(model.decode(z_prior)))
        try:
            torch.manual_seed(seed + 2)
            out["samples"] = arr(model.sample(n))
        except Exception as exc:  # graded by its own test; the rest of the run still counts
            out["samples_error"] = f"{type(exc).__name__}: {exc}"[:300]
        try:
            path = student.interpolate(mu[pair[0]], mu[pair[1]], 10)
            path = torch.as_tensor(np.asarray(path) if not isinstance(path, torch.Tensor) else path)
            out["interpolation"] = arr(torch.sigmoid(model.decode(path.to(device=device, dtype=mu.dtype))))
        except Exception as exc:
            out["interpolation_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


@lru_cache(maxsize=1)
def mnist():
    from grader.data import load_mnist

    X_train, _ = load_mnist("train")
    X_test, y_test = load_mnist("test")
    pair = tuple(int(np.flatnonzero(y_test == label)[0]) for label in INTERPOLATION_PAIR)
    return X_train, X_test, pair


@lru_cache(maxsize=1)
def pca_basis(dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The top principal directions of the training digits: the feature space of precision/recall."""
    X_train = mnist()[0].astype(np.float64)
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    return mean, vt[:dims].T


def features(images: np.ndarray) -> torch.Tensor:
    mean, basis = pca_basis(BUDGET["pca_dims"])
    return torch.from_numpy((np.asarray(images, dtype=np.float64) - mean) @ basis)


def nearest_train_distance(images: np.ndarray) -> np.ndarray:
    train = torch.from_numpy(mnist()[0])  # float32 is plenty for a ratio of distances, and twice as fast
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
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1).mean()
    posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return float(recon), float(torch.distributions.kl_divergence(posterior, prior).sum(dim=1).mean())


def metrics(res: dict) -> dict[str, float]:
    """The calibrated metrics of a harness reply, computed in this trusted process (the calibration uses it too)."""
    X_test = mnist()[1].astype(np.float64)
    mu, logvar, logits = (np.asarray(res[k], dtype=np.float64) for k in ("mu", "logvar", "logits"))
    own, kl = heldout_parts(X_test, logits, mu, logvar)
    neg_elbo = own + kl
    swapped = heldout_parts(X_test, np.asarray(res["logits_swapped"], dtype=np.float64), mu, logvar)[0]
    prior = sigmoid(np.asarray(res["prior"], dtype=np.float64))
    precision, recall = precision_recall(features(X_test), features(prior), k=BUDGET["k"])
    memo = float(np.median(nearest_train_distance(prior)) / heldout_to_train_distance())
    out = {"heldout_neg_elbo": neg_elbo, "precision": precision, "recall": recall, "memorisation_ratio": memo,
           "swap_ratio": float(own / swapped) if swapped > 0 else float("nan")}
    if "samples" in res and np.asarray(res["samples"]).shape == prior.shape:
        sp, sr = precision_recall(features(prior), features(np.asarray(res["samples"], dtype=np.float64)), k=BUDGET["k"])
        out["sample_precision"], out["sample_recall"] = sp, sr
    return out


def decoder_ignores_z(res: dict) -> bool:
    """The evidence for "the decoder ignores z": decoding every digit's code and decoding another digit's code give
    the same logits (to float32 rounding). An untrained or under-trained decoder still changes with z."""
    own, other = (np.asarray(res[k], dtype=np.float64) for k in ("logits", "logits_swapped"))
    return float(np.abs(own - other).mean()) <= 1e-6 * max(float(np.abs(own).mean()), 1e-12)


def train_moved_no_weight(res: dict) -> bool:
    """The evidence for "train did not update the weights": none moved (a reply without the measurement proves nothing)."""
    moved = res.get("weights_moved")
    return isinstance(moved, float) and moved == 0.0


NO_UPDATE = " Your train did not change any weight: call zero_grad, backward and the optimizer's step for every batch."


def training_cause(res: dict, otherwise: str) -> str:
    """The training's share of a trained model's failure: a named mistake only where no weight moved."""
    return NO_UPDATE if train_moved_no_weight(res) else otherwise


_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def run_training(submission, seed: int) -> dict:
    X_train, X_test, pair = mnist()
    return submission.run(_vae_harness, X_train, X_test, seed, BUDGET["steps"], BUDGET["max_seconds"],
                          BUDGET["latent_dim"], list(pair), timeout=HARNESS_TIMEOUT)


def trained(submission) -> dict:
    """Train the student's VAE once per submission (the first test that needs it), with TRAINING_SEED, and share the reply."""
    if submission not in _RUNS:
        try:
            res = run_training(submission, TRAINING_SEED)
            _RUNS[submission] = ("ok", res)
        except StudentCodeFailure as exc:
            _RUNS[submission] = ("failed", exc)
    kind, value = _RUNS[submission]
    if kind == "failed":
        raise value
    if "missing" in value:
        raise AssertionError(f"`{value['missing']}` is not defined in your notebook")
    if "not_module" in value:
        raise AssertionError(f"VAE(...) should build a torch.nn.Module, but it gave a {value['not_module']}")
    if "bad_codes" in value:
        (a, b) = value["bad_codes"]
        raise AssertionError(f"encode(X_test) gave mu of shape {tuple(a)} and logvar of shape {tuple(b)}; expected "
                             f"({len(mnist()[1])}, {BUDGET['latent_dim']}) each")
    n, p = mnist()[1].shape
    for key in ("logits", "logits_swapped", "prior"):
        if value[key].shape != (n, p):
            raise AssertionError(f"decode(z) for z of shape ({n}, {BUDGET['latent_dim']}) should give ({n}, {p}) logits, "
                                 f"got {tuple(value[key].shape)}")
        if not np.all(np.isfinite(value[key])):
            raise AssertionError("the trained decoder's logits contain NaN or infinities: lower the learning rate")
    if not np.all(np.isfinite(value["mu"])) or not np.all(np.isfinite(value["logvar"])):
        raise AssertionError("the trained encoder's mu or logvar contain NaN or infinities: lower the learning rate")
    if "metrics" not in value:
        value["metrics"] = metrics(value)
    return value


def image_grid(fig, rows: list[tuple[str, np.ndarray]], side: int = 28) -> None:
    """One mosaic image (a single imshow is much faster than an axes per digit), one labelled row per entry."""
    pad = 2
    cols = max(images.shape[0] for _, images in rows)
    mosaic = np.ones((len(rows) * (side + pad) + pad, cols * (side + pad) + pad))
    for r, (_, images) in enumerate(rows):
        for c in range(images.shape[0]):
            y, x = pad + r * (side + pad), pad + c * (side + pad)
            mosaic[y:y + side, x:x + side] = np.clip(images[c].reshape(side, side), 0, 1)
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([pad + r * (side + pad) + side / 2 for r in range(len(rows))], [label for label, _ in rows])


def mean_digit_hint(res: dict) -> str:
    """What a negative ELBO no better than the mean digit's says, from the evidence in the reply."""
    said = " That is what a model that ignores its input gets (the mean digit, KL = 0)"
    if decoder_ignores_z(res):
        return said + ": your decoder gives the same output for every z. decode(z) must map the code through the network."
    if train_moved_no_weight(res):
        return said + "." + NO_UPDATE
    return (said + f". Your decoder depends on z and your train moved the weights (by {100 * res['weights_moved']:.2g} % of "
            "their size), but the model learnt little in the budget: compare your loss curve with a falling one (Adam with "
            "a learning rate of 2e-3 to 3e-3 and batches of 64 trains well in 600 steps).")


@pytest.mark.task("trained_vae")
@pytest.mark.points(2)
def test_trained_vae_reaches_the_heldout_elbo(submission, figure):
    """your VAE trained by your `train` (600 steps, ≤ 60 s) reaches the calibrated negative ELBO on 1,000 held-out digits"""
    from matplotlib.figure import Figure

    res = trained(submission)
    m = res["metrics"]
    X_test = mnist()[1]
    fig = Figure(figsize=(10, 2.4))
    image_grid(fig, [("input", X_test[:10]), ("yours", sigmoid(res["logits"][:10]))])
    fig.suptitle("held-out digits and their reconstructions decode(μ + σ·ε)")
    figure("reconstructions: input and yours", fig)
    if len(res["losses"]):
        fig = Figure(figsize=(6, 3))
        ax = fig.subplots()
        ax.plot(res["losses"])
        ax.set_xlabel("step")
        ax.set_ylabel("negative ELBO (your loss)")
        ax.set_title(f"training loss ({len(res['losses'])} steps, {res['seconds']:.1f} s)")
        figure("loss curve", fig)
    limit = threshold("heldout_neg_elbo")
    if not np.isfinite(m["heldout_neg_elbo"]) or m["heldout_neg_elbo"] > limit:
        logits, X_test = res["logits"].astype(np.float64), mnist()[1].astype(np.float64)
        recon, kl = heldout_parts(X_test, logits, res["mu"], res["logvar"])
        hint = (" Your decode(z) returns values in [0, 1]: it looks like probabilities. decode must return logits "
                "(no sigmoid), because the ELBO is computed with the BCE on logits."
                if logits.min() >= 0 and logits.max() <= 1 else
                f" The KL is large ({kl:.0f} nats): is the KL term in your training loss (recon + beta * kl)?"
                if kl > KL_FAR else
                mean_digit_hint(res)
                if m["heldout_neg_elbo"] > calibration()["baselines"]["input_mean"]["heldout_neg_elbo"] - 5 else
                " Check the loss (sum over pixels, KL added) and the learning rate (Adam with 2e-3 to 3e-3 and batches "
                "of 64 trains well in 600 steps; 1e-3 is too slow).")
        raise AssertionError(
            f"the held-out negative ELBO, recomputed from your mu, logvar and decoded logits, is "
            f"{m['heldout_neg_elbo']:.1f} nats per digit; it must be ≤ {limit:.1f} (the solution gets about "
            f"{calibration()['metrics']['heldout_neg_elbo']['mean']:.0f}; training took {res['seconds']:.1f} s, "
            f"{len(res['losses'])} steps; reconstruction {recon:.1f} + KL {kl:.1f}).{hint}"
        )


@pytest.mark.task("trained_vae")
@pytest.mark.points(2)
@pytest.mark.hidden
def test_prior_samples_have_precision_and_recall(submission, figure):
    """digits decoded from z ~ N(0, I) look like held-out digits (precision) and cover their variety (recall)"""
    from matplotlib.figure import Figure

    res = trained(submission)
    m = res["metrics"]
    samples = sigmoid(res["prior"][:40])
    fig = Figure(figsize=(10, 4.4))
    image_grid(fig, [("", samples[i * 10:(i + 1) * 10]) for i in range(4)])
    fig.suptitle(f"decode(z), z ~ N(0, I): precision {m['precision']:.2f}, recall {m['recall']:.2f}")
    figure("prior samples", fig)
    kl = heldout_parts(mnist()[1], res["logits"], res["mu"], res["logvar"])[1]
    # a cause is named only where the reply shows it: a large KL (codes far from N(0, I)), a decoder that ignores z
    drift = (f" The held-out codes are far from N(0, I) (KL {kl:.0f} nats per digit), so z ~ N(0, I) decodes to "
             "images the decoder was not trained on: keep the KL term in the training loss (recon + beta * kl)."
             if kl > KL_FAR else "")
    if m["precision"] < threshold("precision"):
        raise AssertionError(
            f"precision {m['precision']:.2f} < {threshold('precision'):.2f}: few decoded prior samples lie near real "
            f"digits.{drift}"
        )
    if m["recall"] < threshold("recall"):
        cause = (" Your decoder gives the same output for every z (it ignores z): decode(z) must map the code through "
                 "the network." if decoder_ignores_z(res) else drift or training_cause(res,
                 " Your decoder depends on z, so it is the training that has not yet spread the samples over the digits: "
                 "compare your loss curve with a falling one (Adam with a learning rate of 2e-3 to 3e-3 trains well in "
                 "600 steps)."))
        raise AssertionError(
            f"recall {m['recall']:.2f} < {threshold('recall'):.2f}: the samples do not cover the variety of real "
            f"digits.{cause}"
        )


@pytest.mark.task("trained_vae")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_prior_samples_are_not_copies_of_training_digits(submission):
    """decoded prior samples are new images, not training digits replayed (nearest-training-image distance)"""
    m = trained(submission)["metrics"]
    if m["memorisation_ratio"] < threshold("memorisation_ratio"):
        raise AssertionError(
            f"the decoded samples sit {m['memorisation_ratio']:.2f}× as close to their nearest training images as "
            f"held-out digits do (must be ≥ {threshold('memorisation_ratio'):.2f}): they look like copies of "
            "training images. decode(z) must compute an image from z, not look one up."
        )


@pytest.mark.task("trained_vae")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_decoder_uses_the_code(submission):
    """decoding another digit's code reconstructs this digit much worse: the decoder depends on z"""
    res = trained(submission)
    m = res["metrics"]
    if not np.isfinite(m["swap_ratio"]) or m["swap_ratio"] > threshold("swap_ratio"):
        raise AssertionError(
            f"reconstructing each digit from its own code is only {m['swap_ratio']:.2f}× the error of reconstructing "
            f"it from another digit's code (must be ≤ {threshold('swap_ratio'):.2f}): "
            + ("the decoder ignores z (it gives the same output for every code). decode(z) must map the code through "
               "the network." if decoder_ignores_z(res) else
               "your decoder does change with z, so it is the codes that carry too little of each digit." + training_cause(
                   res, " Training is what puts it there (see the held-out ELBO test)."))
        )


# ============================================================================================ 6. sampling, interpolation
def check_interpolation(submission, z0: np.ndarray, z1: np.ndarray, steps: int) -> None:
    got = submission.call("interpolate", z0, z1, steps)
    ts = np.linspace(0.0, 1.0, steps)[:, None]
    expected = (1 - ts) * z0 + ts * z1
    arr = np.asarray(got) if isinstance(got, np.ndarray) else None
    if arr is not None and arr.ndim == 2 and arr.shape[0] != steps:
        off = arr.shape[0] - steps
        raise Mismatch(f"interpolate(z0, z1, steps={steps}) returned {arr.shape[0]} codes: steps off by {off:+d}. "
                       "It must return exactly `steps` codes, z0 first and z1 last: torch.linspace(0, 1, steps).")
    inner = np.linspace(0.0, 1.0, steps + 2)[1:-1, None]
    # rtol/atol 1e-6: t from torch.linspace(0, 1, steps) is float32 by default, and its rounding (~6e-8 relative,
    # times |z1 - z0|) is not an interpolation mistake; every real mistake below moves a code by more than 1e-2.
    assert_close(
        actual=got, expected=expected, name=f"interpolate(z0, z1, {steps})", rtol=1e-6, atol=1e-6,
        mistakes=[
            Mistake("the endpoints excluded", (1 - inner) * z0 + inner * z1, hint="the first code is z0, the last z1."),
            Mistake("the direction reversed (from z1 to z0)", (1 - ts) * z1 + ts * z0),
            Mistake("the (1 − t) weight of z0 missing (z0 + t·z1)", z0 + ts * z1),
            Mistake("t = k / steps instead of k / (steps − 1): z1 never reached",
                    (1 - np.arange(steps)[:, None] / steps) * z0 + np.arange(steps)[:, None] / steps * z1),
        ],
    )


@pytest.mark.task("sampling")
@pytest.mark.points(1)
def test_interpolate_includes_both_endpoints(submission, rng):
    """interpolate(z0, z1, steps): `steps` evenly spaced codes from z0 to z1, both endpoints included"""
    check_interpolation(submission, rng.normal(size=8), rng.normal(size=8), 6)


@pytest.mark.task("sampling")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_interpolate_other_sizes(submission, rng):
    """interpolate works for other latent sizes and step counts (steps = 2 gives just z0 and z1)"""
    for d, steps in ((3, 2), (5, int(rng.integers(7, 12)))):
        check_interpolation(submission, rng.normal(size=d), rng.normal(size=d), steps)


@pytest.mark.task("sampling")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_sample_decodes_the_prior(submission, figure):
    """model.sample(n) returns n images in [0, 1] distributed like decode(z), z ~ N(0, I) (precision and recall)"""
    from matplotlib.figure import Figure

    res = trained(submission)
    if "interpolation" in res:
        fig = Figure(figsize=(10, 1.4))
        image_grid(fig, [("", res["interpolation"])])
        fig.suptitle("decode(interpolate(μ(a '2'), μ(a '7'), 10)), sigmoid applied")
        figure("latent interpolation", fig)
    if "samples_error" in res:
        raise AssertionError(f"model.sample(n) raised {res['samples_error']}")
    samples = res["samples"]
    n, p = res["prior"].shape
    if samples.shape != (n, p):
        raise AssertionError(f"model.sample({n}) should return ({n}, {p}) images, got {tuple(samples.shape)}")
    if not np.all(np.isfinite(samples)) or samples.min() < 0 or samples.max() > 1:
        raise AssertionError(
            f"model.sample(n) returned values in [{np.nanmin(samples):.2f}, {np.nanmax(samples):.2f}]: images must be "
            "in [0, 1]. It looks like the logits were returned: apply the sigmoid to decode(z)."
        )
    m = res["metrics"]
    if m["sample_recall"] < threshold("sample_recall") or m["sample_precision"] < threshold("sample_precision"):
        raise AssertionError(
            f"model.sample(n) is not distributed like decode(z) for z ~ N(0, I): precision {m['sample_precision']:.2f} "
            f"(≥ {threshold('sample_precision'):.2f} needed), recall {m['sample_recall']:.2f} "
            f"(≥ {threshold('sample_recall'):.2f} needed). Draw z with torch.randn(n, latent_dim) (a standard "
            "normal, not torch.rand, which is uniform on [0, 1]) and decode it."
        )


# ============================================================================================ 7. concept questions
@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_reparam(submission):
    """Why does a VAE use the reparameterisation trick z = μ + σ ⊙ ε?"""
    assert_choice(
        actual=submission.get("q_reparam"), correct="b", name="q_reparam",
        explanations={
            "a": "the KL to N(0, I) has a closed form whether or not z is reparameterised: it depends only on μ and σ",
            "c": "the trick does not change the size of z: it has as many dimensions as μ",
            "d": "the decoder is a deterministic network anyway; the trick is about training the encoder by gradients",
        },
    )


@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_kl(submission):
    """What does the KL term of the negative ELBO do?"""
    assert_choice(
        actual=submission.get("q_kl"), correct="c", name="q_kl",
        explanations={
            "a": "the reconstruction term measures how well x̂ matches x; the KL only looks at q(z|x) and the prior",
            "b": "the KL is not constant: it depends on μ and σ², so it changes the encoder through its gradient",
            "d": "that is the sparse autoencoder's KL between activation rates ρ and ρ̂_j, a different penalty",
        },
    )


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_beta(submission):
    """What happens when the KL is weighted by β > 1 (β-VAE)?"""
    assert_choice(
        actual=submission.get("q_beta"), correct="a", name="q_beta",
        explanations={
            "b": "a larger weight on the KL makes the codes carry less information about x, so reconstructions get "
                 "blurrier, not sharper",
            "c": "the KL is never negative, whatever its weight",
            "d": "β changes the balance between the two terms, so the optimum changes: only β = 1 is the true ELBO",
        },
    )


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_logvar(submission):
    """Why does the encoder output log σ² rather than σ?"""
    assert_choice(
        actual=submission.get("q_logvar"), correct="d", name="q_logvar",
        explanations={
            "a": "log σ² makes no difference to the reconstruction's pixel scale; it parameterises q(z|x)",
            "b": "the KL is zero only when q(z|x) equals the prior (μ = 0, log σ² = 0), not for every log σ²",
            "c": "σ² = exp(log σ²) is recovered exactly; nothing about q(z|x) is lost or approximated",
        },
    )
