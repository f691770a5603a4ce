"""The student kits (kits/<id>/): built byte-identically, leak nothing, and give the grader's public verdicts.

The kit's checker (`coursecheck`) runs here in this process on namespaces built the way the grader's worker
builds them; tests/test_kit_kernel.py runs it in real Jupyter kernels from a fresh virtualenv.
"""
from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from coursecheck.runner import Kit
from coursecheck.variants import SELF_LEARNER
from grader.course import load_course
from grader.engine import grade
from grader.kit import KIT_DIR, kit_assignments, submission_names, write_kit
from grader.sandbox import Sandbox
from grader.submission import assemble
from tests.test_assignments import tasks_of

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)
KIT_ASSIGNMENTS = kit_assignments(COURSE)  # course.yaml's assignments without `kit: false`
SECRET = b"kit-same-verdict"
NAMED = re.compile(r"it looks like (.+?)\.(?: |$)")


def kit_folder(assignment_id: str) -> Path:
    return ROOT / KIT_DIR / assignment_id


def kit_data(assignment_id: str) -> Path:
    return kit_folder(assignment_id) / "coursecheck" / "assignments" / assignment_id


def release_notebook(assignment_id: str) -> Path:
    return ROOT / "assignments" / assignment_id / Path(COURSE.assignment(assignment_id).notebook).name


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


# ------------------------------------------------------------------------------------------------ build and drift
@pytest.mark.parametrize("assignment_id", KIT_ASSIGNMENTS)
def test_the_committed_kit_is_what_the_build_makes_now(assignment_id, tmp_path):
    """Does rebuilding the kit from the committed release give the committed kit, byte for byte?"""
    built = write_kit(COURSE, assignment_id, tmp_path, release_notebook(assignment_id))
    committed = files_of(kit_folder(assignment_id))
    rebuilt = files_of(built)
    assert sorted(committed) == sorted(rebuilt), "the kit's files changed: run `grader release` and commit kits/"
    stale = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert not stale, f"kits/{assignment_id} is stale in {stale}: run `grader release {assignment_id}` and commit kits/"


def test_the_kit_ships_the_checker_unchanged():
    """Is the checker inside each kit the repository's coursecheck package, and its compare the grader's?"""
    import coursecheck.compare
    import grader.compare

    source = ROOT / "coursecheck"
    assert grader.compare.assert_close is coursecheck.compare.assert_close, "the kit's feedback must be the grader's"
    for assignment_id in KIT_ASSIGNMENTS:
        for module in source.glob("*.py"):
            assert (kit_folder(assignment_id) / "coursecheck" / module.name).read_bytes() == module.read_bytes()


# ------------------------------------------------------------------------------------------------ leak scan
# Loop and branch headers (`for i in (1, 2, 3):`) are written the same way in inputs' code and in answers.
GENERIC_STARTS = ("for ", "if ", "elif ", "else", "with ", "return ", "def ", "#", "import ", "from ")
# Reading the clock is bookkeeping that a training loop in an answer and the grader's training harness write alike.
GENERIC_LINES = frozenset({"start = time.perf_counter()"})


def solution_lines(assignment_id: str) -> set[str]:
    """The code lines of the solution regions that could only come from an answer."""
    nb = nbformat.read(str(ROOT / COURSE.assignment(assignment_id).notebook), as_version=4)
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 16 and not line.strip().startswith(GENERIC_STARTS) \
                    and line.strip() not in GENERIC_LINES:
                lines.add(line.strip())
    return lines


def shipped_modules(assignment_id: str) -> set[str]:
    """reference/ files the assignment's grader ships in its kit by declaration (KIT_SHIPS: measurements that
    answer no task); tests/test_kit.py checks below that no task's answer is among them."""
    from grader.kit import _declared

    tree = ast.parse((ROOT / COURSE.assignment(assignment_id).grader).read_text(encoding="utf-8"))
    return {m.rsplit(".", 1)[1] + ".py" for m in _declared(tree.body, "KIT_SHIPS")}


