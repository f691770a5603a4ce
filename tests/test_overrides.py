"""Do an instructor's overrides survive regrades, get flagged when what they judged changed, and reach every export?"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from grader import export as export_module
from grader.cli import main
from grader.deadlines import Deadline, lateness, parse_policy, parse_time
from grader.export import canvas_csv, class_scores, gradescope_results, tasks_csv
from grader.gradebook import Gradebook, SubmissionRecord
from grader.gradebook import TestRecord as Verdict  # not "Test...": pytest would try to collect it
from grader.overrides import OverrideError, set_override
from tests.conftest import SMALL_ASSIGNMENT, small_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = small_course()  # not course.yaml: the numbers below stay what they are when a real assignment changes
A = SMALL_ASSIGNMENT  # tasks sigmoid (2 points), relu (1), softmax (3)
SCHEMA = json.loads((ROOT / "tests/data/export/gradescope_results.schema.json").read_text())
RELU = "test_relu_on_random_inputs"  # a function of the small course's grader file, so its source is fingerprinted
REASON = "regrade request: a leaky ReLU with slope 0 was accepted"


def bob_tests(relu_score: float = 0.0) -> list[Verdict]:
    def v(name, task, score, top, hidden=False):
        return Verdict(test=name, task=task, title=name, visibility="hidden" if hidden else "public",
                       status="passed" if score == top else "failed", score=score, max_score=top, feedback="",
                       seconds=0.01)
    return [v("test_sigmoid_on_random_inputs", "sigmoid", 1, 1), v("test_sigmoid_keeps_shape", "sigmoid", 1, 1, True),
            v(RELU, "relu", relu_score, 1), v("test_softmax_rows", "softmax", 0, 1),
            v("test_softmax_stable", "softmax", 1, 2, True)]


def grade_bob(gb: Gradebook, *, digest: str = "hash-1", relu_score: float = 0.0) -> None:
    tests = bob_tests(relu_score)
    gb.record(SubmissionRecord(
        assignment=A, student="bob", status="graded", score=sum(t.score for t in tests), max_score=6,
        submission_hash=digest, grader_version="v1", path="bob.py", started_at=0.0, finished_at=1.0), tests)


@pytest.fixture
def gradebook(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        grade_bob(gb)
        yield gb


def bob(gb: Gradebook):
    return next(s for s in class_scores(gb, COURSE, A).students if s.student == "bob")


def test_a_test_override_changes_that_test_its_task_and_the_total(gradebook):
    set_override(gradebook, COURSE, A, "bob", kind="test", target=RELU, points=1, reason=REASON)
    s = bob(gradebook)
    assert (s.raw_total, s.total, s.by_task["relu"]) == (3, 4, 1)
    assert next(t for t in s.tests if t.test == RELU).overridden == REASON
    assert not s.needs_review


def test_an_override_survives_a_regrade_and_is_flagged_when_the_submission_changed(gradebook):
    set_override(gradebook, COURSE, A, "bob", kind="test", target=RELU, points=1, reason=REASON)
    grade_bob(gradebook)  # the same submission graded again (e.g. --force)
    assert bob(gradebook).total == 4 and not bob(gradebook).needs_review
    grade_bob(gradebook, digest="hash-2")  # the student resubmitted
    s = bob(gradebook)
    assert s.total == 4 and s.needs_review
    assert "the submission changed since" in s.overrides[0].describe()


def test_an_override_is_flagged_when_the_test_it_overrode_was_rewritten(gradebook, monkeypatch):
    set_override(gradebook, COURSE, A, "bob", kind="test", target=RELU, points=1, reason=REASON)
    real = export_module.test_sources
    monkeypatch.setattr(export_module, "test_sources",
                        lambda course, aid: {**real(course, aid), RELU: "def test_relu_on_random_inputs(): ..."})
    s = bob(gradebook)
    assert s.needs_review and "grader test changed" in s.overrides[0].needs_review


def test_a_task_override_has_the_last_word_over_its_tests(gradebook):
    set_override(gradebook, COURSE, A, "bob", kind="test", target="test_softmax_rows", points=1, reason="ok")
    set_override(gradebook, COURSE, A, "bob", kind="task", target="softmax", points=2.5, reason="partial credit")
    s = bob(gradebook)
    assert s.by_task["softmax"] == 2.5 and s.total == 2 + 0 + 2.5


def test_overrides_and_lateness_show_in_every_export(gradebook):
    set_override(gradebook, COURSE, A, "bob", kind="test", target=RELU, points=1, reason=REASON)
    due = parse_time("2026-11-20T23:59:00+00:00")
    gradebook.set_lateness(A, "bob", lateness(Deadline(due, parse_policy({"per_day": 25})), due + 3600,
                                               time_source="nbgrader timestamp.txt"))
    s = bob(gradebook)
    assert (s.raw_total, s.total) == (3, 3.0)  # (3 + 1) * 0.75
    rows = list(csv.DictReader(io.StringIO(tasks_csv(gradebook, COURSE, A))))
    assert rows[0]["total"] == "3" and rows[0]["raw"] == "3" and rows[0]["days_late"] == "1"
    assert rows[0]["late_penalty_percent"] == "25" and REASON in rows[0]["overrides"]
    assert list(csv.reader(io.StringIO(canvas_csv(gradebook, COURSE, A))))[2][-1] == "3"
    doc = gradescope_results(gradebook, COURSE, A)["bob"]
    jsonschema.validate(doc, SCHEMA)
    assert doc["score"] == 3 and "1 day late" in doc["output"] and REASON in doc["output"]
    relu = next(t for t in doc["tests"] if t["extra_data"]["test"] == RELU)
    assert (relu["score"], relu["status"]) == (1, "passed") and REASON in relu["output"]


@pytest.mark.parametrize(("student", "kind", "target", "points", "reason", "message"), [
    ("zoe", "test", RELU, 1, REASON, "'zoe' has no graded submission.*graded: bob"),
    ("bob", "test", "test_nothing", 1, REASON, f"no test 'test_nothing'; its tests: .*{RELU}"),
    ("bob", "task", "nothing", 1, REASON, "no task 'nothing'.*sigmoid, relu, softmax"),
    ("bob", "test", RELU, 2, REASON, r"outside 0\.\.1"),
    ("bob", "task", "softmax", -1, REASON, r"outside 0\.\.3"),
    ("bob", "test", RELU, float("nan"), REASON, "not NaN"),
    ("bob", "test", RELU, 1, "  ", "give the reason"),
])
def test_a_bad_override_is_refused_with_what_to_give(gradebook, student, kind, target, points, reason, message):
    with pytest.raises(OverrideError, match=message):
        set_override(gradebook, COURSE, A, student, kind=kind, target=target, points=points, reason=reason)
    assert gradebook.overrides(A) == []


def test_the_command_line_sets_lists_and_removes_an_override(tmp_path, capsys):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        grade_bob(gb)
    base = ["override", "--gradebook", str(tmp_path / "gb.sqlite"), "--assignment", A, "--course", str(COURSE.path)]
    assert main([*base, "--student", "bob", "--test", RELU, "--points", "1", "--reason", REASON]) == 0
    assert main([*base, "--list"]) == 0
    assert f"bob: test {RELU}: 0 -> 1 by the instructor ({REASON})" in capsys.readouterr().out
    assert main([*base, "--student", "bob", "--test", RELU, "--points", "5", "--reason", "x"]) == 2
    assert "outside 0..1" in capsys.readouterr().err
    assert main([*base, "--student", "bob", "--test", RELU, "--remove"]) == 0
    assert main([*base, "--list"]) == 0
    assert "no overrides" in capsys.readouterr().out


def test_the_students_page_shows_the_final_score_the_raw_one_and_why(gradebook, tmp_path):
    from grader.html_report import write_reports

    set_override(gradebook, COURSE, A, "bob", kind="test", target=RELU, points=1, reason=REASON)
    page = write_reports(gradebook, COURSE, A, tmp_path / "html")[0].read_text()
    assert "Final score: 4 / 6" in page and "The grader gave 3" in page and REASON in page
    gradebook.remove_override(A, "bob", "test", RELU)
    assert "Final score" not in write_reports(gradebook, COURSE, A, tmp_path / "html")[0].read_text()
