"""Does a task's forbidden call cost that task's points, named with the notebook's reason, however it is written,
while correct code (the solutions, other styles, allowed calls and look-alikes) keeps full marks?"""
from __future__ import annotations

import importlib
import os
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from grader import worker
from grader.course import load_course
from grader.engine import grade
from grader.sandbox import Sandbox
from grader.shortcuts import Rule, find_shortcuts, rules_of

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)
SECRET = os.environ["GATE_SECRET"].encode()

CONV = Rule("conv2d", ("torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d"), ("conv2d",), "do not call `F.conv2d`")
AUTOGRAD = Rule(
    "bptt", ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward", "torch.func"), ("bptt",),
    "no autograd",
)


def read(tmp_path: Path, source: str, rule: Rule):
    """What the static reading finds in a .py submission (one answer cell) for one rule."""
    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(source))
    notebook = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(notebook))
    return find_shortcuts(notebook, path, {rule.task: rule})


# --------------------------------------------------------------------------------------------- the static reading
USES = {
    "module alias": (CONV, "import torch.nn.functional as F\ndef conv2d(x, w):\n    return F.conv2d(x, w)\n"),
    "full name": (CONV, "import torch\ndef conv2d(x, w):\n    return torch.nn.functional.conv2d(x, w)\n"),
    "from-import alias": (CONV, "from torch.nn.functional import conv2d as c\ndef conv2d(x, w):\n    return c(x, w)\n"),
    "from-import of the module": (CONV, "from torch.nn import functional as fn\ndef conv2d(x, w):\n    return fn.conv2d(x, w)\n"),
    "the same function under torch": (CONV, "import torch\ndef conv2d(x, w):\n    return torch.conv2d(x, w)\n"),
    "the module class": (CONV, "import torch.nn as nn\ndef conv2d(x, w):\n    m = nn.Conv2d(1, 1, 3)\n    return m(x)\n"),
    "the name bound to the function": (CONV, "import torch.nn.functional as F\nconv2d = F.conv2d\n"),
    "imported under the answer's name": (CONV, "from torch.nn.functional import conv2d\n"),
    "a lambda": (CONV, "import torch.nn.functional as F\nconv2d = lambda x, w: F.conv2d(x, w)\n"),
    "a top-level alias": (CONV, "import torch.nn.functional as F\nc = F.conv2d\ndef conv2d(x, w):\n    return c(x, w)\n"),
    "a local alias": (CONV, "import torch\ndef conv2d(x, w):\n    c = torch.nn.functional.conv2d\n    return c(x, w)\n"),
    "a local import": (CONV, "def conv2d(x, w):\n    from torch.nn.functional import conv2d as c\n    return c(x, w)\n"),
    "getattr with a constant": (CONV, "import torch.nn.functional as F\ndef conv2d(x, w):\n    return getattr(F, 'conv2d')(x, w)\n"),
    "a star import": (AUTOGRAD, "from torch.autograd import *\ndef bptt(xs, w):\n    return grad((w * xs).sum(), w)\n"),
    "through a helper": (CONV, "import torch.nn.functional as F\ndef helper(x, w):\n    return F.conv2d(x, w)\n"
                              "def conv2d(x, w):\n    return helper(x, w)\n"),
    "through a class": (CONV, "import torch.nn.functional as F\nclass Conv:\n    def run(self, x, w):\n"
                              "        return F.conv2d(x, w)\ndef conv2d(x, w):\n    return Conv().run(x, w)\n"),
    "through a partial": (CONV, "import functools, torch.nn.functional as F\nc = functools.partial(F.conv2d, stride=1)\n"
                                "def conv2d(x, w):\n    return c(x, w)\n"),
    "Tensor.backward as a method": (AUTOGRAD, "def bptt(xs, w):\n    loss = (w * xs).sum()\n    loss.backward()\n    return w.grad\n"),
    "autograd.grad from-import": (AUTOGRAD, "from torch.autograd import grad\ndef bptt(xs, w):\n    return grad((w * xs).sum(), w)\n"),
    "torch.func": (AUTOGRAD, "import torch\ndef bptt(xs, w):\n    return torch.func.grad(lambda v: (v * xs).sum())(w)\n"),
}


