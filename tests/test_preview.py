"""Does `grader preview` run one assignment's quality gate, show what students would read, fail when a rule fails,
sweep secrets into --out only, and write nothing into the course?"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course
from grader.engine import GradeReport
from grader import plugin  # not `TestResult` itself, which pytest would try to collect
from grader.preview import mutant_verdict, release_verdict, solution_verdict, style_verdict
from tests.test_scaffold import copy_course, copy_course_of, scaffold, snapshot


def flat(text: str) -> str:
    return " ".join(text.split())  # verdicts are wrapped for the terminal


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return scaffold(tmp_path_factory.mktemp("preview-demo"))


def test_preview_of_one_task_of_a00_shows_verdicts_and_feedback(tmp_path, capsys):
    """On a copy of the course, does `grader preview a00_warmup --task relu` pass, print each rule's verdict and the
    feedback naming each mutant's mistake, and leave the copy as it was?"""
    course = copy_course(tmp_path)
    before = snapshot(tmp_path)
    code = main(["preview", "a00_warmup", "--task", "relu", "--course", str(course)])
    out = flat(capsys.readouterr().out)
    assert code == 0, out
    for line in ("PASS solution 1/1 the solution gets full marks", "PASS release 0/1 the release gets 0",
                 "the mutant loses points and its mistake is named", "the other correct style gets full marks"):
        assert line in out
    assert "it looks like a leaky ReLU (0.01·x for x < 0)" in out  # what the student reads
    assert "mutant 1 " not in out and "mutant 4 " in out  # only the mutants that feed relu (4-6)
    assert "all 10 gate verdicts pass" in out  # solution, release, 3 mutants, 5 styles
    assert snapshot(tmp_path) == before


def test_a_mutant_that_keeps_full_marks_fails_the_preview(demo, tmp_path, capsys):
    """When a mutant's edit changes nothing the grader sees, does preview exit 1 and say the mutant got full marks?"""
    course = copy_course_of(demo, tmp_path)
    gate = tmp_path / "tests/mutants/a08_demo.py"
    gate.write_text(gate.read_text(encoding="utf-8").replace('"return -x"', '"return x + 0"'), encoding="utf-8")
    assert main(["preview", "a08_demo", "--course", str(course)]) == 1
    out = flat(capsys.readouterr().out)
    assert "FAIL mutant 1 2/2 the mutant loses points and its mistake is named" in out
    assert "why: got full marks (2/2)" in out and "1 of 5 gate verdicts fail" in out


