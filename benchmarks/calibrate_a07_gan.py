"""Calibrates the thresholds of grader/graders/test_a07_gan.py and measures pass rates: trains a GAN over many
seeds under the grading budget (the same harness, data and metrics as the grader, one thread like the worker),
measures trivial and hand-made baselines, and writes grader/graders/calibration_a07_gan.json.

    .venv/bin/python benchmarks/calibrate_a07_gan.py --seeds 25 --write-thresholds      # the solution, quiet
    .venv/bin/python benchmarks/calibrate_a07_gan.py --seeds 20 --trainer adam-lr-3e-3  # another correct training
    .venv/bin/python benchmarks/calibrate_a07_gan.py --seeds 20 --load 2                # with 2 busy-loop processes

--trainer: `solution` (the notebook's train_gan), or the notebook's gan_step driven by another optimiser with
`adam-lr-X` (betas (0.5, 0.999)), `rmsprop-lr-X` or `sgd-lr-X` (momentum 0.9), batch 128, the grader's steps.
--load K starts K processes that spin for the duration (a class run with one grading per core plus as much other
load again is --load 2 * nproc minus the calibration itself). Each run records, under "pass_rates", the fraction of
seeds whose training passes every trained test, with the machine's nproc, the load, the load average and the date.
Seed s trains with seed s (weights, mini-batches, noise, the ring's points) and evaluates with seed 100000 + s.

Thresholds (only with --write-thresholds, from the solution's seeds): for a "min" metric (larger is better) the
threshold is below the worst seed by a margin, for a "max" metric above it; the margin of each metric is stated in
RULES. The false-fail rate is the fraction of calibration seeds that fail the threshold. Every baseline must fail at
least one threshold; the hand-made continuous generators (no training) must fail the coverage test of their task:
test_ring_gan_covers_the_modes on the ring, test_digit_gan_precision_coverage_and_classes on the digits.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
import types
from pathlib import Path

import nbformat
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.calibration_file import add_pass_rate  # noqa: E402
from benchmarks.machine_load import start_load, stop_load  # noqa: E402

from grader.graders import test_a07_gan as g  # noqa: E402
from reference import gan as ref  # noqa: E402

# metric -> (direction, how the threshold is set from the seeds' values, why)
RULES = {
    "ring_modes": ("min", lambda v: min(v) - 2, "2 modes below the worst seed: a run that merges two neighbouring modes still passes; a collapse to <= 3 modes fails"),
    "ring_quality": ("min", lambda v: 0.03, "3% of the samples within 3 std of a mode: about twice what any Gaussian blob N(0, s^2 I) reaches (at most 1.7%, at s^2 = 2; G(z) = 2z has 1.1%)"),
    "ring_contrast": ("min", lambda v: float(np.sqrt(min(v))), "the geometric middle between 1 (samples spread evenly along or around the ring: a hand-made circle, 2z, z, a blob) and the worst seed's density ratio near the centres / between the modes"),
    "ring_spread": ("min", lambda v: 0.25 * min(v), "a quarter of the worst seed's within-mode spread (relative to the data's): samples exactly on the centres have 0"),
    "ring_z_std": ("min", lambda v: 0.01 * min(v), "1% of the worst seed's sample std: a generator that ignores z has 0"),
    "ring_copies": ("max", lambda v: max(0.05, max(v) + 0.05), "at most 5% of the samples equal (1e-6) a training point; the solution has none"),
    "ring_continuity": ("max", lambda v: 10 * max(v), "10 times the worst seed's median |G(z+d)-G(z)|/|d|: a lookup of stored samples jumps by ~1/|d|"),
    "digits_precision": ("min", lambda v: 0.5 * min(v), "half the worst seed's precision: lenient, noise has 0"),
    "digits_coverage": ("min", lambda v: 0.5 * min(v), "half the worst seed's coverage of the held-out digits: the training mean plus a·std·(random linear map of z), with no training, reaches at most 0.18 for any amplitude a"),
    "digits_classes": ("min", lambda v: max(3, min(v) - 3), "3 classes below the worst seed (at least 3): a constant image covers 1"),
    "digits_z_std": ("min", lambda v: 0.01 * min(v), "1% of the worst seed's pixel std over samples: a constant image has 0"),
    "digits_copies": ("max", lambda v: max(0.05, max(v) + 0.05), "at most 5% of the samples within 1e-3 (L2) of a training digit; the solution has none"),
    "digits_continuity": ("max", lambda v: 10 * max(v), "10 times the worst seed's median |G(z+d)-G(z)|/|d|"),
}
REPORTED = ("digits_recall",)  # measured, not graded
COVERAGE = {  # the metrics of each task's coverage test, one of which a hand-made generator must fail
    "ring": ("ring_modes", "ring_quality", "ring_contrast"),  # test_ring_gan_covers_the_modes
    "digits": ("digits_precision", "digits_coverage", "digits_classes"),  # test_digit_gan_precision_coverage_and_classes
}
HAND_MADE = ("ring: hand-made G(z) = 2z (no training)", "ring: hand-made G(z) = z (no training)",
             "ring: hand-made circle G(z) = 2 (cos, sin)(angle of z) (no training)",
             "ring: hand-made Gaussian blob G(z) = sqrt(2) z, the blob nearest the modes (no training)")
DIGIT_AMPLITUDES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # the hand-made digit generators' a, from near-mean to noisy


def solution_namespace() -> types.SimpleNamespace:
    nb = nbformat.read(str(ROOT / "solutions/a07_gan/a07_gan.ipynb"), as_version=4)
    ns: dict = {"__name__": "solution"}
    exec("import math, time\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n", ns)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(cell.source, ns)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


EVAL_OFFSET = 100000  # seed s evaluates with seed EVAL_OFFSET + s: the evaluation's z are not the training's


def trainer_namespace(solution: types.SimpleNamespace, trainer: str) -> types.SimpleNamespace:
    """The solution, or the solution's modules and gan_step trained by another optimiser (see the module docstring)."""
    if trainer == "solution":
        return solution
    kind, _, lr_text = trainer.partition("-lr-")
    makers = {"adam": lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.5, 0.999)), "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
              "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)}
    if kind not in makers or not lr_text:
        raise SystemExit(f"unknown --trainer {trainer!r}: use solution, adam-lr-X, rmsprop-lr-X or sgd-lr-X (e.g. adam-lr-3e-3)")
    lr, make = float(lr_text), makers[kind]

    def train_gan(G, D, data, steps=600, seconds=60.0, batch_size=128):
        opt_G, opt_D = make(G.parameters(), lr), make(D.parameters(), lr)
        history = {"d_loss": [], "g_loss": []}
        start = time.perf_counter()
        for _ in range(steps):
            if time.perf_counter() - start > seconds:
                break
            real = data[torch.randint(0, len(data), (batch_size,), device=data.device)]
            z = torch.randn(batch_size, G.latent_dim, device=data.device, dtype=data.dtype)
            losses = solution.gan_step(G, D, opt_G, opt_D, real, z)
            history["d_loss"].append(losses["d_loss"])
            history["g_loss"].append(losses["g_loss"])
        return history

    return types.SimpleNamespace(**{**vars(solution), "train_gan": train_gan})


