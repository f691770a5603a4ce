"""Is grader/graders/calibration_a05_autoencoders.json (written by benchmarks/calibrate_a05_autoencoders.py) a
sound calibration: enough seeds, every seed of the solution passes with the stated margin, no false fails, and
every trivial baseline (the mean image, the nearest training image, the input itself, the named mistakes) fails?"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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
    assert set(METRICS) == {"undercomplete_mse", "denoising_mse", "sparse_rho_gap", "conv_mse", "anomaly_auroc"}
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
        assert "mean_image" in labels and "nearest_training_image" in labels, name
    assert any(label.startswith("identity") for label in METRICS["denoising_mse"]["baselines"])
    for name in ("undercomplete_mse", "conv_mse"):
        assert any(k.startswith("identity") for k in METRICS[name]["rejected_by_checks"]), name
    assert any("noisy target" in label for label in METRICS["denoising_mse"]["baselines"])
    assert any("no penalty" in label for label in METRICS["sparse_rho_gap"]["baselines"])
    for entry in METRICS["anomaly_auroc"]["per_class"].values():
        assert any("anomaly class" in label for label in entry["baselines"])