@pytest.mark.parametrize("rule, source", USES.values(), ids=USES.keys())
def test_every_way_of_writing_a_forbidden_call_is_found(tmp_path, rule, source):
    """Is the forbidden call found through imports, aliases, helpers, classes, lambdas and methods?"""
    findings = read(tmp_path, source, rule)
    assert findings.uses.get(rule.task), f"not found in:\n{source}"
    assert not findings.dynamic
    use = findings.uses[rule.task][0]
    assert use.call in rule.calls and use.line > 0 and use.cell == "submission"


ALLOWED = {
    "own loops": (CONV, "import torch\ndef conv2d(x, w):\n    return torch.einsum('bchw,ochw->bo', x, w)\n"),
    "unfold, not conv2d": (CONV, "import torch.nn.functional as F\ndef conv2d(x, w):\n    return F.unfold(x, 3)\n"),
    "the call outside the covered functions": (
        CONV, "import torch.nn.functional as F\ndef check(x, w):\n    return F.conv2d(x, w)\ndef conv2d(x, w):\n    return x\n"),
    "the call in a top-level experiment": (CONV, "import torch.nn.functional as F\nprint(F.conv2d(1, 2))\ndef conv2d(x, w):\n    return x\n"),
    "a redefinition wins": (CONV, "import torch.nn.functional as F\ndef conv2d(x, w):\n    return F.conv2d(x, w)\n"
                                  "def conv2d(x, w):\n    return x * w\n"),
    "a local name hides the module": (CONV, "import torch.nn.functional as F\ndef conv2d(x, w):\n    F = x\n"
                                            "    return F.conv2d(w)\n"),
    "no_grad is not autograd": (AUTOGRAD, "import torch\ndef bptt(xs, w):\n    with torch.no_grad():\n"
                                          "        return (w * xs).sum()\n"),
    "the student's own backward method": (
        AUTOGRAD, "class Layer:\n    def backward(self, g):\n        return g\ndef bptt(xs, w):\n    return Layer().backward(xs)\n"),
}


@pytest.mark.parametrize("rule, source", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_code_is_not_taken_for_a_forbidden_call(tmp_path, rule, source):
    """Is code that does not call the forbidden names, or calls them outside the task's functions, left alone?"""
    findings = read(tmp_path, source, rule)
    assert not findings.uses and not findings.dynamic


DYNAMIC = {
    "getattr with a computed name": "import torch.nn.functional as F\ndef conv2d(x, w):\n    return getattr(F, 'conv' + '2d')(x, w)\n",
    "__import__": "def conv2d(x, w):\n    return __import__('torch.nn.functional').nn.functional.conv2d(x, w)\n",
    "importlib": "import importlib\ndef conv2d(x, w):\n    return importlib.import_module('torch.nn.functional').conv2d(x, w)\n",
    "eval": "def conv2d(x, w):\n    return eval('F.conv' + '2d')(x, w)\n",
    "exec": "def conv2d(x, w):\n    exec('import torch')\n    return x\n",
    "switching the watch off": "import torch\ndef conv2d(x, w):\n    with torch._C.DisableTorchFunction():\n"
                                "        return x\n",
    "a dynamic value bound at top level": "import torch.nn.functional as F\nc = getattr(F, 'conv' + '2d')\n"
                                          "def conv2d(x, w):\n    return c(x, w)\n",
}


@pytest.mark.parametrize("source", DYNAMIC.values(), ids=DYNAMIC.keys())
def test_unresolvable_dynamic_calls_are_flagged_for_review(tmp_path, source):
    """Is a name the reading cannot resolve flagged (not guessed at, not silently passed), with its line?"""
    findings = read(tmp_path, source, CONV)
    assert not findings.uses
    [flag] = findings.dynamic["conv2d"]
    problem = flag.problem(CONV)
    assert "for the instructor's review" in problem and f"line {flag.line}" in problem and flag.line > 0


# --------------------------------------------------------------------------------------------- the run-time evidence
def _student_code(source: str, name: str):
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), "<cell answer>", "exec"), namespace)
    return namespace[name]