def reference_body_lines(assignment_id: str | None = None) -> set[str]:
    """Every code line of every function body in reference/ but the modules the assignment ships (docstrings and
    short lines left out)."""
    lines = set()
    shipped = shipped_modules(assignment_id) if assignment_id else set()
    for path in (ROOT / "reference").glob("*.py"):
        if path.name in shipped:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for stmt in body:
                    for line in ast.unparse(stmt).splitlines():
                        if len(line.strip()) >= 24:
                            lines.add(line.strip())
    return lines


def hidden_tests(assignment_id: str) -> list[tuple[str, str]]:
    """(name, title) of every hidden test of the assignment's grader."""
    tree = ast.parse((ROOT / COURSE.assignment(assignment_id).grader).read_text(encoding="utf-8"))
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any("hidden" in ast.unparse(d) for d in node.decorator_list):
            out.append((node.name, (ast.get_docstring(node) or "").strip().splitlines()[0]))
    return out


def kit_text(assignment_id: str) -> str:
    folder = kit_folder(assignment_id)
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".npz":
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


@pytest.mark.parametrize("assignment_id", KIT_ASSIGNMENTS)
def test_a_kit_ships_no_solution_no_reference_and_no_hidden_test(assignment_id):
    """Is any line of a solution region, of a reference function or any hidden test's name or title in the kit?"""
    text = kit_text(assignment_id)
    kit_lines = {line.strip() for line in text.splitlines()}
    leaked_solution = sorted(solution_lines(assignment_id) & kit_lines)
    assert not leaked_solution, f"solution lines in kits/{assignment_id}: {leaked_solution[:5]}"
    # A reference line that the release itself hands out (given code, e.g. a module's forward) is no leak.
    handed_out = {line.strip() for cell in nbformat.read(str(release_notebook(assignment_id)), as_version=4).cells
                  for line in cell.source.splitlines()}
    leaked_reference = sorted(line for line in reference_body_lines(assignment_id) - handed_out if line in text)
    assert not leaked_reference, f"reference code in kits/{assignment_id}: {leaked_reference[:5]}"
    release_text = release_notebook(assignment_id).read_text(encoding="utf-8")
    for name, title in hidden_tests(assignment_id):
        assert name not in text, f"the hidden test {name} is named in kits/{assignment_id}"
        # a concept question's hidden test is titled with the question, which the release itself asks
        assert title not in text or title in release_text, f"the hidden test {name}'s title is in kits/{assignment_id}"
    assert "GRADER_SECRET" not in text and "import grader" not in text and "from grader" not in text.replace(
        "from grader import check", "")  # the release's own import line is rewritten; see the notebook test below


def test_the_leak_scan_finds_a_planted_leak(tmp_path):
    """Would the scan's pieces catch a hidden title, a solution line and a reference line if they were shipped?"""
    hidden = hidden_tests("a00_warmup")
    assert hidden and solution_lines("a00_warmup") and reference_body_lines()
    planted = "\n".join([hidden[0][1], next(iter(solution_lines("a00_warmup"))), next(iter(reference_body_lines()))])
    assert hidden[0][1] in planted
    assert solution_lines("a00_warmup") & {line.strip() for line in planted.splitlines()}
    assert any(line in planted for line in reference_body_lines())


@pytest.mark.parametrize("assignment_id", KIT_ASSIGNMENTS)
def test_the_kit_notebook_is_the_release_with_the_kit_import(assignment_id):
    """Is the kit's notebook the release, except that its import cell installs and imports the kit's checker?"""
    release = json.loads(release_notebook(assignment_id).read_text(encoding="utf-8"))
    kit = json.loads((kit_folder(assignment_id) / release_notebook(assignment_id).name).read_text(encoding="utf-8"))
    changed = [(a, b) for a, b in zip(release["cells"], kit["cells"]) if a != b]
    assert len(kit["cells"]) == len(release["cells"]) and changed
    source = "".join(changed[0][1]["source"])
    assert source.splitlines()[0].startswith("%pip install -q .") and "from coursecheck import check" in source
    for before, after in changed[1:]:  # cells that load the grader's digits or per-student numbers use the kit's
        assert "".join(after["source"]) == "".join(before["source"]).replace("from grader.data", "from coursecheck.data"
                                                                          ).replace("from grader.variants", "from coursecheck.variants")


