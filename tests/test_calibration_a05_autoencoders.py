"""Is grader/graders/calibration_a05_autoencoders.json (written by benchmarks/calibrate_a05_autoencoders.py) a
sound calibration: enough seeds, every seed of the solution passes with the stated margin, no false fails, every
trivial baseline (the mean image, the nearest training image, the input itself, the named mistakes) fails, the
denoising threshold lies >= 3 standard deviations outside the solution's worst seed, the grader's fixed training seed
passes, and the recorded pass rates reach 99 %?"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests import pass_rates

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = json.loads((ROOT / "grader" / "graders" / "calibration_a05_autoencoders.json").read_text(encoding="utf-8"))
METRICS = CALIBRATION["metrics"]


def entries():
    for name, entry in METRICS.items():
        if "per_class" in entry:
            for c, sub in entry["per_class"].items():
                yield f"{name}[{c}]", sub
        else:
            yield name, entry


ENTRIES = list(entries())


def fails(entry: dict, value: float) -> bool:
    return value > entry["threshold"] if entry["direction"] == "max" else value < entry["threshold"]


def test_the_grader_and_the_calibration_use_the_same_budget_and_metrics():
    """Does the JSON hold the budget, at least 20 seeds, and every metric the grader reads?"""
    assert CALIBRATION["budget"]["steps"] > 0 and CALIBRATION["budget"]["seconds"] > 0
    assert len(CALIBRATION["seeds"]) >= 20 and len(set(CALIBRATION["seeds"])) == len(CALIBRATION["seeds"])
    assert set(METRICS) == {"undercomplete_mse", "denoising_mse", "denoising_background", "sparse_rho_gap", "conv_mse", "anomaly_auroc"}
    assert len(METRICS["anomaly_auroc"]["per_class"]) >= 1


@pytest.mark.parametrize(("name", "entry"), ENTRIES, ids=[n for n, _ in ENTRIES])
def test_every_seed_passes_with_the_stated_margin(name, entry):
    """Do ≥ 20 seeds of the solution all pass, the worst one by the stated margin, with a false-fail rate < 1 %?"""
    values = entry["values"]
    assert len(values) >= 20 and len(values) == len(CALIBRATION["seeds"])
    assert entry["direction"] in ("max", "min")
    worst = max(values) if entry["direction"] == "max" else min(values)
    assert abs(worst - entry["worst"]) < 1e-6
    assert entry["margin"] > 0
    assert abs(abs(entry["threshold"] - worst) - entry["margin"]) < 1e-5, "threshold = worst seed ± margin"
    assert not any(fails(entry, v) for v in values)
    assert entry["false_fail_rate"] == sum(fails(entry, v) for v in values) / len(values) < 0.01


@pytest.mark.parametrize(("name", "entry"), ENTRIES, ids=[n for n, _ in ENTRIES])
def test_every_trivial_baseline_fails(name, entry):
    """Does every baseline measured by the calibration script (mean image, nearest training image, identity, the
    named mistakes) fail the threshold?"""
    baselines = entry["baselines"]
    assert baselines, f"{name}: no baseline measured"
    for label, value in baselines.items():
        assert fails(entry, value), f"{name}: the baseline {label!r} ({value:.4f}) passes the threshold {entry['threshold']}"


def test_the_reconstruction_metrics_reject_the_mean_image_and_memorisation():
    """Are the mean image and the nearest training image among the baselines of every reconstruction metric, and the
    identity rejected (by the threshold where it applies, by the bottleneck checks otherwise)?"""
    for name in ("undercomplete_mse", "denoising_mse", "conv_mse"):
        labels = " ".join(METRICS[name]["baselines"])
        assert "mean_image" in labels, name
        # the denoising threshold keeps 3 SD of the seeds and may let the memorising baseline through: then the copy
        # test of the same Autoencoder class (undercomplete task) must be named as what rejects it
        elsewhere = METRICS[name].get("rejected_by_checks", {})
        assert "nearest_training_image" in labels or any(
            k.startswith("nearest_training_image") and "test_reconstructions_are_computed_not_copied" in v for k, v in elsewhere.items()), name
    assert "test_reconstructions_are_computed_not_copied" in (ROOT / "grader" / "graders" / "test_a05_autoencoders.py").read_text(encoding="utf-8")
    assert any(label.startswith("identity") for label in METRICS["denoising_mse"]["baselines"])
    for name in ("undercomplete_mse", "conv_mse"):
        assert any(k.startswith("identity") for k in METRICS[name]["rejected_by_checks"]), name
    assert any("noisy target" in label for label in METRICS["denoising_background"]["baselines"])
    assert any("no penalty" in label for label in METRICS["sparse_rho_gap"]["baselines"])
    for entry in METRICS["anomaly_auroc"]["per_class"].values():
        assert any("anomaly class" in label for label in entry["baselines"])


def grader_training_seed() -> int:
    """TRAINING_SEED of the grader, read without importing it (its markers need the grading plugin)."""
    source = (ROOT / "grader" / "graders" / "test_a05_autoencoders.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "TRAINING_SEED":
            return ast.literal_eval(node.value)
    raise AssertionError("the grader defines no TRAINING_SEED")


def test_the_grader_trains_with_the_calibrated_fixed_seed_which_passes():
    """Is the grader's fixed training seed the one recorded, does the solution pass every threshold with it, and was no
    calibration training cut by the seconds cap?"""
    assert CALIBRATION["training_seed"] == grader_training_seed()
    assert CALIBRATION["grader_seed"]["fails"] == []
    assert CALIBRATION["steps_done_min"] == CALIBRATION["budget"]["steps"]


def test_the_denoising_threshold_is_3_sd_outside_the_worst_seed():
    """Is the denoising MSE threshold >= 3 standard deviations of the seeds above the worst seed, and is the
    noisy-target mistake rejected by the background metric (which the MSE threshold no longer needs to do)?"""
    entry = METRICS["denoising_mse"]
    assert entry["threshold"] - entry["worst"] >= 3 * entry["std"] - 1e-6
    background = METRICS["denoising_background"]
    assert any("noisy target" in label for label in background["baselines"])
    assert all(fails(background, v) for v in background["baselines"].values())


def pass_rate_problems(entry: dict, budget: dict) -> list[str]:
    """What is wrong with one pass_rates entry, against this file's seconds caps (tests/pass_rates.py)."""
    return pass_rates.pass_rate_problems(entry, {"training": budget["seconds"]})


