"""Is a07_gan's calibration (grader/graders/calibration_a07_gan.json, written by benchmarks/calibrate_a07_gan.py)
consistent: enough seeds, thresholds that every calibration seed passes with the stated margin, a false-fail rate
under 1 %, the grader's budget and fixed training seed, trivial baselines (ignoring z, memorising, noise, a constant
image, the mode centres) and hand-made continuous generators that fail, and pass rates of >= 99 % for the solution
and two other correct trainings over >= 20 seeds, on a quiet machine and on a loaded one?"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests import pass_rates

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = json.loads((ROOT / "grader/graders/calibration_a07_gan.json").read_text(encoding="utf-8"))
METRICS = CALIBRATION["metrics"]
MIN_SEEDS = pass_rates.MIN_SEEDS


def failing(value, entry) -> bool:
    return value < entry["threshold"] if entry["direction"] == "min" else value > entry["threshold"]


def grader_literals() -> dict:
    """RING, DIGITS and TRAINING_SEED of the grader, read without importing it (its markers need the plugin)."""
    source = (ROOT / "grader/graders/test_a07_gan.py").read_text(encoding="utf-8")
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ("RING", "DIGITS", "TRAINING_SEED"):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def pass_rate_problems(entry: dict, budget: dict) -> list[str]:
    """What is wrong with one pass_rates entry, against this file's seconds caps (tests/pass_rates.py)."""
    return pass_rates.pass_rate_problems(entry, {task: budget[task]["seconds"] for task in ("ring", "digits")})


def test_at_least_20_seeds():
    assert len(CALIBRATION["seeds"]) >= MIN_SEEDS
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


def test_the_grader_reads_these_thresholds_budget_and_training_seed():
    """The grader loads this file, its budgets (RING, DIGITS) and its fixed TRAINING_SEED are the ones calibrated, no
    run was cut short, and the solution passes at the grader's own seed."""
    source = (ROOT / "grader/graders/test_a07_gan.py").read_text(encoding="utf-8")
    assert '"calibration_a07_gan.json"' in source
    literals = grader_literals()
    assert CALIBRATION["budget"]["ring"] == json.loads(json.dumps(literals["RING"]))
    assert CALIBRATION["budget"]["digits"] == json.loads(json.dumps(literals["DIGITS"]))
    assert CALIBRATION["training_seed"] == literals["TRAINING_SEED"]
    assert all(steps == literals["RING"]["steps"] for steps in CALIBRATION["steps_done"]["ring"]), "the seconds cap cut a calibration run"
    assert all(steps == literals["DIGITS"]["steps"] for steps in CALIBRATION["steps_done"]["digits"]), "the seconds cap cut a calibration run"
    assert CALIBRATION["grader_seed"]["fails"] == []
    assert not [m for m, v in CALIBRATION["grader_seed"]["metrics"].items() if failing(v, METRICS[m])]


@pytest.mark.parametrize("name", sorted(CALIBRATION["baselines"]))
def test_trivial_baselines_fail(name):
    baseline = CALIBRATION["baselines"][name]
    fails = [m for m, v in baseline["metrics"].items() if m in METRICS and failing(v, METRICS[m])]
    assert fails, f"{name} passes every threshold"
    assert fails == baseline["fails"]


def test_the_baselines_cover_the_required_cheats():
    names = " ".join(CALIBRATION["baselines"])
    for cheat in ("ignores z", "memorises", "noise", "constant image", "mode centres", "2z", "G(z) = z", "circle", "blob",
                  "training mean + "):
        assert cheat in names


@pytest.mark.parametrize("name", sorted(CALIBRATION["hand_made"]))
def test_hand_made_generators_lose_the_coverage_points(name):
    """A continuous G(z) made by hand, with no training, fails a metric of its task's coverage test: on the ring (2z,
    z, a circle through the modes, a blob) test_ring_gan_covers_the_modes, on the digits (the training mean plus
    a·std·(a random linear map of z), at every amplitude) test_digit_gan_precision_coverage_and_classes."""
    task = CALIBRATION["hand_made"][name]
    assert set(CALIBRATION["coverage_metrics"][task]) <= set(METRICS)
    assert set(CALIBRATION["baselines"][name]["fails"]) & set(CALIBRATION["coverage_metrics"][task]), name


def test_hand_made_generators_are_tried_on_both_tasks():
    """The ring's four hand-made shapes, and the digits' mean-plus-noise from near the mean (high precision) to noisy
    (many classes), are all measured."""
    tasks = list(CALIBRATION["hand_made"].values())
    assert tasks.count("ring") >= 4 and tasks.count("digits") >= 5
    amplitudes = [float(n.split("mean + ")[1].split(" std")[0]) for n, task in CALIBRATION["hand_made"].items() if task == "digits"]
    assert min(amplitudes) <= 0.25 and max(amplitudes) >= 2.0


def test_pass_rates_reach_the_target_for_three_trainings_quiet_and_loaded():
    """>= 20 seeds each: the solution and two other correct trainings (another optimiser, another learning rate)
    pass every trained test at >= 99 % on a quiet machine, and the solution on one loaded with at least nproc busy
    processes besides the calibration; no run was cut by the seconds cap."""
    entries = CALIBRATION["pass_rates"]
    budget = CALIBRATION["budget"]
    problems = {f"{e.get('trainer')} load {e.get('load')}": pass_rate_problems(e, budget) for e in entries}
    assert not any(problems.values()), problems
    quiet = {e["trainer"] for e in entries if e["load"] == 0}
    assert "solution" in quiet and len(quiet) >= 3, quiet
    others = [t.split("-lr-") for t in quiet - {"solution"}]
    assert any(kind != "adam" for kind, _ in others), f"no other optimiser than the solution's Adam among {sorted(quiet)}"
    assert any(kind == "adam" and float(lr) != 2e-3 for kind, lr in others), f"no other Adam learning rate among {sorted(quiet)}"
    assert any(e["trainer"] == "solution" and e["load"] >= e["nproc"] for e in entries), "no loaded run of the solution"


def test_the_pass_rate_check_rejects_bad_entries():
    """Can the pass-rate check fail: too few seeds, a low pass rate, a run cut by the seconds cap?"""
    budget = CALIBRATION["budget"]
    good = {"trainer": "x", "load": 0, "nproc": 2, "date": "d", "seeds": 20, "passed": 20, "pass_rate": 1.0, "failed": {},
            "cut_by_seconds": [], "seconds_max": {"ring": 1.0, "digits": 1.0}}
    assert pass_rate_problems(good, budget) == []
    assert pass_rate_problems({**good, "seeds": 5, "passed": 5}, budget)
    assert pass_rate_problems({**good, "passed": 18, "pass_rate": 0.9, "failed": {"3": ["ring_modes"], "7": ["ring_contrast"]}}, budget)
    assert pass_rate_problems({**good, "cut_by_seconds": [4]}, budget)
    assert pass_rate_problems({**good, "seconds_max": {"ring": 59.0, "digits": 1.0}}, budget)
    assert pass_rate_problems({k: v for k, v in good.items() if k != "date"}, budget)