# ------------------------------------------------------------------------------------------------ same verdicts
def _mutants(assignment_id: str):
    try:
        module = importlib.import_module(f"tests.mutants.{assignment_id}")
    except ModuleNotFoundError:
        return []
    return list(getattr(module, "MUTANTS", []))


def submissions(assignment_id: str) -> list[tuple[str, dict[str, str] | Path]]:
    """(label, edited answer cells or a file): the solution, every example and every mutant."""
    out: list[tuple[str, dict[str, str] | Path]] = [("solution", {})]
    out += [(f"example {p.name}", p) for p in sorted((ROOT / "examples" / assignment_id).glob("*")) if p.suffix in (".py", ".ipynb")]
    out += [(f"mutant {i}: {m.feedback}", {m.cell: m}) for i, m in enumerate(_mutants(assignment_id))]
    return out


CASES = [(aid, label, what) for aid in KIT_ASSIGNMENTS for label, what in submissions(aid)]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def materialise(assignment_id: str, what, tmp_path: Path) -> Path:
    """The submission as a file the grader reads: an example as it is, a mutant as an edited solution notebook."""
    if isinstance(what, Path):
        return what
    source = ROOT / COURSE.assignment(assignment_id).notebook
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in what:
            mutant = what[grade_id]
            assert mutant.old in cell.source, f"mutant {mutant} does not apply"
            cell.source = cell.source.replace(mutant.old, mutant.new)
    path = tmp_path / source.name
    nbformat.write(nb, str(path))
    return path


def kit_namespace(assignment_id: str, path: Path) -> dict:
    """What a kernel that ran the submission's cells would hold (the grader's own loading rules); a cell that
    raises stops there, as in a kernel; a notebook Jupyter could not open leaves the kernel empty."""
    assignment = COURSE.assignment(assignment_id)
    notebook = ROOT / assignment.notebook
    try:
        program = assemble(notebook, path, submission_names(ROOT / assignment.grader))
    except Exception:
        return {}
    namespace: dict = {"__name__": "__main__"}
    for cell in program.as_cells():
        try:
            exec(compile(cell["source"], f"<cell {cell['label']}>", "exec"), namespace)
        except Exception:
            pass
    return namespace


def named_mistake(feedback: str) -> str | None:
    found = NAMED.search(feedback or "")
    return found.group(1) if found else None


@pytest.mark.parametrize("assignment_id, label, what", CASES, ids=[f"{a}-{l}" for a, l, _ in CASES])
def test_the_kit_gives_the_graders_public_verdicts(assignment_id, label, what, sandbox, tmp_path, monkeypatch):
    """Per public test: the same points and the same named mistake from the kit as from `grader check`?"""
    def exit_kills_the_kernel(code=0):  # os._exit in a student's kernel ends it; here it must not end pytest
        raise SystemExit(code)

    monkeypatch.setattr(os, "_exit", exit_kills_the_kernel)
    path = materialise(assignment_id, what, tmp_path)
    # A mutant is checked on the tests of the tasks its cell feeds, as the quality gate grades it (the others are
    # the solution's); this keeps a01's MNIST training out of the mutants that cannot change it.
    tasks = tasks_of(assignment_id, list(what)) if isinstance(what, dict) and what else None
    # Per-student numbers: both sides use the self-learners' (the only numbers whose answers the kit records).
    report = grade(path, assignment_id=assignment_id, course=COURSE, sandbox=sandbox, visibility="public", secret=SECRET,
                   tasks=tasks, student=SELF_LEARNER)
    graded = {t.name: t for t in report.tests}
    kit = Kit(kit_data(assignment_id))
    namespace = kit_namespace(assignment_id, path)
    checked = {r.name: r for r in kit.run(namespace, None if tasks is None else sorted(tasks), student_id=SELF_LEARNER)}
    for name, result in list(checked.items()):
        if result.status == "timeout" and graded.get(name) and graded[name].status != "timeout":
            # This shared test machine can slow a training run past its limit in one process and not the other;
            # the verdicts are compared on what the code computes, so run that task again without the limit.
            again = kit.run(namespace, [result.task], time_limits=False, student_id=SELF_LEARNER)
            checked.update({r.name: r for r in again if r.name == name})
    assert sorted(graded) == sorted(checked), "the kit must run exactly the grader's public tests"
    for name, g in graded.items():
        k = checked[name]
        assert (k.points, named_mistake(k.feedback)) == (g.points, named_mistake(g.feedback)), (
            f"{label}, {name}: grader {g.status} {g.points} {g.feedback!r}; kit {k.status} {k.points} {k.feedback!r}")