def test_secrets_sweep_in_parallel_into_out_only(demo, tmp_path, capsys):
    """Does --secrets 2 run the gate under sweep-0 and sweep-1 in worker processes and write the results only to
    --out?"""
    before = snapshot(demo.parent)
    out_file = tmp_path / "sweep.json"
    code = main(["preview", "a08_demo", "--secrets", "2", "--workers", "2", "--out", str(out_file), "--course", str(demo)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no gate verdict failed under any of the 2 secrets" in out
    result = json.loads(out_file.read_text(encoding="utf-8"))
    assert sorted(r["secret"] for r in result["runs"]) == ["sweep-0", "sweep-1"]
    assert all(len(r["verdicts"]) == 5 and all(v["ok"] for v in r["verdicts"]) for r in result["runs"])
    assert result["failures"] == {}
    assert snapshot(demo.parent) == before


def test_a_correct_only_sweep_grades_the_solution_and_styles_alone(demo):
    """benchmarks/gate_sweep.py --correct-only: does the sweep grade only what must get full marks (the solution and
    the other correct styles), with no release and no mutant?"""
    from grader.preview import sweep

    result = sweep(load_course(demo), "a08_demo", ["only-0"], workers=1, correct_only=True)
    subjects = [v["subject"] for v in result["runs"][0]["verdicts"]]
    assert subjects[0] == "solution" and subjects[1:] and all(s.startswith("style") for s in subjects[1:]), subjects
    assert result["failures"] == {}


BAD_ARGUMENTS = {
    "out-without-secrets": (["preview", "a00_warmup", "--out", "x.json"], "--out holds the results of --secrets N"),
    "zero-secrets": (["preview", "a00_warmup", "--secrets", "0"], "--secrets must be 1 or more"),
    "unknown-assignment": (["preview", "a99_nope"], "no assignment 'a99_nope'"),
}


@pytest.mark.parametrize("argv, message", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_exit_2(argv, message, tmp_path, capsys):
    """Are impossible options refused with exit 2 and a message, before anything runs?"""
    assert main([*argv, "--course", str(Path(__file__).resolve().parent.parent)]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_task_exits_2(tmp_path, capsys):
    """Does --task with a task the assignment lacks exit 2 and list the tasks?"""
    course = copy_course(tmp_path)
    assert main(["preview", "a00_warmup", "--task", "no_such_task", "--course", str(course)]) == 2
    tasks = ", ".join(t.id for t in load_course(course).assignment("a00_warmup").tasks)
    assert f"no task 'no_such_task' in a00_warmup (tasks: {tasks})" in capsys.readouterr().err


def result(name: str, status: str, points: float, feedback: str = "", grader_error: bool = False) -> plugin.TestResult:
    return plugin.TestResult(name=name, title=name, points=points if status == "passed" else 0.0, max_points=points,
                      status=status, visibility="public", feedback=feedback, grader_error=grader_error)


def report(*tests: plugin.TestResult) -> GradeReport:
    return GradeReport(assignment="a00_warmup", student="quality-gate", tests=list(tests))


def test_the_rules_fail_where_the_gate_fails():
    """Do the rules that `grader release` and the preview share reject what tests/test_assignments.py rejects:
    a solution short of full marks, a release that scores, one with a grader error or a test missing, a mutant
    with full marks or unnamed, a style short of full marks?"""
    ok, bad = result("test_a", "passed", 1), result("test_b", "failed", 1, "`y` is wrong")
    assert solution_verdict(report(ok, result("test_b", "passed", 1)), 2).ok
    assert not solution_verdict(report(ok, bad), 2).ok and "test_b failed" in solution_verdict(report(ok, bad), 2).why
    assert not solution_verdict(report(ok), 2).ok  # full marks on its tests, but course.yaml says 2 points
    assert not solution_verdict(report(), 0).ok
    zero = report(result("test_a", "error", 1, "not implemented"), result("test_b", "error", 1, "not implemented"))
    assert release_verdict(zero, 2).ok
    assert not release_verdict(zero, 3).ok
    assert "test_a" in release_verdict(report(ok, bad), 2).why
    crashed = report(result("test_a", "error", 1, "the grader itself failed", grader_error=True), bad)
    assert not release_verdict(crashed, 2).ok
    assert mutant_verdict(report(ok, bad), "mutant 1", "is wrong").ok
    assert not mutant_verdict(report(ok, bad), "mutant 1", "a leaky ReLU").ok
    assert not mutant_verdict(report(ok, result("test_b", "passed", 1)), "mutant 1", "is wrong").ok
    assert style_verdict(report(ok), "style 1").ok and not style_verdict(report(ok, bad), "style 1").ok



def test_a_weak_but_correct_mutant_told_a_named_mistake_fails_the_gate():
    """A `names_no_mistake` mutant (correct, under-trained) must get the measurement only: the gate fails when its
    feedback names a mistake ("it looks like ...", or another mutant's mistake for the cell), and not otherwise."""
    from types import SimpleNamespace

    from grader.preview import mutant_verdict, not_named_for
    from tests.mutants import Mutant

    weak = Mutant("train", "lr=1e-2", "lr=1e-7", "is below the required", names_no_mistake=True)
    mutants = [weak, Mutant("train", "opt.step()\n", "", "Is optimizer.step() called")]
    not_named = not_named_for(weak, mutants)
    assert set(not_named) == {"it looks like", "Is optimizer.step() called"}
    assert not_named_for(mutants[1], mutants) == ()

    def report(feedback):
        test = SimpleNamespace(name="t", status="failed", feedback=feedback, title="t", visibility="public", points=0,
                               max_points=1)
        return SimpleNamespace(score=0.0, max_score=1.0, tests=[test], grader_errors=[])

    assert mutant_verdict(report("accuracy 0.5 is below the required 0.9"), "m", weak.feedback, not_named).ok
    told = mutant_verdict(report("accuracy 0.5 is below the required 0.9. Is optimizer.step() called?"), "m",
                          weak.feedback, not_named)
    assert not told.ok and "does not make" in told.why
