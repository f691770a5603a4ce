"""Is a06_vae's calibration file consistent, do its thresholds separate the solution from trivial models, does the
grader's fixed training seed pass, and do the recorded pass rates reach 99 %?

grader/graders/calibration_a06_vae.json is written by benchmarks/calibrate_a06_vae.py (the solution trained under the
grading budget over >= 20 seeds, plus trivial baselines measured with the same metrics, the solution at the grader's
TRAINING_SEED, and the pass rates of the solution and other correct trainings over >= 20 seeds, quiet and loaded).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests import pass_rates
import yaml

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "grader" / "graders" / "calibration_a06_vae.json"
DATA = json.loads(FILE.read_text(encoding="utf-8"))
METRICS = DATA["metrics"]


GRADER = ROOT / "grader" / "graders" / "test_a06_vae.py"


PASS_RATE_FIELDS = ("trainer", "load", "nproc", "date", "seeds", "first_seed", "passed", "pass_rate", "failed",
                    "cut_by_seconds", "seconds_max", "load_average_at_end", "seconds_total")


def grader_literal(name: str):
    """A literal the grader assigns (BUDGET, TRAINING_SEED, HARNESS_TIMEOUT), read without importing the grader (its
    pytest markers need the grading plugin)."""
    for node in ast.walk(ast.parse(GRADER.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"the grader defines no {name}")


def grader_budget() -> dict:
    return grader_literal("BUDGET")


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


def test_the_grader_trains_with_the_calibrated_fixed_seed_which_passes():
    """Does the grader train with one fixed seed (not one drawn from the secret), the one recorded here, and does the
    solution pass every trained-model check with it, with no calibration training cut by the seconds cap?"""
    source = GRADER.read_text(encoding="utf-8")
    assert DATA["training_seed"] == grader_literal("TRAINING_SEED")
    assert "run_training(submission, TRAINING_SEED)" in source and "rng.integers(2**31 - 1)" not in source
    seed = DATA["grader_seed"]
    assert set(seed["values"]) == set(METRICS)
    assert [name for name, v in seed["values"].items() if not passes(name, v)] == [] == seed["fails"]
    assert seed["check_failures"] == [] and seed["steps"] == DATA["budget"]["steps"]
    assert DATA["steps_done_min"] == DATA["budget"]["steps"]


def test_the_harness_timeout_leaves_room_for_the_seconds_cap():
    """Is the worker's wall clock for the training above the seconds cap (so the cap, not a timeout, ends a slow run),
    and the assignment's submission_seconds in course.yaml above that wall clock (room for every other test)?"""
    timeout = grader_literal("HARNESS_TIMEOUT")
    assert timeout >= DATA["budget"]["max_seconds"] + 30
    course = yaml.safe_load((ROOT / "course.yaml").read_text(encoding="utf-8"))
    entry = next(a for a in course["assignments"] if a["id"] == "a06_vae")
    submission = entry.get("limits", {}).get("submission_seconds", course["defaults"]["limits"]["submission_seconds"])
    assert submission >= timeout + 30, f"raise a06_vae's submission_seconds in course.yaml to at least {timeout + 30}"


def pass_rate_problems(entry: dict, budget: dict) -> list[str]:
    """What is wrong with one pass_rates entry, against this file's seconds caps (tests/pass_rates.py)."""
    return pass_rates.pass_rate_problems(entry, {"training": budget["max_seconds"]}, PASS_RATE_FIELDS)


def test_pass_rates_reach_the_target():
    """Do the solution and two other correct trainings (another Adam learning rate, another optimiser) pass every
    trained-model test for >= 99 % of >= 20 seeds on a quiet machine, and the solution on one loaded with at least
    nproc busy processes, with no training cut by the seconds cap?"""
    entries = DATA["pass_rates"]
    problems = {f"{e.get('trainer')} load {e.get('load')}": pass_rate_problems(e, DATA["budget"]) for e in entries}
    assert not any(problems.values()), problems
    quiet = {e["trainer"] for e in entries if e["load"] == 0}
    assert "solution" in quiet and len(quiet) >= 3, quiet
    others = [t.split("-lr-") for t in quiet - {"solution"}]
    assert any(kind != "adam" for kind, _ in others), f"no other optimiser than the solution's Adam among {sorted(quiet)}"
    assert any(kind == "adam" and float(lr) != 3e-3 for kind, lr in others), f"no other Adam learning rate among {sorted(quiet)}"
    assert any(e["trainer"] == "solution" and e["load"] >= e["nproc"] for e in entries), "no loaded run of the solution"


def test_dropped_trainers_say_why_and_are_not_the_solution():
    """Is every training left out of pass_rates (a learning rate outside the release's stated budget) recorded with its
    measured entry and a reason, and is none of them the solution or a training that pass_rates also holds?"""
    kept = {e["trainer"] for e in DATA["pass_rates"]}
    for e in DATA.get("dropped_trainers", []):
        assert e["trainer"] != "solution" and e["trainer"] not in kept, e["trainer"]
        assert len(e.get("reason", "")) > 20 and all(field in e for field in PASS_RATE_FIELDS), e["trainer"]


def test_the_pass_rate_check_rejects_bad_entries():
    """Can the pass-rate check fail: too few seeds, a low pass rate, a run cut by the seconds cap, a slow run, a
    missing field?"""
    budget = DATA["budget"]
    good = {"trainer": "x", "load": 0, "nproc": 2, "date": "d", "seeds": 20, "first_seed": 0, "passed": 20,
            "pass_rate": 1.0, "failed": {}, "cut_by_seconds": [], "seconds_max": 1.0, "load_average_at_end": [0.0] * 3,
            "seconds_total": 60.0}
    assert pass_rate_problems(good, budget) == []
    assert pass_rate_problems({**good, "seeds": 5, "passed": 5}, budget)
    assert pass_rate_problems({**good, "passed": 19, "pass_rate": 0.95, "failed": {"3": ["recall"]}}, budget)
    assert pass_rate_problems({**good, "passed": 19, "pass_rate": 1.0, "failed": {"3": ["recall"]}}, budget)
    assert pass_rate_problems({**good, "cut_by_seconds": [4]}, budget)
    assert pass_rate_problems({**good, "seconds_max": budget["max_seconds"]}, budget)
    assert pass_rate_problems({k: v for k, v in good.items() if k != "date"}, budget)


def test_the_heldout_measurement_equals_the_reference_elbo():
    """The grader (and the student kit) measure the held-out ELBO with PyTorch's BCE and torch.distributions' KL:
    does it equal reference.vae.elbo, and does it see a wrong KL (logvar doubled)?"""
    import importlib.util

    import numpy as np
    import torch

    from reference import vae

    spec = importlib.util.spec_from_file_location("a06_grader", GRADER)
    grader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grader)
    rng = np.random.default_rng(6)
    x, logits = rng.random((50, 12)), 4 * rng.normal(size=(50, 12))
    mu, logvar = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    recon, kl = grader.heldout_parts(x, logits, mu, logvar)
    expected = vae.elbo(*(torch.from_numpy(a) for a in (x, logits, mu, logvar)), logits=True)
    assert recon == pytest.approx(float(expected["recon"]), rel=1e-12)
    assert kl == pytest.approx(float(expected["kl"]), rel=1e-12)
    assert grader.heldout_parts(x, logits, mu, 2 * logvar)[1] != pytest.approx(kl, rel=1e-3)
