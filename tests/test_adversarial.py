"""Can a hostile submission raise its score, break or hang the grader, or leave anything behind?

Every file in tests/adversarial/ is a submission for the warm-up assignment that attacks the grader in one way
(its docstring says how). Each must score exactly what the unsolved release skeleton scores (0), every test must
still get a verdict, the grader must finish, and nothing may appear outside the worker's scratch folder.
"""
from __future__ import annotations

import glob
from pathlib import Path

import pytest

from grader.course import load_course
from grader.engine import grade
from grader.plugin import STATUSES
from grader.sandbox import Limits, Sandbox, bubblewrap_works
from tests.examples_manifest import grader_tests

HERE = Path(__file__).parent
A = "a00_warmup"  # the attacks in tests/adversarial/ define its functions; its points come from course.yaml
ATTACKS = sorted(p for p in (HERE / "adversarial").iterdir() if p.suffix in (".py", ".ipynb"))
# Small budgets keep the suite fast: every infinite loop costs one call limit per test.
LIMITS = Limits(submission_seconds=30, call_seconds=1.5, cpu_seconds=20, memory_mb=1024, output_kb=64, file_mb=8)
TRACES = "/tmp/grader-pwned-*"


@pytest.fixture(scope="module")
def course():
    return load_course(HERE.parent)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def skeleton(course, sandbox):
    """The release skeleton's report: the score no attack may beat."""
    release = course.root / "assignments" / A / f"{A}.ipynb"
    return grade(release, assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)


def test_skeleton_scores_zero_with_every_test_run(skeleton, course):
    """Does the unsolved release get 0 points, with a verdict for every test and no grader error?"""
    assert skeleton.score == 0
    assert len(skeleton.tests) == len(grader_tests(course, A))
    assert not skeleton.grader_errors


def test_there_are_at_least_thirty_attacks():
    """Is the adversarial suite as large as the engine's definition of done asks?"""
    assert len(ATTACKS) >= 30


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.stem)
def test_attack_scores_no_more_than_the_skeleton(attack, course, sandbox, skeleton):
    """Does this attack score what the skeleton scores, with every test judged and no trace left?"""
    for trace in glob.glob(TRACES):
        Path(trace).unlink()
    report = grade(attack, assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    assert report.score == skeleton.score, [(t.name, t.status, t.feedback) for t in report.tests if t.points]
    assert len(report.tests) == len(skeleton.tests)
    assert all(t.status in STATUSES and t.status != "passed" for t in report.tests)
    assert not report.grader_errors, [t.feedback for t in report.grader_errors]
    assert glob.glob(TRACES) == []
    assert sandbox.alive(), "the fork server must survive every submission"
    assert report.seconds < 60


def test_correct_submission_after_all_attacks_gets_full_marks(course, sandbox):
    """Did any attack persist into later gradings (patched modules, .pth files, lingering threads)?"""
    solution = course.root / "solutions" / A / f"{A}.ipynb"
    report = grade(solution, assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
    assert report.score == report.max_score == course.assignment(A).points, [(t.name, t.feedback) for t in report.tests]


def test_named_failures_explain_what_happened(course, sandbox):
    """Does the feedback say what went wrong for a crash, a timeout and a missing function?"""
    by_name = {}
    for stem in ("segfault", "infinite_loop", "hang_at_load", "os_exit_in_call"):
        report = grade(HERE / "adversarial" / f"{stem}.py", assignment_id=A, course=course, sandbox=sandbox, limits=LIMITS)
        by_name[stem] = {t.name: t for t in report.tests}
    assert by_name["segfault"]["test_sigmoid_on_random_inputs"].status == "crashed"
    assert "segmentation fault" in by_name["segfault"]["test_sigmoid_on_random_inputs"].feedback
    assert by_name["infinite_loop"]["test_relu_on_random_inputs"].status == "timeout"
    assert "time limit" in by_name["infinite_loop"]["test_relu_on_random_inputs"].feedback
    assert by_name["os_exit_in_call"]["test_softmax_rows_of_a_batch"].status == "crashed"
    assert all(t.status == "timeout" for t in by_name["hang_at_load"].values())


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap is not usable on this machine")
def test_sandbox_uses_namespaces_and_seccomp_where_available(sandbox):
    """With bubblewrap and libseccomp installed (CI installs both), is grading fully isolated, without warning?"""
    assert sandbox.isolation == {"namespaces": True, "seccomp": True, "warning": None}


def test_without_namespaces_grading_warns_loudly_and_can_refuse():
    """Where isolation is missing, does the report warn, and does --require-sandbox refuse?"""
    with Sandbox(use_namespaces=False) as weak:
        assert "WITHOUT full isolation" in weak.warning
    from grader.sandbox import SandboxError

    with pytest.raises(SandboxError, match="isolation is required"):
        Sandbox(use_namespaces=False, require_isolation=True)
