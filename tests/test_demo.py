"""The main job (`make demo`): the examples graded as a class, with the report, feedback pages and exports."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from grader.course import load_course
from grader.demo import run_demo

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_grades_the_examples_and_writes_every_output(tmp_path):
    text = run_demo(load_course(ROOT / "course.yaml"), tmp_path, only=["a00_warmup"], progress=False, workers=0)
    assert "graded 5, failed 0" in text
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| a00_warmup")}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin"}
    assert "| 6/6 |" in rows["alice"] and "| 3/6 |" in rows["bob"] and "| 0/6 |" in rows["erin"]
    assert "could not be read" in rows["erin"]
    assert (tmp_path / "report.md").read_text() == text
    pages = sorted(p.name for p in (tmp_path / "html" / "a00_warmup").glob("*.html"))
    assert pages == ["alice.html", "bob.html", "carol.html", "dave.html", "erin.html", "index.html"]
    assert "wrong axis" in (tmp_path / "html" / "a00_warmup" / "bob.html").read_text()
    with open(tmp_path / "exports" / "a00_warmup" / "tasks.csv", newline="") as f:
        assert {r["student"] for r in csv.DictReader(f)} == {"alice", "bob", "carol", "dave", "erin"}
    bob = json.loads((tmp_path / "exports" / "a00_warmup" / "gradescope" / "bob" / "results.json").read_text())
    assert bob["score"] == 3
    again = run_demo(load_course(ROOT / "course.yaml"), tmp_path, only=["a00_warmup"], progress=False, workers=0)
    assert "unchanged (skipped) 5" in again