def test_the_worker_reports_the_watched_calls_its_code_dispatched():
    """Does the worker's watch see F.conv2d called directly, through nn.Conv2d and through torch.func.grad?"""
    x, w = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3)
    watch = worker.CallWatch(["torch.nn.functional.conv2d", "torch.autograd.grad"], student_frames_only=False)
    with watch:
        F.conv2d(x, w)
    assert watch.reply() == {"used": ["torch.nn.functional.conv2d"]}
    module = torch.nn.Conv2d(1, 1, 3)
    watch = worker.CallWatch(["torch.nn.functional.conv2d"], student_frames_only=False)
    with watch:
        module(x)
    assert watch.used == {"torch.nn.functional.conv2d"}
    watch = worker.CallWatch(["torch.autograd.grad", "torch.Tensor.backward"], student_frames_only=False)
    with watch:
        torch.func.grad(lambda v: (v * v).sum())(torch.randn(3))
        (torch.randn(3, requires_grad=True) * 2).sum().backward()
    assert watch.used == {"torch.autograd.grad", "torch.Tensor.backward"}


def test_the_worker_watches_nothing_when_asked_for_nothing():
    """Is no hook installed (and nothing reported) for a request without a watch list?"""
    watch = worker.CallWatch(None, student_frames_only=False)
    with watch:
        assert not torch.overrides._get_current_function_mode_stack()
        F.conv2d(torch.randn(1, 1, 3, 3), torch.randn(1, 1, 3, 3))
    assert watch.reply() == {}


def test_a_harness_call_is_not_counted_against_the_student():
    """In a harness run, does only a call made with the student's code on the stack count?"""
    student = _student_code("import torch\ndef step(t):\n    (t * 2).sum().backward()\n", "step")
    watch = worker.CallWatch(["torch.Tensor.backward"], student_frames_only=True)
    with watch:
        (torch.randn(2, requires_grad=True) * 3).sum().backward()  # the harness's own training step
    assert watch.used == set()
    with watch:
        student(torch.randn(2, requires_grad=True))
    assert watch.used == {"torch.Tensor.backward"}


# --------------------------------------------------------------------------------------------- through the engine
def declared_shortcuts() -> dict[str, tuple[str, dict[str, str], str]]:
    """task -> (assignment, {answer cell: shortcut code}, the call the feedback names), from tests/mutants/<id>.py."""
    found = {}
    for assignment in COURSE.assignments:
        try:
            module = importlib.import_module(f"tests.mutants.{assignment.id}")
        except ModuleNotFoundError:
            continue
        for s in getattr(module, "SHORTCUTS", ()):
            found[s.task] = (assignment.id, s.cells, s.call)
    return found


