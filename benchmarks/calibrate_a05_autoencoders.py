"""Calibrate the thresholds of grader/graders/test_a05_autoencoders.py from the solution notebook over many seeds.

    .venv/bin/python benchmarks/calibrate_a05_autoencoders.py [--seeds 24] [--baseline-seeds 5]

For each seed the solution's answer cells (solutions/a05_autoencoders/a05_autoencoders.ipynb) are trained exactly as
the grader does it (the grader's own harness `_ae_harness`, one CPU thread as in the worker, the same images and
budget), and every metric is measured. The trivial baselines are measured on the same images: the training mean
image, the nearest training image (a memorising model), the input itself where it is not rejected by the bottleneck
checks, and the named mistakes (a denoising AE trained on the noisy target, a sparse AE without the penalty, an
anomaly detector trained with the anomaly class, negated scores). Each threshold is the solution's worst seed plus
a margin (`margin_for`: 4 standard deviations, at least a floor, at most half the way to the nearest baseline), so it
lies strictly between the solution and every baseline. Writes
grader/graders/calibration_a05_autoencoders.json, which the grader and tests/test_calibration_a05_autoencoders.py read.
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

OUT = ROOT / "grader" / "graders" / "calibration_a05_autoencoders.json"
BUDGET = {"steps": 300, "seconds": 20.0}
ANOMALY_CLASSES = (0, 6)


def solution_namespace() -> dict:
    """The solution notebook's code cells (imports and answers), executed here like the worker loads them."""
    nb = nbformat.read(str(ROOT / "solutions" / "a05_autoencoders" / "a05_autoencoders.ipynb"), as_version=4)
    ns: dict = {"__name__": "solution"}
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.source.lstrip().startswith("check("):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") or meta.get("grade_id") == "imports":
                exec(compile(cell.source, f"<cell {meta.get('grade_id')}>", "exec"), ns)
    return ns


