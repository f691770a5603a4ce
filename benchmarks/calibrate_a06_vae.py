"""Calibrate the trained-model thresholds of a06_vae and measure pass rates: train the solution notebook's VAE under
the grading budget over >= 20 seeds, measure every metric the grader checks, measure trivial baselines, and write
grader/graders/calibration_a06_vae.json; measure the pass rates of the solution and of other correct trainings, on a
quiet and on a loaded machine.

    .venv/bin/python benchmarks/calibrate_a06_vae.py --write-thresholds           # thresholds: the solution, quiet
    .venv/bin/python benchmarks/calibrate_a06_vae.py --seeds 20                   # the solution's pass rate, quiet
    .venv/bin/python benchmarks/calibrate_a06_vae.py --seeds 20 --trainer adam-lr-2e-3
    .venv/bin/python benchmarks/calibrate_a06_vae.py --seeds 20 --load 3          # with 3 busy-loop processes
    .venv/bin/python benchmarks/calibrate_a06_vae.py --rethreshold                # thresholds from the stored values
    .venv/bin/python benchmarks/calibrate_a06_vae.py --trainer adam-lr-1e-3 --drop "why"  # out of pass_rates

The solution runs through the grader's own harness (`_vae_harness`) and metrics (`metrics`), in this process, with the
worker's conversions (arrays in as float64 tensors, tensors out as arrays) and one torch thread as in the worker, so
grading and calibration measure the same thing. --rethreshold recomputes the thresholds from the values already in the
JSON file, without training.

--trainer: `solution` (the notebook's train), or the notebook's loop (mini-batches of 64 drawn at random, the loss
negative_elbo(...)[0], a step budget and the seconds cap) with another optimiser and learning rate: `adam-lr-X`,
`adamw-lr-X` (weight decay 0.01), `rmsprop-lr-X` or `sgd-lr-X` (momentum 0.9). The notebook asks for Adam with a
learning rate of about 3e-3: those are the trainings a correct submission may use (adam-lr-1e-3 is too slow for the
600 steps: 19/20 seeds pass, one fails the recall; the file's dropped_trainers keeps that run). --load K starts K
processes that spin for the duration (a class run with one grading per core plus as much other load again is
--load 2 * nproc minus the calibration itself). Each pass-rate run records, under "pass_rates", the fraction of
seeds whose training passes every trained-model test (every calibrated metric, a negative logvar somewhere, finite
outputs), with nproc, the load, the load average at the end and the date. The grader trains every submission with
one fixed seed (TRAINING_SEED); the pass rate over >= 20 other seeds is the evidence that this seed is not a lucky
one. --write-thresholds also records the solution at TRAINING_SEED ("grader_seed") and empties pass_rates (they were
measured against the old thresholds).

Threshold rule, per metric: the worst calibration seed, moved towards the best trivial baseline that must fail the
metric by FRACTION of the gap (the margin), and at least SPREAD standard deviations beyond the worst seed. A metric
that no baseline must fail (precision: the mean digit lies inside the real manifold, so even a model ignoring its
input has precision 1) only guards against garbage samples: its threshold is LENIENT x the worst seed, because
other correct architectures score lower than the solution (a tanh VAE: 0.53 against the solution's 0.79-0.91). A metric
passes when value <= threshold (lower is better) or value >= threshold (higher is better).
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import statistics
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
OUT = ROOT / "grader" / "graders" / "calibration_a06_vae.json"
FRACTION = 0.4
SPREAD = 4.0
LENIENT = 0.5
RULE = (f"threshold = the worst seed moved by max({FRACTION} x its gap to the best baseline that must fail the metric, "
        f"{SPREAD} x std) towards that baseline; for a metric no baseline must fail, by max({1 - LENIENT} x |worst|, "
        f"{SPREAD} x std); false_fail_rate = the fraction of calibration seeds failing the threshold")
LOWER_IS_BETTER = {"heldout_neg_elbo", "swap_ratio"}
# which trivial baselines must fail which metric (the calibration test checks each fails at least one listed metric)
MUST_FAIL = {
    "input_mean": ["heldout_neg_elbo", "recall", "swap_ratio"],
    "memoriser": ["memorisation_ratio", "heldout_neg_elbo"],
    "kl_dropped": ["heldout_neg_elbo", "recall"],
    "uniform_z_sampler": ["sample_recall"],
}


def grader_module():
    spec = importlib.util.spec_from_file_location("a06_grader", ROOT / "grader" / "graders" / "test_a06_vae.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_namespace() -> dict:
    """The solution notebook's given and answer code cells, executed in order (checks and the try-it cell skipped)."""
    nb = nbformat.read(str(ROOT / "solutions" / "a06_vae" / "a06_vae.ipynb"), as_version=4)
    ns: dict = {"__name__": "a06_solution"}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code" or gid.startswith("check-") or gid == "try-training":
            continue
        exec(compile(cell.source.replace("from grader import check", ""), gid, "exec"), ns)
    return ns


