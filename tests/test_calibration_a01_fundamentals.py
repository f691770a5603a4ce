"""Is a01_fundamentals' trained task fair (grader/graders/calibration_a01_fundamentals.json, written by
benchmarks/calibrate_a01_fundamentals.py): the grader's threshold, seed and time limit are the ones measured, and the
solution and two other correct trainings (another optimiser, another learning rate) pass at >= 99 % over >= 20
training seeds, on a quiet machine and, for the solution, on a loaded one?"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from tests import pass_rates

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = json.loads((ROOT / "grader/graders/calibration_a01_fundamentals.json").read_text(encoding="utf-8"))


def grader_literals() -> dict:
    """MNIST_SEED, MNIST_THRESHOLD and MNIST_SECONDS of the grader, read without importing it."""
    source = (ROOT / "grader/graders/test_a01_fundamentals.py").read_text(encoding="utf-8")
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith("MNIST_"):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_the_measured_threshold_seed_and_limit_are_the_graders():
    literals = grader_literals()
    assert CALIBRATION["threshold"] == literals["MNIST_THRESHOLD"]
    assert CALIBRATION["training_seed"] == literals["MNIST_SEED"]
    assert CALIBRATION["seconds_cap"] == literals["MNIST_SECONDS"]


def test_pass_rates_reach_the_target_for_three_trainings_quiet_and_loaded():
    """>= 20 seeds each: the solution and two other correct trainings (another optimiser, another learning rate)
    reach the accuracy at >= 99 % on a quiet machine, and the solution on one loaded with at least nproc busy
    processes besides the calibration; no training came near the time limit."""
    entries = CALIBRATION["pass_rates"]
    problems = {f"{e.get('trainer')} load {e.get('load')}": pass_rates.pass_rate_problems(e, {"training": CALIBRATION["seconds_cap"]})
                for e in entries}
    assert not any(problems.values()), problems
    assert all(e["accuracy"]["min"] >= CALIBRATION["threshold"] for e in entries if not e["failed"])
    quiet = {e["trainer"] for e in entries if e["load"] == 0}
    assert "solution" in quiet and len(quiet) >= 3, quiet
    others = [t.split("-lr-") for t in quiet - {"solution"}]
    assert any(kind != "adam" for kind, _ in others), f"no other optimiser than the solution's Adam among {sorted(quiet)}"
    assert any(kind == "adam" for kind, _ in others), f"no Adam at another (constant) learning rate among {sorted(quiet)}"
    assert any(e["trainer"] == "solution" and e["load"] >= e["nproc"] for e in entries), "no loaded run of the solution"