def test_pass_rates_reach_the_target():
    """Do the solution and two other correct trainings pass every trained test for >= 99 % of >= 20 seeds on a quiet
    machine, and the solution on a loaded one, with no training cut by the seconds cap?"""
    entries = CALIBRATION["pass_rates"]
    problems = {f"{e.get('trainer')} load {e.get('load')}": pass_rate_problems(e, CALIBRATION["budget"]) for e in entries}
    assert not any(problems.values()), problems
    quiet = {e["trainer"] for e in entries if e["load"] == 0}
    assert "solution" in quiet and len(quiet) >= 3, quiet
    others = [t.split("-lr-") for t in quiet - {"solution"}]
    assert any(kind != "adam" for kind, _ in others), f"no other optimiser than the solution's Adam among {sorted(quiet)}"
    assert any(kind == "adam" and float(lr) != 2e-2 for kind, lr in others), f"no other Adam learning rate among {sorted(quiet)}"
    assert any(e["trainer"] == "solution" and e["load"] >= e["nproc"] for e in entries), "no loaded run of the solution"


def test_the_pass_rate_check_rejects_bad_entries():
    """Can the pass-rate check fail: too few seeds, a low pass rate, a run cut by the seconds cap, a missing field?"""
    budget = CALIBRATION["budget"]
    good = {"trainer": "x", "load": 0, "nproc": 2, "date": "d", "seeds": 20, "passed": 20, "pass_rate": 1.0, "failed": {},
            "cut_by_seconds": [], "seconds_max": 1.0}
    assert pass_rate_problems(good, budget) == []
    assert pass_rate_problems({**good, "seeds": 5, "passed": 5}, budget)
    assert pass_rate_problems({**good, "passed": 19, "pass_rate": 0.95, "failed": {"3": ["denoising_mse"]}}, budget)
    assert pass_rate_problems({**good, "cut_by_seconds": [4]}, budget)
    assert pass_rate_problems({**good, "seconds_max": budget["seconds"]}, budget)
    assert pass_rate_problems({k: v for k, v in good.items() if k != "date"}, budget)


def test_the_graders_auroc_is_scikit_learns():
    """The grader measures AUROC with its own Mann-Whitney statistic (the student kit has no scikit-learn): does it
    equal sklearn's roc_auc_score, ties and reversed scores included, and tell a good ranking from a bad one?"""
    import importlib.util

    import numpy as np
    from sklearn.metrics import roc_auc_score

    spec = importlib.util.spec_from_file_location("a05_grader", ROOT / "grader" / "graders" / "test_a05_autoencoders.py")
    grader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grader)
    rng = np.random.default_rng(5)
    labels = rng.random(300) < 0.2
    for scores in (rng.normal(size=300) + labels, np.round(rng.normal(size=300) + labels, 1), -(rng.normal(size=300) + 2 * labels)):
        assert grader.area_under_roc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert grader.area_under_roc(labels, labels * 1.0) == 1.0 and grader.area_under_roc(labels, -1.0 * labels) == 0.0
