"""Is a06_vae's calibration file consistent, and do its thresholds separate the solution from trivial models?

grader/graders/calibration_a06_vae.json is written by benchmarks/calibrate_a06_vae.py (the solution trained under the
grading budget over >= 20 seeds, plus trivial baselines measured with the same metrics).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "grader" / "graders" / "calibration_a06_vae.json"
DATA = json.loads(FILE.read_text(encoding="utf-8"))
METRICS = DATA["metrics"]


GRADER = ROOT / "grader" / "graders" / "test_a06_vae.py"


def grader_budget() -> dict:
    """The grader's BUDGET literal, read without importing the grader (its pytest markers need the grading plugin)."""
    for node in ast.walk(ast.parse(GRADER.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "BUDGET" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("the grader defines no BUDGET")


def passes(name: str, value: float) -> bool:
    m = METRICS[name]
    return value <= m["threshold"] if m["direction"] == "lower is better" else value >= m["threshold"]


def test_made_under_the_graders_budget_with_at_least_20_seeds():
    """Was the file made with the grader's budget, over >= 20 distinct seeds, every metric measured on each?"""
    assert DATA["budget"] == grader_budget()
    assert len(DATA["seeds"]) >= 20 and len(set(DATA["seeds"])) == len(DATA["seeds"])
    for name, m in METRICS.items():
        assert len(m["values"]) == len(DATA["seeds"]), name


def test_the_grader_checks_every_calibrated_metric():
    """Does the grader read its thresholds from this file, and compare every calibrated metric with one?"""
    source = GRADER.read_text(encoding="utf-8")
    assert 'with_name("calibration_a06_vae.json")' in source
    for name in METRICS:
        assert f'threshold("{name}")' in source or f"threshold('{name}')" in source, name


@pytest.mark.parametrize("name", sorted(METRICS))
def test_threshold_passes_every_seed_with_the_stated_margin(name):
    """Does every calibration seed pass, at least `margin` inside the threshold, with a false-fail rate < 1 %?"""
    m = METRICS[name]
    lower = m["direction"] == "lower is better"
    worst = max(m["values"]) if lower else min(m["values"])
    assert worst == pytest.approx(m["worst"], abs=1e-5)
    assert m["margin"] > 0
    assert abs(m["threshold"] - worst) == pytest.approx(m["margin"], abs=1e-3)
    for v in m["values"]:
        inside = (m["threshold"] - v) if lower else (v - m["threshold"])
        assert inside >= m["margin"] - 1e-3, (name, v)
    fails = sum(not passes(name, v) for v in m["values"]) / len(m["values"])
    assert fails == m["false_fail_rate"] == 0.0 and fails < 0.01


@pytest.mark.parametrize("baseline", ["input_mean", "memoriser", "kl_dropped", "uniform_z_sampler"])
def test_trivial_baselines_fail(baseline):
    """Does each trivial model (ignores its input, memorises the training set, KL dropped, uniform z) fail a threshold?"""
    must_fail = DATA["must_fail"][baseline]
    values = DATA["baselines"][baseline]
    failed = [name for name in must_fail if name in values and not passes(name, values[name])]
    assert failed, f"{baseline} passes every threshold it must fail: {[(n, values.get(n)) for n in must_fail]}"


def test_the_specific_cheats_fail_the_metric_meant_to_catch_them():
    """Input-ignoring model: ELBO and recall; memoriser: the memorisation check; KL dropped: ELBO on every seed."""
    b = DATA["baselines"]
    assert not passes("heldout_neg_elbo", b["input_mean"]["heldout_neg_elbo"])
    assert not passes("recall", b["input_mean"]["recall"])
    assert not passes("swap_ratio", b["input_mean"]["swap_ratio"])
    assert not passes("memorisation_ratio", b["memoriser"]["memorisation_ratio"])
    assert not passes("sample_recall", b["uniform_z_sampler"]["sample_recall"])
    assert b["kl_dropped_seeds"] and all(not passes("heldout_neg_elbo", s["heldout_neg_elbo"]) for s in b["kl_dropped_seeds"])
    assert str(b["identity"]).startswith("not applicable")