# ------------------------------------------------------------------------------------------------ trust boundary
def test_the_checker_runs_without_the_instructors_side_or_linux_only_modules(tmp_path):
    """In a fresh interpreter with only the kit on its path and prctl/resource/fcntl/seccomp made unavailable,
    does the checker name the mistake, and is no module of grader/ or reference/ loaded?"""
    script = textwrap.dedent("""
        import importlib.abc, sys
        BLOCKED = {"prctl", "resource", "fcntl", "seccomp", "pyseccomp", "termios", "grp", "pwd"}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is not available on this platform")
        sys.meta_path.insert(0, Block())
        for name in list(sys.modules):
            if name.split(".")[0] in BLOCKED:
                del sys.modules[name]
        import torch
        from coursecheck import run_checks
        def sigmoid(x):
            return 1 / (1 + torch.exp(x))
        print(run_checks("sigmoid", namespace={"sigmoid": sigmoid}))
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("grader", "reference"))
        print("LOADED", leaked)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(kit_folder("a00_warmup")), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "it looks like 1 / (1 + e^x): the sign in the exponent is flipped" in done.stdout
    assert "0 of 1 public checks pass" in done.stdout
    assert "LOADED []" in done.stdout


# ------------------------------------------------------------------------------------------------ finding the notebook
def test_the_kernel_tells_the_assignment_from_the_notebook_it_reports(tmp_path, monkeypatch):
    """With two kits installed, is a renamed notebook told apart by its cells' ids, from the path the front end
    reports (JPY_SESSION_NAME, VS Code's __vsc_ipynb_file__), and else by the task's name?"""
    from coursecheck import kernel

    kits = {aid: Kit(kit_data(aid)) for aid in KIT_ASSIGNMENTS}
    assert len(kits) >= 2
    other = KIT_ASSIGNMENTS[-1]
    renamed = tmp_path / "Untitled (1).ipynb"
    renamed.write_bytes((kit_folder(other) / release_notebook(other).name).read_bytes())
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert kernel.identify(kits, {"__vsc_ipynb_file__": str(renamed)}, None) == (other, "")
    monkeypatch.setenv("JPY_SESSION_NAME", str(renamed))
    assert kernel.identify(kits, {}, None) == (other, "")
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert kernel.identify(kits, {}, kits["a00_warmup"].tasks[0]) == ("a00_warmup", "")
    chosen, why = kernel.identify(kits, {}, None)
    assert chosen is None and "assignment=" in why


def test_a_misspelt_task_or_nothing_run_yet_is_said_at_once(monkeypatch):
    """Does check() name the tasks for a misspelt one, say when nothing of a task has been run yet, and warn
    about a placeholder STUDENT_ID where an assignment has per-student numbers?"""
    from coursecheck import run_checks, runner

    monkeypatch.setattr(runner, "KITS", kit_folder("a00_warmup") / "coursecheck" / "assignments")
    tasks = ", ".join(t.id for t in COURSE.assignment("a00_warmup").tasks)
    assert run_checks("sigmoids", namespace={}) == f"No public check is called 'sigmoids' in a00_warmup. Tasks: {tasks}."
    assert run_checks("relu", namespace={}).startswith("Nothing of relu has been run yet (`relu` not defined")
    assert "1 of 1 public checks pass" in run_checks("relu", namespace={"relu": lambda x: x.clamp(min=0)})


def test_check_warns_while_student_id_is_the_placeholder(monkeypatch, tmp_path):
    """Where an assignment has per-student numbers, does check() warn while STUDENT_ID is unset or the
    placeholder, and not once it is the student's own id?"""
    import shutil

    from coursecheck import run_checks, runner

    data = tmp_path / "a00_warmup"
    shutil.copytree(kit_data("a00_warmup"), data)
    meta = json.loads((data / "kit.json").read_text())
    (data / "kit.json").write_text(json.dumps({**meta, "student_numbers": True}))
    monkeypatch.setattr(runner, "KITS", tmp_path)
    relu = lambda x: x.clamp(min=0)  # noqa: E731
    assert "STUDENT_ID is not set to your own id" in run_checks("relu", namespace={"relu": relu})
    assert "STUDENT_ID is not set" in run_checks("relu", namespace={"relu": relu, "STUDENT_ID": "self-learner"})
    assert "STUDENT_ID" not in run_checks("relu", namespace={"relu": relu, "STUDENT_ID": "s1234567"})


def test_grader_check_finds_a_renamed_notebook_and_refuses_a_misspelt_task_before_grading(tmp_path):
    """Does `grader check` (in the repository) know `a00_warmup (1).ipynb` by its cells, and answer a misspelt task
    without running the tests?"""
    from grader.student_check import check_notebook, find_assignment

    renamed = tmp_path / "a00_warmup (1).ipynb"
    renamed.write_bytes(release_notebook("a00_warmup").read_bytes())
    assert find_assignment(COURSE, renamed) == "a00_warmup"
    text = check_notebook(renamed, assignment_id="a00_warmup", task="sigmoids")
    tasks = ", ".join(t.id for t in COURSE.assignment("a00_warmup").tasks)
    assert text == f"No public check is called 'sigmoids' in a00_warmup. Tasks: {tasks}."
    stranger = tmp_path / "notes.ipynb"
    stranger.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(KeyError, match="--assignment ID"):
        find_assignment(COURSE, stranger)


def test_the_a01_kit_loads_the_graders_digits_without_a_download(monkeypatch):
    """Does `coursecheck.data.load_mnist` give the grader's own MNIST split from the installed kit's record?"""
    import numpy as np

    from coursecheck import runner
    from coursecheck.data import load_mnist
    from grader.data import load_mnist as graders

    monkeypatch.setattr(runner, "KITS", kit_folder("a01_fundamentals") / "coursecheck" / "assignments")
    X, y = load_mnist("test")
    expected_X, expected_y = graders("test")
    assert X.dtype == np.float32 and np.array_equal(X, expected_X) and np.array_equal(y, expected_y)
    with pytest.raises(LookupError, match="no installed kit holds"):
        load_mnist("validation")


@pytest.mark.parametrize("assignment_id", KIT_ASSIGNMENTS)
def test_helpers_that_compute_an_answer_never_ship(assignment_id):
    """a01's numpy softmax and a04's scaled scores build the public tests' inputs; they are part of the answers, so
    the kit replays their recorded results instead of shipping their code."""
    from grader.kit import RECORDED_HELPERS

    for path in (ROOT / KIT_DIR / assignment_id).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for helper in RECORDED_HELPERS:
            assert f"def {helper}(" not in text, f"{path}: ships {helper}"


# ------------------------------------------------------------------------------------------ per-student numbers
def test_a_class_kit_carries_each_students_numbers_and_no_answers_for_them(tmp_path, capsys):
    """Built with a roster, does the a03 kit print each student's own numbers (the grader's), check the hand
    computations only for the self-learners' numbers (their answers are the only ones recorded), say so for an
    enrolled student's, and refuse an id it does not know with what to do?"""
    from coursecheck import variants
    from grader.kit import class_kit, solution_namespace, write_zip
    from grader.variants import variant_numbers

    roster = tmp_path / "roster.csv"
    roster.write_text("student,email\nst-001,a@example.org\nst-002,b@example.org\n", encoding="utf-8")
    kit = class_kit(COURSE, "a03_recurrent", tmp_path / "out", roster=roster, zip_path=tmp_path / "a03.zip")
    data = kit / "coursecheck" / "assignments" / "a03_recurrent"
    table = json.loads((data / "numbers.json").read_text(encoding="utf-8"))["students"]
    assert sorted(table) == ["self-learner", "st-001", "st-002"]
    variants.use_kit_folder("a03_recurrent", data)
    try:
        assert variants.my_numbers("st-002", "a03_recurrent", "lstm_hand") == variant_numbers("a03_recurrent", "lstm_hand", "st-002")
        assert "st-002" in capsys.readouterr().out
        with pytest.raises(ValueError, match="self-learner"):
            variants.my_numbers("someone-else", "a03_recurrent", "lstm_hand")
        results = Kit(data).run(solution_namespace(COURSE, "a03_recurrent"), ["elman_hand", "elman_step"], student_id="st-001")
    finally:
        variants.use_kit_folder("a03_recurrent", kit_data("a03_recurrent"))
    by_task = {}
    for r in results:
        by_task.setdefault(r.task, set()).add(r.status)
    assert by_task == {"elman_hand": {"unchecked"}, "elman_step": {"passed"}}, by_task
    from coursecheck.runner import student_view
    assert "checked when graded" in student_view(results)
    # answers are recorded for the self-learners' numbers only: nothing computed from st-001's is in the kit
    from coursecheck.recorded import NotRecorded, Record
    from grader.numbers import a03_recurrent as numbers

    record, mine = Record.load(data), variant_numbers("a03_recurrent", "elman_hand", "self-learner")
    for mistake in numbers.ELMAN_MISTAKES:
        record.lookup("grader.numbers.a03_recurrent.answers", ("elman_hand", mine, mistake), {})  # recorded
        with pytest.raises(NotRecorded):
            record.lookup("grader.numbers.a03_recurrent.answers",
                          ("elman_hand", variant_numbers("a03_recurrent", "elman_hand", "st-001"), mistake), {})
    first = (tmp_path / "a03.zip").read_bytes()
    write_zip(kit, tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == first, "the same kit must zip to the same bytes"


def test_kit_command_refuses_a_roster_where_every_student_has_the_same_kit(tmp_path, capsys):
    from grader.cli import main

    roster = tmp_path / "roster.csv"
    roster.write_text("student\nst-001\n", encoding="utf-8")
    assert main(["kit", "a00_warmup", "--out", str(tmp_path / "out"), "--roster", str(roster)]) == 2
    assert "no per-student numbers" in capsys.readouterr().err
    assert main(["kit", "a03_recurrent", "--out", str(tmp_path / "out"), "--roster", str(tmp_path / "missing.csv")]) == 2
    assert "roster" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ course.yaml's settings
def test_the_kit_compares_with_course_yamls_tolerances_task_by_task(tmp_path):
    """Does a kit carry course.yaml's tolerances (the assignment's, each task's own) and call limits, and apply a
    task's only to that task's tests, as the grader does?"""
    import shutil

    import torch

    from grader.kit import _comparison_settings
    from tests.test_tolerances import COURSE as TOLERANCE_COURSE, write_course

    settings = _comparison_settings(load_course(write_course(tmp_path / "course", TOLERANCE_COURSE)), "tol")
    assert settings["task_tolerances"] == {"loose": {"float64": [1e-4, 1e-12]}}
    assert settings["task_call_seconds"] == {"hurried": 0.3}
    assert settings["tolerances"]["float64"] == [1e-7, 1e-12]

    data = tmp_path / "kit" / "a00_warmup"
    shutil.copytree(kit_data("a00_warmup"), data)
    meta = json.loads((data / "kit.json").read_text(encoding="utf-8"))
    off = {"sigmoid": lambda x: (1 + 3e-6) / (1 + torch.exp(-x)), "relu": lambda x: torch.clamp(x, min=0) * (1 + 3e-6)}

    def verdicts(task_tolerances):
        (data / "kit.json").write_text(json.dumps({**meta, "task_tolerances": task_tolerances}), encoding="utf-8")
        return {r.task: r.status for r in Kit(data).run(off, ["sigmoid", "relu"])}

    assert verdicts({}) == {"sigmoid": "failed", "relu": "failed"}  # 3e-6 relative is far outside float64's 1e-7
    assert verdicts({"sigmoid": {"float64": [1e-4, 1e-12]}}) == {"sigmoid": "passed", "relu": "failed"}


def test_course_yaml_decides_which_assignments_get_a_kit(tmp_path):
    """`kit: false` keeps an assignment out of the kits (a new assignment gets one by default); a value that is not
    true or false is refused, naming the key."""
    import copy

    from grader.course import CourseConfigError
    from tests.test_tolerances import COURSE as TOLERANCE_COURSE, write_course

    assert kit_assignments(load_course(write_course(tmp_path / "a", TOLERANCE_COURSE))) == ("tol",)
    doc = copy.deepcopy(TOLERANCE_COURSE)
    doc["assignments"][0]["kit"] = False
    assert kit_assignments(load_course(write_course(tmp_path / "b", doc))) == ()
    doc["assignments"][0]["kit"] = "no"
    with pytest.raises(CourseConfigError, match=r"assignments\[0\]\.kit.*expected true or false"):
        load_course(write_course(tmp_path / "c", doc))


def test_a_public_test_importing_what_a_kit_lacks_stops_the_build(tmp_path):
    """An import inside a public test runs only on the student's machine: is scikit-learn refused at build time,
    while numpy, torch and matplotlib (the figures) pass?"""
    from grader.kit import KitError, extract_public_tests

    grader = tmp_path / "test_x.py"
    body = ('import numpy as np\nimport pytest\n\n\n@pytest.mark.task("t")\n@pytest.mark.points(1)\n'
            'def test_x(submission, figure):\n    from matplotlib.figure import Figure\n    {line}\n    assert True\n')
    grader.write_text(body.format(line="import torch"), encoding="utf-8")
    assert "def test_x" in extract_public_tests(grader)[0]
    grader.write_text(body.format(line="from sklearn.metrics import roc_auc_score"), encoding="utf-8")
    with pytest.raises(KitError, match="sklearn.metrics inside a function"):
        extract_public_tests(grader)


def test_modules_a_kit_ships_answer_no_task():
    """A grader may ship a measurement module in its kit (KIT_SHIPS): does none of its functions share a name with
    a function any release asks students to write, or a line with any solution region?"""
    asked, answers = set(), set()
    for assignment in COURSE.assignments:
        release = release_notebook(assignment.id)
        for cell in nbformat.read(str(release), as_version=4).cells:
            if cell.cell_type == "code":
                asked |= {m.group(1) for m in re.finditer(r"^\s*def (\w+)\(", cell.source, re.M)}
        answers |= solution_lines(assignment.id)
    shipped = {name for aid in KIT_ASSIGNMENTS for name in shipped_modules(aid)}
    assert shipped, "no kit ships a module: this test checks nothing"
    for name in shipped:
        tree = ast.parse((ROOT / "reference" / name).read_text(encoding="utf-8"))
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not functions & asked, f"reference/{name} defines {functions & asked}, which students write"
        lines = {line.strip() for line in ast.unparse(tree).splitlines()}
        assert not lines & answers, f"reference/{name} shares lines with a solution: {sorted(lines & answers)[:3]}"


def test_a_shipped_module_must_import_only_what_a_kit_has():
    """KIT_SHIPS names modules copied into a kit as code: is one that imports the instructor's side refused, and a
    name that is no module reported?"""
    from grader.kit import KitError, shipped_source

    assert "def precision_recall" in shipped_source("reference.generative_metrics")
    with pytest.raises(KitError, match="imports reference.ring"):
        shipped_source("reference.gan")
    with pytest.raises(KitError, match="not a module of this course"):
        shipped_source("reference.no_such_module")
