"""Does a pass-rate run add its entry to a calibration file without losing another's (benchmarks/calibration_file.py)?"""
from __future__ import annotations

import json
import multiprocessing

from benchmarks.calibration_file import add_pass_rate


def _add(path, trainer: str) -> None:
    for load in range(5):
        add_pass_rate(path, {"trainer": trainer, "load": load, "passed": 20})


def test_an_entry_replaces_its_trainer_and_load_and_keeps_the_rest(tmp_path):
    path = tmp_path / "calibration_x.json"
    path.write_text(json.dumps({"metrics": {"m": 1}, "pass_rates": [{"trainer": "solution", "load": 0, "passed": 19},
                                                                    {"trainer": "solution", "load": 2, "passed": 20}]}))
    add_pass_rate(path, {"trainer": "solution", "load": 0, "passed": 20})
    data = json.loads(path.read_text())
    assert data["metrics"] == {"m": 1}
    assert sorted((e["load"], e["passed"]) for e in data["pass_rates"]) == [(0, 20), (2, 20)]


def test_runs_writing_at_once_lose_no_entry(tmp_path):
    path = tmp_path / "calibration_y.json"
    path.write_text(json.dumps({"pass_rates": []}))
    procs = [multiprocessing.get_context("spawn").Process(target=_add, args=(path, f"t{i}")) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(json.loads(path.read_text())["pass_rates"]) == 4 * 5
