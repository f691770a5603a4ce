"""Measures the pass rates of a01's trained task (grader/graders/test_a01_fundamentals.py, section 11: an MLP trained
on 4,000 MNIST digits must reach a test accuracy of MNIST_THRESHOLD on the 1,000 test digits within MNIST_SECONDS):
the solution and other correct trainings, each over many training seeds, on a quiet and on a loaded machine.

    .venv/bin/python benchmarks/calibrate_a01_fundamentals.py --seeds 20                        # the solution, quiet
    .venv/bin/python benchmarks/calibrate_a01_fundamentals.py --seeds 20 --trainer sgd-lr-5e-2  # another optimiser
    .venv/bin/python benchmarks/calibrate_a01_fundamentals.py --seeds 20 --load 2               # 2 busy processes

--trainer: `solution` (the notebook's build_mlp and train: Adam with a one-cycle rate up to 3e-3, 5 epochs of 64), or
the notebook's build_mlp trained by the same loop, 5 epochs of 64, at a constant learning rate with `adam-lr-X`,
`sgd-lr-X` (momentum 0.9) or `rmsprop-lr-X`; the release leaves the optimiser, rate, batch and epochs to the student
("a few epochs of Adam with a learning rate of about 1e-3 are enough").

The grader trains every submission with one fixed seed (MNIST_SEED) and a wall-clock limit, so the verdict is a
function of the code. Each run here trains with the grader's own harness (`_mnist_harness`, one CPU thread as in the
worker) at seeds first_seed ... first_seed + seeds - 1 and adds, under "pass_rates" of
grader/graders/calibration_a01_fundamentals.json, the fraction of seeds whose accuracy reaches the threshold (with
nproc, the load, the load average and the date), the evidence that the fixed seed is not a lucky one.
tests/test_calibration_a01_fundamentals.py checks the file.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
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
from grader.data import load_mnist  # noqa: E402

OUT = ROOT / "grader" / "graders" / "calibration_a01_fundamentals.json"
ABOUT = ("written by benchmarks/calibrate_a01_fundamentals.py: a01's trained task (an MLP on 4,000 MNIST digits, test "
         "accuracy >= threshold within seconds_cap) trained with the grader's harness, one CPU thread as in the worker. "
         "The grader trains every submission with one fixed seed (training_seed), so a verdict is a function of the "
         "code, not of the secret; pass_rates records, per trainer (the solution and other correct optimisers and "
         "learning rates) and condition (nproc, --load busy processes, date), the fraction of training seeds whose "
         "accuracy reaches the threshold: over >= 20 seeds it is the evidence that the fixed seed is not a lucky one.")


def grader_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("grader_a01", ROOT / "grader" / "graders" / "test_a01_fundamentals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_namespace() -> types.SimpleNamespace:
    """The notebook's imports and its mnist_mlp answer cell, executed as the worker loads them."""
    nb = nbformat.read(str(ROOT / "solutions" / "a01_fundamentals" / "a01_fundamentals.ipynb"), as_version=4)
    ns: dict = {"__name__": "solution"}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ("imports", "mnist_mlp"):
            source = "\n".join(line for line in cell.source.splitlines() if "from grader import" not in line)
            exec(compile(source, f"<cell {grade_id}>", "exec"), ns)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


def trainer(solution: types.SimpleNamespace, name: str) -> types.SimpleNamespace:
    """The solution, or its build_mlp trained 5 epochs of 64 at a constant rate by another optimiser."""
    if name == "solution":
        return solution
    kind, _, lr_text = name.partition("-lr-")
    makers = {"adam": lambda p, lr: torch.optim.Adam(p, lr=lr), "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
              "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)}
    if kind not in makers or not lr_text:
        raise SystemExit(f"unknown --trainer {name!r}: use solution, adam-lr-X, sgd-lr-X or rmsprop-lr-X (e.g. sgd-lr-5e-2)")
    lr, make = float(lr_text), makers[kind]

    def train(model, X, y):
        opt = make(model.parameters(), lr)
        model.train()
        for _ in range(5):
            for idx in torch.randperm(len(X)).split(64):
                loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return model

    return types.SimpleNamespace(**{**vars(solution), "train": train})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--trainer", default="solution", help="solution, adam-lr-X, sgd-lr-X or rmsprop-lr-X")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes to run meanwhile (a loaded machine)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the worker's setting
    grader = grader_module()
    student = trainer(solution_namespace(), args.trainer)
    X_train, y_train = (torch.from_numpy(a) for a in load_mnist("train"))
    X_test, y_test = load_mnist("test")
    X_test_t = torch.from_numpy(X_test)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    load = start_load(args.load)
    started = time.perf_counter()
    accuracies, seconds = [], []
    try:
        for seed in seeds:
            res = grader._mnist_harness(student, X_train, y_train, X_test_t, seed)
            logits = res["logits"].numpy()
            ok = bool(np.all(np.isfinite(logits)))
            accuracies.append(float((logits.argmax(axis=1) == y_test).mean()) if ok else 0.0)
            seconds.append(float(res["seconds"]))
            print(f"seed {seed}: accuracy {accuracies[-1]:.3f}, {seconds[-1]:.1f} s", flush=True)
    finally:
        stop_load(load)
    if not OUT.exists():
        OUT.write_text(json.dumps({"assignment": "a01_fundamentals", "script": "benchmarks/calibrate_a01_fundamentals.py",
                                   "about": ABOUT, "threshold": grader.MNIST_THRESHOLD, "training_seed": grader.MNIST_SEED,
                                   "seconds_cap": grader.MNIST_SECONDS, "pass_rates": []}, indent=1) + "\n", encoding="utf-8")
    # the wall-clock limit stops the whole harness: a training past it fails (there is no budget of steps to cut)
    failed = {str(s): ["accuracy"] for s, a in zip(seeds, accuracies) if a < grader.MNIST_THRESHOLD}
    cut = [s for s, t in zip(seeds, seconds) if t > grader.MNIST_SECONDS]
    entry = {"trainer": args.trainer, "load": args.load, "nproc": os.cpu_count(),
             "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "seeds": len(seeds),
             "first_seed": seeds[0], "passed": len(seeds) - len(failed), "pass_rate": (len(seeds) - len(failed)) / len(seeds),
             "failed": failed, "cut_by_seconds": cut, "seconds_max": max(seconds),
             "accuracy": {"min": min(accuracies), "median": float(np.median(accuracies)), "max": max(accuracies)},
             "load_average_at_end": list(os.getloadavg()), "seconds_total": round(time.perf_counter() - started, 1)}
    print("pass rate", args.trainer, "load", args.load, f"{entry['passed']}/{entry['seeds']}", failed, flush=True)
    add_pass_rate(OUT, entry)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