def ring_run(student, seed: int) -> dict:
    train, z, delta = g.ring_data(seed, EVAL_OFFSET + seed)
    res = g._train_harness(student, torch.from_numpy(train), torch.from_numpy(z), torch.from_numpy(delta), g.RING["dims"],
                           g.RING["steps"], g.RING["seconds"], seed)
    return {**g.ring_metrics(res, train, delta), "seconds": res["seconds"], "steps_done": res["steps_done"]}


def digits_run(student, seed: int) -> dict:
    X_train, X_test, y_test, z, delta = g.digits_data(EVAL_OFFSET + seed)
    res = g._train_harness(student, torch.from_numpy(X_train * 2 - 1), torch.from_numpy(z), torch.from_numpy(delta),
                           g.DIGITS["dims"], g.DIGITS["steps"], g.DIGITS["seconds"], seed)
    return {**g.digit_metrics(res, X_train, X_test, y_test, delta), "seconds": res["seconds"], "steps_done": res["steps_done"]}


def baselines(seed: int = 12345) -> dict:
    """Trivial generators, as the arrays the harness would return; their metrics must fail the thresholds."""
    rng = np.random.default_rng(seed)
    out = {}
    train, z, delta = g.ring_data(seed, seed)
    n = len(z)
    modes = ref.ring_modes().numpy()
    which = (np.round(np.arctan2(z[:, 1], z[:, 0]) / (2 * np.pi / 8)) % 8).astype(int)
    which_nudged = (np.round(np.arctan2((z + delta)[:, 1], (z + delta)[:, 0]) / (2 * np.pi / 8)) % 8).astype(int)
    ring_cases = {
        "ring: ignores z (every sample the first mode centre)": (np.repeat(modes[:1], n, 0), np.repeat(modes[:1], n, 0)),
        "ring: memorises (returns random training points)": (train[rng.integers(0, len(train), n)], train[rng.integers(0, len(train), n)]),
        "ring: memorises smoothly (training point chosen by the angle of z)": (train[which * 7], train[which_nudged * 7]),
        "ring: outputs the mode centres exactly (chosen by the angle of z)": (modes[which], modes[which_nudged]),
        "ring: Gaussian noise": (2 * rng.normal(size=(n, 2)), 2 * rng.normal(size=(n, 2))),
    }
    # continuous generators made by hand, with no training: they must lose the ring's coverage points (HAND_MADE)
    zn = z + delta

    def circle(v):
        angle = np.arctan2(v[:, 1], v[:, 0])
        return 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    ring_cases.update({
        HAND_MADE[0]: (2 * z, 2 * zn),
        HAND_MADE[1]: (z, zn),
        HAND_MADE[2]: (circle(z), circle(zn)),
        HAND_MADE[3]: (np.sqrt(2) * z, np.sqrt(2) * zn),
    })
    for name, (s, s2) in ring_cases.items():
        out[name] = g.ring_metrics({"samples": s.astype(np.float64), "nudged": s2.astype(np.float64)}, train, delta)
    X_train, X_test, y_test, z, delta = g.digits_data(seed)
    n = len(z)
    to_pm = lambda x: 2 * x - 1  # noqa: E731 - the harness returns G's outputs in [-1, 1]
    mean = np.repeat(X_train.mean(0, keepdims=True), n, 0)
    idx = (np.abs(z[:, 0]) * 1e3).astype(int) % len(X_train)
    idx2 = (np.abs((z + delta)[:, 0]) * 1e3).astype(int) % len(X_train)
    digit_cases = {
        "digits: uniform noise": (rng.uniform(size=(n, 64)), rng.uniform(size=(n, 64))),
        "digits: constant image (the training mean)": (mean, mean),
        "digits: memorises (the training digit chosen by z)": (X_train[idx], X_train[idx2]),
        "digits: memorises (training digits, random)": (X_train[rng.integers(0, len(X_train), n)], X_train[rng.integers(0, len(X_train), n)]),
    }
    for name, (s, s2) in digit_cases.items():
        out[name] = g.digit_metrics({"samples": to_pm(s).astype(np.float64), "nudged": to_pm(s2).astype(np.float64)},
                                    X_train, X_test, y_test, delta)
    return out


