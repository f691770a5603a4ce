"""Calibrates the thresholds of grader/graders/test_a07_gan.py: trains the solution notebook's GAN over 25 seeds
under the grading budget (the same harness, data and metrics as the grader, one thread like the worker), measures
trivial baselines, and writes grader/graders/calibration_a07_gan.json.

    .venv/bin/python benchmarks/calibrate_a07_gan.py [--seeds 25]

Thresholds: for a "min" metric (larger is better) the threshold is below the worst seed by a margin, for a "max"
metric above it; the margin of each metric is stated in RULES. The false-fail rate is the fraction of calibration
seeds that fail the threshold (0 by construction, the margin is what protects unseen seeds). Every baseline must
fail at least one threshold.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path

import nbformat
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.graders import test_a07_gan as g  # noqa: E402
from reference import gan as ref  # noqa: E402

# metric -> (direction, how the threshold is set from the seeds' values, why)
RULES = {
    "ring_modes": ("min", lambda v: min(v) - 2, "2 modes below the worst seed: a run that merges two neighbouring modes still passes; a collapse to <= 3 modes fails"),
    "ring_quality": ("min", lambda v: 0.5 * min(v), "half the worst seed's fraction of samples within 3 std of a mode"),
    "ring_spread": ("min", lambda v: 0.25 * min(v), "a quarter of the worst seed's within-mode spread (relative to the data's): samples exactly on the centres have 0"),
    "ring_z_std": ("min", lambda v: 0.01 * min(v), "1% of the worst seed's sample std: a generator that ignores z has 0"),
    "ring_copies": ("max", lambda v: max(0.05, max(v) + 0.05), "at most 5% of the samples equal (1e-6) a training point; the solution has none"),
    "ring_continuity": ("max", lambda v: 10 * max(v), "10 times the worst seed's median |G(z+d)-G(z)|/|d|: a lookup of stored samples jumps by ~1/|d|"),
    "digits_precision": ("min", lambda v: 0.5 * min(v), "half the worst seed's precision: lenient, noise has 0"),
    "digits_classes": ("min", lambda v: max(3, min(v) - 3), "3 classes below the worst seed (at least 3): a constant image covers 1"),
    "digits_z_std": ("min", lambda v: 0.01 * min(v), "1% of the worst seed's pixel std over samples: a constant image has 0"),
    "digits_copies": ("max", lambda v: max(0.05, max(v) + 0.05), "at most 5% of the samples within 1e-3 (L2) of a training digit; the solution has none"),
    "digits_continuity": ("max", lambda v: 10 * max(v), "10 times the worst seed's median |G(z+d)-G(z)|/|d|"),
}
REPORTED = ("digits_recall",)  # measured, not graded


def solution_namespace() -> types.SimpleNamespace:
    nb = nbformat.read(str(ROOT / "solutions/a07_gan/a07_gan.ipynb"), as_version=4)
    ns: dict = {"__name__": "solution"}
    exec("import math, time\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n", ns)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(cell.source, ns)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


def ring_run(student, seed: int) -> dict:
    train, z, delta = g.ring_data(seed)
    res = g._train_harness(student, torch.from_numpy(train), torch.from_numpy(z), torch.from_numpy(delta), g.RING["dims"],
                           g.RING["steps"], g.RING["seconds"], seed)
    return {**g.ring_metrics(res, train, delta), "seconds": res["seconds"], "steps_done": res["steps_done"]}


def digits_run(student, seed: int) -> dict:
    X_train, X_test, y_test, z, delta = g.digits_data(seed)
    res = g._train_harness(student, torch.from_numpy(X_train * 2 - 1), torch.from_numpy(z), torch.from_numpy(delta),
                           g.DIGITS["dims"], g.DIGITS["steps"], g.DIGITS["seconds"], seed)
    return {**g.digit_metrics(res, X_train, X_test, y_test, delta), "seconds": res["seconds"], "steps_done": res["steps_done"]}


def baselines(seed: int = 12345) -> dict:
    """Trivial generators, as the arrays the harness would return; their metrics must fail the thresholds."""
    rng = np.random.default_rng(seed)
    out = {}
    train, z, delta = g.ring_data(seed)
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


def fails(metrics: dict, thresholds: dict, directions: dict) -> list[str]:
    bad = []
    for name, value in metrics.items():
        if name in thresholds:
            if (directions[name] == "min" and value < thresholds[name]) or (directions[name] == "max" and value > thresholds[name]):
                bad.append(name)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in the worker
    student = solution_namespace()
    seeds = list(range(args.seeds))
    runs = []
    start = time.perf_counter()
    for seed in seeds:
        r, d = ring_run(student, seed), digits_run(student, seed)
        skip = ("seconds", "steps_done")
        runs.append({**{k: v for k, v in r.items() if k not in skip}, **{k: v for k, v in d.items() if k not in skip},
                     "ring_seconds": r["seconds"], "digits_seconds": d["seconds"], "ring_steps": r["steps_done"], "digits_steps": d["steps_done"]})
        print(seed, {k: round(v, 4) if isinstance(v, float) else v for k, v in runs[-1].items()}, flush=True)
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
    reported = {name: {"values": [run[name] for run in runs], "mean": float(np.mean([run[name] for run in runs]))} for name in REPORTED}
    thresholds = {k: v["threshold"] for k, v in metrics.items()}
    directions = {k: v["direction"] for k, v in metrics.items()}
    base = {name: {"metrics": m, "fails": fails(m, thresholds, directions)} for name, m in baselines().items()}
    for name, b in base.items():
        print(name, b["fails"])
    out = {
        "assignment": "a07_gan",
        "script": "benchmarks/calibrate_a07_gan.py",
        "seeds": seeds,
        "budget": {"ring": {k: v for k, v in g.RING.items()}, "digits": {k: v for k, v in g.DIGITS.items()}},
        "threads": 1,
        "seconds": {"ring": [r["ring_seconds"] for r in runs], "digits": [r["digits_seconds"] for r in runs],
                    "total": time.perf_counter() - start, "load_average_at_end": list(__import__("os").getloadavg())},
        "steps_done": {"ring": [r["ring_steps"] for r in runs], "digits": [r["digits_steps"] for r in runs]},
        "metrics": metrics,
        "reported": reported,
        "baselines": base,
    }
    g.CALIBRATION_FILE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("wrote", g.CALIBRATION_FILE)


if __name__ == "__main__":
    main()
