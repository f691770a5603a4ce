"""The pass-rate entries of the trained assignments' calibration files (a05, a06, a07): what makes one sound.

Each entry records, for one trainer and one machine load, how many training seeds passed every trained test
(benchmarks/calibrate_<id>.py writes them); tests/test_calibration_<id>.py checks its own file's entries here.
"""
from __future__ import annotations

MIN_SEEDS = 20
MIN_PASS_RATE = 0.99
PASS_RATE_FIELDS = ("trainer", "load", "nproc", "date", "seeds", "passed", "pass_rate", "failed", "cut_by_seconds", "seconds_max")


def pass_rate_problems(entry: dict, caps: dict[str, float], fields: tuple[str, ...] = PASS_RATE_FIELDS) -> list[str]:
    """What is wrong with one pass_rates entry (empty when it is sound and reaches the target). `caps` are the
    seconds caps of the trainings: {"training": 60.0}, or one per trained task ({"ring": 60.0, "digits": 60.0}, when
    the entry's seconds_max is per task too). A training slower than half its cap means the cap is not generous."""
    problems = [f"no {field}" for field in fields if field not in entry]
    if problems:
        return problems
    if entry["seeds"] < MIN_SEEDS:
        problems.append(f"{entry['seeds']} seeds < {MIN_SEEDS}")
    if entry["passed"] != entry["seeds"] - len(entry["failed"]) or abs(entry["pass_rate"] - entry["passed"] / entry["seeds"]) > 1e-9:
        problems.append("pass_rate does not match passed / seeds and the failed seeds")
    if entry["pass_rate"] < MIN_PASS_RATE:
        problems.append(f"pass rate {entry['pass_rate']:.2f} < {MIN_PASS_RATE}: {entry['failed']}")
    if entry["cut_by_seconds"]:
        problems.append(f"the seconds cap cut the training of seeds {entry['cut_by_seconds']}")
    seconds = entry["seconds_max"] if isinstance(entry["seconds_max"], dict) else {"training": entry["seconds_max"]}
    for name, cap in caps.items():
        if seconds[name] > cap / 2:
            problems.append(f"{name} took {seconds[name]:.1f} s, more than half the cap ({cap:g} s): the cap is not generous")
    return problems