def digit_hand_made(seed: int = 12345) -> dict:
    """Hand-made continuous digit generators with no training but the training mean and std: mean + a·std·(z W) for
    a random W (entries N(0, 1/8)), clipped to [0, 1], over amplitudes a from near the mean to noisy; they must fail
    a metric of the digits' coverage test."""
    rng = np.random.default_rng(seed)
    X_train, X_test, y_test, z, delta = g.digits_data(seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    W = rng.normal(size=(z.shape[1], 64)) / np.sqrt(z.shape[1])
    out = {}
    for a in DIGIT_AMPLITUDES:
        s, s2 = (np.clip(mean + a * std * (v @ W), 0.0, 1.0) for v in (z, z + delta))
        out[f"digits: hand-made training mean + {a:g} std x (random linear map of z) (no training)"] = g.digit_metrics(
            {"samples": 2 * s - 1, "nudged": 2 * s2 - 1}, X_train, X_test, y_test, delta)
    return out


def digit_fitted(seed: int = 12345) -> dict:
    """A linear-Gaussian generator fitted to the training digits (the mean plus z times the 8 leading principal
    components, scaled by their standard deviations): recorded, not required to fail. It is a generative model
    fitted to the data (by an SVD), not a hand-made one, and samples alone cannot tell how a model was fitted."""
    X_train, X_test, y_test, z, delta = g.digits_data(seed)
    mean = X_train.mean(axis=0)
    _, sv, Vt = np.linalg.svd(X_train - mean, full_matrices=False)
    components = Vt[: z.shape[1]] * (sv[: z.shape[1], None] / np.sqrt(len(X_train)))
    s, s2 = (np.clip(mean + v @ components, 0.0, 1.0) for v in (z, z + delta))
    return {"digits: a linear-Gaussian model fitted to the training digits (8 principal components)": g.digit_metrics(
        {"samples": 2 * s - 1, "nudged": 2 * s2 - 1}, X_train, X_test, y_test, delta)}


def fails(metrics: dict, thresholds: dict, directions: dict) -> list[str]:
    bad = []
    for name, value in metrics.items():
        if name in thresholds:
            if (directions[name] == "min" and value < thresholds[name]) or (directions[name] == "max" and value > thresholds[name]):
                bad.append(name)
    return bad


def measure(student, seeds: list[int]) -> list[dict]:
    runs = []
    for seed in seeds:
        r, d = ring_run(student, seed), digits_run(student, seed)
        skip = ("seconds", "steps_done")
        runs.append({**{k: v for k, v in r.items() if k not in skip}, **{k: v for k, v in d.items() if k not in skip},
                     "ring_seconds": r["seconds"], "digits_seconds": d["seconds"], "ring_steps": r["steps_done"], "digits_steps": d["steps_done"]})
        print(seed, {k: round(v, 4) if isinstance(v, float) else v for k, v in runs[-1].items()}, flush=True)
    return runs


def thresholds_from(runs: list[dict]) -> dict:
    metrics = {}
    for name, (direction, rule, why) in RULES.items():
        values = [run[name] for run in runs]
        threshold = rule(values)
        worst = min(values) if direction == "min" else max(values)
        margin = worst - threshold if direction == "min" else threshold - worst
        failing = [v for v in values if (v < threshold if direction == "min" else v > threshold)]
        metrics[name] = {"direction": direction, "values": values, "mean": float(np.mean(values)), "std": float(np.std(values)),
                         "worst": worst, "threshold": threshold, "margin": margin, "rule": why,
                         "false_fail_rate": len(failing) / len(values)}
    return metrics


def pass_rate(runs: list[dict], seeds: list[int], trainer: str, load: int, steps: dict, started: float) -> dict:
    """The fraction of seeds that pass every trained test, with the conditions it was measured under."""
    thresholds = {k: v["threshold"] for k, v in CALIBRATION_METRICS().items()}
    directions = {k: v["direction"] for k, v in CALIBRATION_METRICS().items()}
    failed = {str(seed): fails(run, thresholds, directions) for seed, run in zip(seeds, runs)}
    failed = {seed: names for seed, names in failed.items() if names}
    cut = [seed for seed, run in zip(seeds, runs) if run["ring_steps"] < steps["ring"] or run["digits_steps"] < steps["digits"]]
    return {"trainer": trainer, "load": load, "nproc": os.cpu_count(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seeds": len(seeds), "first_seed": seeds[0], "passed": len(seeds) - len(failed), "pass_rate": (len(seeds) - len(failed)) / len(seeds),
            "failed": failed, "cut_by_seconds": cut, "load_average_at_end": list(os.getloadavg()),
            "seconds_max": {"ring": max(r["ring_seconds"] for r in runs), "digits": max(r["digits_seconds"] for r in runs)},
            "seconds_total": time.perf_counter() - started}


def CALIBRATION_METRICS() -> dict:  # noqa: N802 - read at call time: --write-thresholds replaces the file first
    return json.loads(g.CALIBRATION_FILE.read_text(encoding="utf-8"))["metrics"]


ABOUT = ("The grader trains every submission with one fixed seed (TRAINING_SEED in test_a07_gan.py) and a budget of "
         "steps, with the seconds only a cap that load does not reach, so a verdict is a function of the code, not of "
         "the secret or the load. The thresholds come from the solution's seeds (metrics); pass_rates records, per "
         "trainer (the solution and other correct optimisers and learning rates) and condition (nproc, --load busy "
         "processes, date), the fraction of training seeds that pass every trained test: measured over >= 20 seeds, it "
         "is the evidence that the fixed seed is not a lucky one. grader_seed is the solution at the grader's own seed.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--trainer", default="solution", help="solution, adam-lr-X, rmsprop-lr-X or sgd-lr-X")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes to run meanwhile (a loaded machine)")
    parser.add_argument("--write-thresholds", action="store_true", help="set the thresholds from these runs (the solution, quiet)")
    args = parser.parse_args()
    if args.write_thresholds and (args.trainer != "solution" or args.load):
        raise SystemExit("--write-thresholds takes the solution's runs on a quiet machine: drop --trainer and --load")
    torch.set_num_threads(1)  # as in the worker
    student = trainer_namespace(solution_namespace(), args.trainer)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    load = start_load(args.load)
    start = time.perf_counter()
    try:
        runs = measure(student, seeds)
        grader_seed = measure(student, [g.TRAINING_SEED])[0] if args.write_thresholds else None
    finally:
        stop_load(load)
    steps = {"ring": g.RING["steps"], "digits": g.DIGITS["steps"]}
    if args.write_thresholds:
        metrics = thresholds_from(runs)
        reported = {name: {"values": [run[name] for run in runs], "mean": float(np.mean([run[name] for run in runs]))} for name in REPORTED}
        thresholds = {k: v["threshold"] for k, v in metrics.items()}
        directions = {k: v["direction"] for k, v in metrics.items()}
        base = {name: {"metrics": m, "fails": fails(m, thresholds, directions)} for name, m in {**baselines(), **digit_hand_made()}.items()}
        for name, b in base.items():
            print(name, b["fails"])
        out = {
            "assignment": "a07_gan",
            "script": "benchmarks/calibrate_a07_gan.py",
            "about": ABOUT,
            "training_seed": g.TRAINING_SEED,
            "seeds": seeds,
            "budget": {"ring": {k: v for k, v in g.RING.items()}, "digits": {k: v for k, v in g.DIGITS.items()}},
            "threads": 1,
            "seconds": {"ring": [r["ring_seconds"] for r in runs], "digits": [r["digits_seconds"] for r in runs],
                        "total": time.perf_counter() - start, "load_average_at_end": list(os.getloadavg())},
            "steps_done": {"ring": [r["ring_steps"] for r in runs], "digits": [r["digits_steps"] for r in runs]},
            "metrics": metrics,
            "reported": reported,
            "grader_seed": {"metrics": {k: grader_seed[k] for k in metrics}, "fails": fails(grader_seed, thresholds, directions)},
            "coverage_metrics": {task: list(names) for task, names in COVERAGE.items()},
            "hand_made": {name: name.split(":")[0] for name in (*HAND_MADE, *digit_hand_made())},
            "baselines": base,
            "fitted": {name: {"metrics": m, "fails": fails(m, thresholds, directions)} for name, m in digit_fitted().items()},
            "fitted_about": " ".join(digit_fitted.__doc__.split()),
            "pass_rates": [],
        }
        g.CALIBRATION_FILE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    entry = pass_rate(runs, seeds, args.trainer, args.load, steps, start)
    print("pass rate", entry["trainer"], "load", entry["load"], f"{entry['passed']}/{entry['seeds']}", entry["failed"])
    add_pass_rate(g.CALIBRATION_FILE, entry)
    print("wrote", g.CALIBRATION_FILE)


if __name__ == "__main__":
    main()