SHORTCUTS = declared_shortcuts()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def edited_solution(assignment_id: str, tmp_path: Path, cells: dict[str, str]) -> Path:
    source = ROOT / COURSE.assignment(assignment_id).notebook
    nb = nbformat.read(str(source), as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for grade_id, text in cells.items():
        by_id[grade_id].source = textwrap.dedent(text).strip() + "\n"
    path = tmp_path / source.name
    nbformat.write(nb, str(path))
    return path


def test_every_task_whose_release_forbids_a_call_has_a_shortcut_here():
    """Is each course.yaml rule exercised (a new rule needs a Shortcut in its assignment's tests/mutants/<id>.py)?"""
    declared = {(a.id, task) for a in COURSE.assignments for task in rules_of(a)}
    missing = sorted(declared - {(aid, task) for task, (aid, _, _) in SHORTCUTS.items()})
    assert not missing, ("add a Shortcut(task, {answer cell: code calling the forbidden function}, call) to "
                         + ", ".join(f"tests/mutants/{aid}.py for {task}" for aid, task in missing))
    assert set(SHORTCUTS) <= {task for _, task in declared}, "a Shortcut for a task course.yaml forbids nothing"


@pytest.mark.parametrize("task", SHORTCUTS)
def test_a_shortcut_gets_no_points_for_its_task_with_the_reason(task, sandbox, tmp_path):
    """Does the solution with the library call in place of the student's work get 0 for that task, each test's
    feedback naming the call and quoting the notebook's reason?"""
    assignment_id, cells, call = SHORTCUTS[task]
    report = grade(edited_solution(assignment_id, tmp_path, cells), assignment_id=assignment_id, course=COURSE,
                   sandbox=sandbox, tasks=frozenset({task}), secret=SECRET)
    rule = rules_of(COURSE.assignment(assignment_id))[task]
    assert report.tests and report.score == 0
    for test in report.tests:
        assert test.status == "failed" and f"`{call}`" in test.feedback
        assert " ".join(rule.reason.split()) in test.feedback


def test_a_call_hidden_from_the_reading_is_caught_at_run_time_and_flagged(sandbox, tmp_path):
    """Is `getattr(F, "conv" + "2d")` flagged for the instructor, and its F.conv2d still costs the task's points?"""
    cells = {"conv2d": """
        import torch.nn.functional as F
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            return getattr(F, "conv" + "2d")(x, weight, bias, stride, padding)
        """}
    report = grade(edited_solution("a02_convolutions", tmp_path, cells), assignment_id="a02_convolutions",
                   course=COURSE, sandbox=sandbox, tasks=frozenset({"conv2d"}), secret=SECRET)
    assert report.tests and report.score == 0
    assert all("while this test ran, your code called `torch.nn.functional.conv2d`" in t.feedback for t in report.tests)
    assert any("for the instructor's review" in p and "getattr" in p for p in report.problems)


def test_a_forbidden_call_outside_the_rules_functions_costs_nothing(sandbox, tmp_path):
    """Does a01's solution keep every point, though its MNIST `train` calls F.cross_entropy and loss.backward(),
    which the rules of cross_entropy and mlp_backward forbid in their own functions?"""
    report = grade(ROOT / COURSE.assignment("a01_fundamentals").notebook, assignment_id="a01_fundamentals",
                   course=COURSE, sandbox=sandbox, secret=SECRET,
                   tasks=frozenset({"cross_entropy", "mlp_backward", "mnist_mlp"}))
    assert report.tests and report.score == report.max_score, [(t.name, t.feedback) for t in report.tests if t.points == 0]
    assert not report.problems


FORBIDDING_WORDS = re.compile(r"(?i)do not call|not use autograd|no autograd")


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_every_sentence_of_a_notebook_that_forbids_a_call_is_a_rule(assignment_id):
    """Does each "do not call ..." / "no autograd" of a notebook lie inside some rule's reason, so that what the
    release forbids in words is what the grader enforces (course validate checks the converse)?"""
    assignment = COURSE.assignment(assignment_id)
    notebook = nbformat.read(str(ROOT / assignment.notebook), as_version=4)
    text = " ".join(" ".join(c.source.split()) for c in notebook.cells if c.cell_type == "markdown")
    spans = []
    for rule in rules_of(assignment).values():
        reason = " ".join(rule.reason.split())
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(reason), text)]
    uncovered = [text[max(0, m.start() - 60): m.end() + 40] for m in FORBIDDING_WORDS.finditer(text)
                 if not any(a <= m.start() and m.end() <= b for a, b in spans)]
    assert not uncovered, f"{assignment_id} forbids in words what no course.yaml rule enforces: {uncovered}"