class LocalSubmission:
    """A stand-in for SubmissionSession.run that calls the harness here, converting like the worker does."""

    def __init__(self, ns: dict) -> None:
        self.student = types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})

    def run(self, harness, *args, timeout=None, **kwargs):
        args = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        out = harness(self.student, *args, **kwargs)
        return {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}


def summary(values: list[float]) -> dict:
    return {"values": [round(v, 6) for v in values], "mean": statistics.fmean(values), "std": statistics.pstdev(values)}


def baselines(G) -> dict:
    """Trivial models in the grader's metric space: they must fail (see MUST_FAIL)."""
    X_train, X_test, _ = G.mnist()
    X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float64)
    n, p = X_test.shape
    d = G.BUDGET["latent_dim"]
    rng = np.random.default_rng(0)

    def logit(a):
        a = np.clip(a, 1e-3, 1 - 1e-3)
        return np.log(a) - np.log1p(-a)

    zeros = np.zeros((n, d))
    mean = np.broadcast_to(logit(X_train.mean(axis=0)), (n, p)).copy()
    # ignores its input: every reconstruction and sample is the training mean, codes at the prior (KL = 0)
    out = {"input_mean": G.metrics({"mu": zeros, "logvar": zeros, "logits": mean, "logits_swapped": mean, "prior": mean})}
    # memorises: reconstructs each digit by its nearest training image, samples are training images (KL = 0)
    nearest = torch.cdist(torch.from_numpy(X_test), torch.from_numpy(X_train)).argmin(dim=1).numpy()
    recon = logit(X_train[nearest])
    prior = logit(X_train[rng.choice(len(X_train), n, replace=False)])
    out["memoriser"] = G.metrics({"mu": zeros, "logvar": zeros, "logits": recon, "logits_swapped": np.roll(recon, 1, 0),
                                  "prior": prior})
    out["identity"] = ("not applicable: the harness decodes z = mu + sigma * eps drawn from the returned 8-dimensional "
                       "codes, so an input cannot pass through unchanged; a decoder replaying the last encoded input "
                       "gets the training batch the harness encodes in between (a mutant in tests/mutants/a06_vae.py)")
    return out


def train_once(G, ns: dict, seed: int) -> tuple[dict, dict]:
    """One grading's training at `seed`: the metrics (with seconds and steps) and the harness's reply."""
    res = G.run_training(LocalSubmission(ns), seed)
    m = G.metrics(res)
    m["seconds"] = res["seconds"]
    m["steps"] = len(res["losses"])
    return m, res


def train_metrics(G, ns: dict, seed: int) -> dict:
    return train_once(G, ns, seed)[0]


def check_failures(res: dict) -> list[str]:
    """The trained-model checks that are not calibrated metrics (trained() and the logvar test in the grader)."""
    bad = [f"{k} not finite" for k in ("mu", "logvar", "logits", "logits_swapped", "prior") if not np.all(np.isfinite(res[k]))]
    if np.all(np.asarray(res["logvar"]) >= 0):
        bad.append("logvar never negative")
    return bad


def metric_failures(values: dict, metrics: dict) -> list[str]:
    """The calibrated metrics of one training that fail their thresholds (a missing or NaN value fails)."""
    bad = []
    for name, entry in metrics.items():
        v = values.get(name)
        if v is None or not np.isfinite(v):
            bad.append(name)
        elif (v > entry["threshold"]) if entry["direction"] == "lower is better" else (v < entry["threshold"]):
            bad.append(name)
    return bad