def to_torch(v):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v)
    if isinstance(v, dict):
        return {k: to_torch(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(to_torch(x) for x in v)
    return v


def to_numpy(v):
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().numpy()
    if isinstance(v, dict):
        return {k: to_numpy(x) for k, x in v.items()}
    return v


def run(grader, student, *args):
    return to_numpy(grader._ae_harness(student, *map(to_torch, args)))


def mse(a, b) -> float:
    return float(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).mean())


def nearest_training(X_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    Xtr, Xq = torch.from_numpy(X_train.reshape(len(X_train), -1)).double(), torch.from_numpy(X.reshape(len(X), -1)).double()
    return X_train[torch.cdist(Xq, Xtr).argmin(dim=1).numpy()]


def summary(values: list[float], direction: str, margin: float) -> dict:
    arr = np.asarray(values, np.float64)
    worst = float(arr.max() if direction == "max" else arr.min())
    thr = worst + margin if direction == "max" else worst - margin
    fails = float(np.mean(arr > thr) if direction == "max" else np.mean(arr < thr))
    return {"direction": direction, "values": [round(float(v), 6) for v in arr], "mean": float(arr.mean()),
            "std": float(arr.std(ddof=1)), "worst": worst, "margin": margin, "threshold": round(thr, 6),
            "false_fail_rate": fails}


def margin_for(values: list[float], floor: float, nearest_baseline: float, direction: str) -> float:
    """4 standard deviations of the seeds, at least `floor` (a loaded machine, another torch build or a slightly
    different but correct training loop must not fail), but at most half the gap between the solution's worst seed
    and the nearest trivial baseline (which must fail)."""
    worst = max(values) if direction == "max" else min(values)
    gap = abs(nearest_baseline - worst)
    return round(min(max(4.0 * float(np.std(values, ddof=1)), floor), 0.5 * gap), 6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--baseline-seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the worker's setting
    if not OUT.exists():  # the grader reads its budget from the JSON: bootstrap it on the first run
        OUT.write_text(json.dumps({"budget": BUDGET, "metrics": {"anomaly_auroc": {"per_class": {
            str(c): {} for c in ANOMALY_CLASSES}}}}), encoding="utf-8")
    import importlib.util

    spec = importlib.util.spec_from_file_location("grader_a05", ROOT / "grader" / "graders" / "test_a05_autoencoders.py")
    grader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grader)

    ns = solution_namespace()
    student = types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})
    X_train, y_train, X_test, y_test = grader.mnist()
    D_train, D_test = grader.digits8()
    steps, seconds = BUDGET["steps"], BUDGET["seconds"]
    seeds = list(range(args.seeds))
    dense = {"model": "Autoencoder", "args": [784, grader.CODE_DIM]}
    values: dict[str, list[float]] = {"undercomplete_mse": [], "denoising_mse": [], "sparse_rho_gap": [], "conv_mse": []}
    auroc: dict[int, list[float]] = {c: [] for c in ANOMALY_CLASSES}
    from sklearn.metrics import roc_auc_score

    started = time.perf_counter()
    train_seconds: list[float] = []
    for seed in seeds:
        res = run(grader, student, X_train, X_test, seed, steps, seconds, dense)
        values["undercomplete_mse"].append(mse(res["recon"], X_test))
        train_seconds.append(float(res["seconds"]))
        noisy = grader.corrupt_gaussian(X_test, seed + 3)
        res = run(grader, student, X_train, noisy, seed, steps, seconds, {**dense, "noise_std": grader.NOISE_STD})
        values["denoising_mse"].append(mse(res["recon"], X_test))
        res = run(grader, student, X_train, X_test, seed, steps, seconds,
                  {"model": "Autoencoder", "args": [784, grader.CODE_DIM, "sigmoid"], "rho": grader.RHO, "beta": grader.BETA})
        values["sparse_rho_gap"].append(abs(float(np.mean(res["code_mean"])) - grader.RHO))
        for c in ANOMALY_CLASSES:
            res = run(grader, student, X_train, X_test, seed, steps, seconds, {**dense, "y_train": y_train, "anomaly_class": c})
            auroc[c].append(float(roc_auc_score(y_test == c, res["scores"])))
        res = run(grader, student, D_train, D_test, seed, steps, seconds, {"model": "ConvAutoencoder", "args": []})
        values["conv_mse"].append(mse(res["recon"], D_test))
        print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in values.items())
              + ", auroc " + " ".join(f"{c}:{auroc[c][-1]:.3f}" for c in ANOMALY_CLASSES), flush=True)

    # ------------------------------------------------------------------------------------------ baselines
    def noisy_target_train(model, X, steps=300, seconds=20.0, corrupt=None, penalty=None):
        """The solution's loop with the named mistake: the loss compares the output with the corrupted input."""
        opt = torch.optim.Adam(model.parameters(), lr=2e-2)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
        losses = []
        for _ in range(steps):
            batch = X[torch.randint(0, len(X), (128,))]
            inputs = corrupt(batch) if corrupt is not None else batch
            loss = torch.nn.functional.binary_cross_entropy(model.decode(model.encode(inputs)), inputs)
            opt.zero_grad(), loss.backward(), opt.step(), schedule.step()
            losses.append(loss.item())
        return losses

    def select_all(X, y, c):
        return X

    base_seeds = seeds[: args.baseline_seeds]
    mean_mnist = X_train.mean(axis=0, keepdims=True)
    baselines = {
        "undercomplete_mse": {
            "mean_image": mse(mean_mnist, X_test),
            "nearest_training_image": mse(nearest_training(X_train, X_test), X_test),
        },
        "denoising_mse": {
            "mean_image": mse(mean_mnist, X_test),
            "identity (the noisy input returned)": mse(grader.corrupt_gaussian(X_test, 3), X_test),
            "nearest_training_image (of the noisy input)": mse(nearest_training(X_train, grader.corrupt_gaussian(X_test, 3)), X_test),
        },
        "conv_mse": {
            "mean_image": mse(D_train.mean(axis=0, keepdims=True), D_test),
            "nearest_training_image": mse(nearest_training(D_train, D_test), D_test),
        },
        "sparse_rho_gap": {},
    }
    wrong = types.SimpleNamespace(**{**vars(student), "train_autoencoder": noisy_target_train})
    baselines["denoising_mse"]["trained on the noisy target (best of seeds)"] = min(
        mse(run(grader, wrong, X_train, grader.corrupt_gaussian(X_test, s + 3), s, steps, seconds,
                {**dense, "noise_std": grader.NOISE_STD})["recon"], X_test) for s in base_seeds)
    baselines["sparse_rho_gap"]["no penalty (best of seeds)"] = min(
        abs(float(np.mean(run(grader, student, X_train, X_test, s, steps, seconds,
                              {"model": "Autoencoder", "args": [784, grader.CODE_DIM, "sigmoid"]})["code_mean"])) - grader.RHO)
        for s in base_seeds)
    with_anomaly = types.SimpleNamespace(**{**vars(student), "select_normal": select_all})
    per_class = {}
    for c in ANOMALY_CLASSES:
        incl = max(float(roc_auc_score(y_test == c, run(grader, with_anomaly, X_train, X_test, s, steps, seconds,
                                                         {**dense, "y_train": y_train, "anomaly_class": c})["scores"]))
                   for s in base_seeds)
        nearest = max(incl, 1.0 - min(auroc[c]), 0.5)
        entry = summary(auroc[c], "min", margin_for(auroc[c], 0.03, nearest, "min"))
        entry["baselines"] = {"trained with the anomaly class (best of seeds)": incl,
                              "negated scores (best seed)": 1.0 - min(auroc[c]), "constant score": 0.5}
        per_class[str(c)] = entry
        print(f"anomaly {c}: threshold {entry['threshold']:.3f}, baselines {entry['baselines']}", flush=True)

    floors = {"undercomplete_mse": 0.004, "denoising_mse": 0.005, "sparse_rho_gap": 0.01, "conv_mse": 0.004}
    metrics = {}
    for name, vals in values.items():
        metrics[name] = summary(vals, "max", margin_for(vals, floors[name], min(baselines[name].values()), "max"))
        metrics[name]["baselines"] = baselines[name]
        print(f"{name}: threshold {metrics[name]['threshold']:.4f}, baselines {baselines[name]}", flush=True)
    metrics["undercomplete_mse"]["rejected_by_checks"] = {
        "identity (returns its input)": "the code must have shape (N, 32) and decode(z) must depend only on z "
                                        "(codes decoded in a shuffled order): the MSE threshold alone cannot reject it"}
    metrics["conv_mse"]["rejected_by_checks"] = {"identity (returns its input)": "the code must have shape (N, 8, 2, 2)"}
    metrics["anomaly_auroc"] = {"direction": "min", "per_class": per_class}

    result = {
        "about": "written by benchmarks/calibrate_a05_autoencoders.py: the solution notebook trained with the grader's "
                 "harness over every seed (one CPU thread), the thresholds, and the trivial baselines; "
                 "direction max: a value above the threshold fails; min: below fails",
        "budget": BUDGET,
        "seeds": seeds,
        "solution_train_seconds": {"mean": float(np.mean(train_seconds)), "max": float(np.max(train_seconds))},
        "total_seconds": round(time.perf_counter() - started, 1),
        "metrics": metrics,
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} in {result['total_seconds']} s")


if __name__ == "__main__":
    main()
