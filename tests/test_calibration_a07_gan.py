"""Is a07_gan's calibration (grader/graders/calibration_a07_gan.json, written by benchmarks/calibrate_a07_gan.py)
consistent: enough seeds, thresholds that every calibration seed passes with the stated margin, a false-fail rate
under 1 %, the grader's budget, and trivial baselines (ignoring z, memorising, noise, a constant image, the mode
centres) that fail?"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = json.loads((ROOT / "grader/graders/calibration_a07_gan.json").read_text(encoding="utf-8"))
METRICS = CALIBRATION["metrics"]


def failing(value, entry) -> bool:
    return value < entry["threshold"] if entry["direction"] == "min" else value > entry["threshold"]


def test_at_least_20_seeds():
    assert len(CALIBRATION["seeds"]) >= 20
    assert all(len(entry["values"]) == len(CALIBRATION["seeds"]) for entry in METRICS.values())


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_seed_passes_with_the_stated_margin(name):
    entry = METRICS[name]
    values = entry["values"]
    worst = min(values) if entry["direction"] == "min" else max(values)
    assert worst == entry["worst"]
    margin = worst - entry["threshold"] if entry["direction"] == "min" else entry["threshold"] - worst
    assert margin == pytest.approx(entry["margin"])
    assert margin > 0, (name, margin)
    false_fails = sum(failing(v, entry) for v in values) / len(values)
    assert false_fails == entry["false_fail_rate"] < 0.01


def test_the_grader_reads_these_thresholds_and_budget():
    """The grader loads this file, and its budgets (RING, DIGITS) are the ones calibrated; no run was cut short."""
    import ast

    source = (ROOT / "grader/graders/test_a07_gan.py").read_text(encoding="utf-8")
    assert '"calibration_a07_gan.json"' in source
    budgets = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ("RING", "DIGITS"):
            budgets[node.targets[0].id] = ast.literal_eval(node.value)
    assert CALIBRATION["budget"]["ring"] == json.loads(json.dumps(budgets["RING"]))
    assert CALIBRATION["budget"]["digits"] == json.loads(json.dumps(budgets["DIGITS"]))
    assert all(steps == budgets["RING"]["steps"] for steps in CALIBRATION["steps_done"]["ring"]), "the seconds cap cut a calibration run"
    assert all(steps == budgets["DIGITS"]["steps"] for steps in CALIBRATION["steps_done"]["digits"]), "the seconds cap cut a calibration run"


@pytest.mark.parametrize("name", sorted(CALIBRATION["baselines"]))
def test_trivial_baselines_fail(name):
    baseline = CALIBRATION["baselines"][name]
    fails = [m for m, v in baseline["metrics"].items() if m in METRICS and failing(v, METRICS[m])]
    assert fails, f"{name} passes every threshold"
    assert fails == baseline["fails"]


def test_the_baselines_cover_the_required_cheats():
    names = " ".join(CALIBRATION["baselines"])
    for cheat in ("ignores z", "memorises", "noise", "constant image", "mode centres"):
        assert cheat in names