def trainer(ns: dict, name: str) -> dict:
    """The solution's namespace, or a copy whose `train` is the notebook's loop with another optimiser and lr."""
    if name == "solution":
        return ns
    kind, _, lr_text = name.partition("-lr-")
    makers = {"adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
              "adamw": lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.01),
              "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
              "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)}
    try:
        lr, make = float(lr_text), makers[kind]
    except (KeyError, ValueError):
        raise SystemExit(f"unknown --trainer {name!r}: use solution, adam-lr-X, adamw-lr-X, rmsprop-lr-X or sgd-lr-X "
                         "(e.g. adam-lr-2e-3)") from None
    negative_elbo = ns["negative_elbo"]

    def train(model, X, steps=600, max_seconds=60.0):
        optimizer = make(model.parameters(), lr)
        losses, start = [], time.perf_counter()
        model.train()
        for _ in range(steps):
            xb = X[torch.randint(0, len(X), (64,), device=X.device)]
            logits, mu, logvar = model(xb)
            loss = negative_elbo(xb, logits, mu, logvar)[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if time.perf_counter() - start > max_seconds:
                break
        return losses

    return {**ns, "train": train}


def thresholds(data: dict) -> None:
    for name, m in data["metrics"].items():
        vals = m["values"]
        fail_values = [b[name] for b, fails in ((data["baselines"].get(k), f) for k, f in MUST_FAIL.items())
                       if isinstance(b, dict) and name in fails and name in b]
        lower = name in LOWER_IS_BETTER
        worst = max(vals) if lower else min(vals)
        if fail_values:
            nearest = min(fail_values) if lower else max(fail_values)
            gap = (nearest - worst) if lower else (worst - nearest)
            margin = max(FRACTION * gap, SPREAD * m["std"])
        else:
            margin = max((1 - LENIENT) * abs(worst), SPREAD * m["std"])
        thr = worst + margin if lower else worst - margin
        fails = [v for v in vals if (v > thr if lower else v < thr)]
        m.update(worst=worst, direction="lower is better" if lower else "higher is better", threshold=round(thr, 4),
                 margin=round(margin, 4), false_fail_rate=len(fails) / len(vals))


def grader_seed_fails(data: dict) -> None:
    """What the solution at the grader's TRAINING_SEED fails under the thresholds now in `data` (it must be nothing)."""
    seed = data["grader_seed"]
    seed["fails"] = metric_failures(seed["values"], data["metrics"]) + seed["check_failures"]


def calibrate(G, ns: dict, seeds: list[int], kl_dropped_seeds: int, start: float) -> dict:
    """The thresholds' data: the solution over `seeds`, the baselines, and the solution at the grader's own seed."""
    per_seed = []
    for seed in seeds:
        per_seed.append(train_metrics(G, ns, seed))
        print(seed, {k: round(v, 3) for k, v in per_seed[-1].items()}, flush=True)
    names = [k for k in per_seed[0] if k not in ("seconds", "steps")]
    data = {
        "assignment": "a06_vae",
        "made_by": "benchmarks/calibrate_a06_vae.py",
        "about": ABOUT,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{torch.get_num_threads()} torch thread(s), torch {torch.__version__}",
        "budget": G.BUDGET,
        "training_seed": G.TRAINING_SEED,
        "seeds": seeds,
        "rule": RULE,
        "seconds_per_training": summary([m["seconds"] for m in per_seed]),
        "steps_done_min": min(m["steps"] for m in per_seed),
        "metrics": {k: summary([m[k] for m in per_seed]) for k in names},
        "baselines": baselines(G),
        "must_fail": MUST_FAIL,
    }
    # the solution with the KL term dropped from its training loss (negative_elbo with beta = 0)
    original = ns["negative_elbo"]
    ns["negative_elbo"] = lambda x, logits, mu, logvar, beta=1.0: original(x, logits, mu, logvar, beta=0.0)
    dropped = [train_metrics(G, ns, 5000 + s) for s in range(kl_dropped_seeds)]
    ns["negative_elbo"] = original
    data["baselines"]["kl_dropped"] = {k: statistics.fmean(m[k] for m in dropped) for k in names}
    data["baselines"]["kl_dropped_seeds"] = [{k: round(v, 4) for k, v in m.items()} for m in dropped]
    # a sample() drawing z ~ U(0, 1) (torch.rand) instead of N(0, I)
    exec(compile(_UNIFORM_SAMPLER, "uniform", "exec"), ns)
    data["baselines"]["uniform_z_sampler"] = train_metrics(G, ns, 7000)
    exec(compile(_NORMAL_SAMPLER, "normal", "exec"), ns)
    m, res = train_once(G, ns, G.TRAINING_SEED)
    data["grader_seed"] = {"values": {k: round(m[k], 6) for k in names}, "seconds": m["seconds"], "steps": m["steps"],
                           "check_failures": check_failures(res)}
    data["seconds_total"] = time.perf_counter() - start
    data["pass_rates"] = []
    return data


ABOUT = ("The grader trains every submission with one fixed seed (TRAINING_SEED in test_a06_vae.py) and a budget of "
         "steps (max_seconds only a cap load does not reach), so a trained-model verdict is a function of the code, not "
         "of the secret or the load. metrics: the solution over `seeds`, and the thresholds; grader_seed: the solution "
         "at TRAINING_SEED and the checks it fails; pass_rates: per trainer and condition (nproc, --load busy "
         "processes, date), the fraction of other training seeds that pass every trained-model test, the evidence "
         "that the fixed seed is not a lucky one.")


def pass_rate(G, ns: dict, data: dict, args, seeds: list[int], start: float) -> dict:
    """Train `args.trainer` over `seeds` and return its pass_rates entry against the stored thresholds."""
    failed, seconds, cut = {}, [], []
    for seed in seeds:
        m, res = train_once(G, ns, seed)
        bad = metric_failures(m, data["metrics"]) + check_failures(res)
        seconds.append(m["seconds"])
        if m["steps"] < G.BUDGET["steps"]:
            cut.append(seed)
        if bad:
            failed[str(seed)] = bad
        print(seed, {k: round(v, 3) for k, v in m.items()}, bad or "pass", flush=True)
    passed = len(seeds) - len(failed)
    return {"trainer": args.trainer, "load": args.load, "nproc": os.cpu_count(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "seeds": len(seeds),
            "first_seed": seeds[0], "passed": passed, "pass_rate": passed / len(seeds), "failed": failed,
            "cut_by_seconds": cut, "seconds_max": round(max(seconds), 3), "seconds_mean": round(statistics.fmean(seconds), 3),
            "load_average_at_end": list(os.getloadavg()), "seconds_total": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=None,
                        help="first seed (default 1000 with --write-thresholds, 0 for pass rates: other seeds than the thresholds')")
    parser.add_argument("--trainer", default="solution", help="solution, adam-lr-X, adamw-lr-X, rmsprop-lr-X or sgd-lr-X")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes to run meanwhile (a loaded machine)")
    parser.add_argument("--write-thresholds", action="store_true", help="recalibrate the thresholds (the solution, quiet)")
    parser.add_argument("--kl-dropped-seeds", type=int, default=4)
    parser.add_argument("--rethreshold", action="store_true", help="recompute the thresholds from the stored values")
    parser.add_argument("--drop", metavar="REASON", help="move --trainer's pass_rates entries to dropped_trainers, "
                        "with REASON (a training outside the release's stated budget), without training")
    args = parser.parse_args()
    if args.write_thresholds and (args.trainer != "solution" or args.load):
        raise SystemExit("--write-thresholds takes the solution's runs on a quiet machine: drop --trainer and --load")
    torch.set_num_threads(1)  # the worker's setting
    G = grader_module()
    start = time.perf_counter()
    entry = None  # a pass-rate run's entry, which add_pass_rate writes itself
    if args.drop:
        data = json.loads(OUT.read_text(encoding="utf-8"))
        moved = [{**e, "reason": args.drop} for e in data["pass_rates"] if e["trainer"] == args.trainer]
        if not moved or args.trainer == "solution":
            raise SystemExit(f"no pass_rates entry of --trainer {args.trainer!r} to drop (the solution cannot be dropped)")
        data["pass_rates"] = [e for e in data["pass_rates"] if e["trainer"] != args.trainer]
        data["dropped_trainers"] = data.get("dropped_trainers", []) + moved
    elif args.rethreshold:
        data = json.loads(OUT.read_text(encoding="utf-8"))
        data["must_fail"], data["rule"] = MUST_FAIL, RULE
        thresholds(data)
        grader_seed_fails(data)
    elif args.write_thresholds:
        first = 1000 if args.first_seed is None else args.first_seed
        data = calibrate(G, solution_namespace(), list(range(first, first + args.seeds)), args.kl_dropped_seeds, start)
        thresholds(data)
        grader_seed_fails(data)
    else:
        data = json.loads(OUT.read_text(encoding="utf-8"))
        if data["budget"] != G.BUDGET:
            raise SystemExit(f"the thresholds were calibrated under {data['budget']}, the grader's budget is {G.BUDGET}: "
                             "run with --write-thresholds first")
        first = 0 if args.first_seed is None else args.first_seed
        load = start_load(args.load)
        try:
            entry = pass_rate(G, trainer(solution_namespace(), args.trainer), data, args,
                              list(range(first, first + args.seeds)), start)
        finally:
            stop_load(load)
        print("pass rate", args.trainer, "load", args.load, f"{entry['passed']}/{entry['seeds']}", entry["failed"], flush=True)
        data = add_pass_rate(OUT, entry, ensure_ascii=False)  # re-reads the file: another run may have written meanwhile
    if not entry:
        OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, m in data["metrics"].items():
        print(f"{name:20s} mean {m['mean']:9.4f} std {m['std']:.4f} worst {m['worst']:9.4f} threshold {m['threshold']:9.4f} "
              f"false fails {m['false_fail_rate']:.2f}")
    print("grader seed", data.get("grader_seed"))


_UNIFORM_SAMPLER = '''
def _sample_uniform(self, n):
    p = next(self.parameters())
    with torch.no_grad():
        return torch.sigmoid(self.decode(torch.rand(n, self.latent_dim, dtype=p.dtype, device=p.device)))
VAE._original_sample = VAE.sample
VAE.sample = _sample_uniform
'''
_NORMAL_SAMPLER = "VAE.sample = VAE._original_sample\n"

if __name__ == "__main__":
    main()
