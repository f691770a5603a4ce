"""Is the graded program exactly the instructor's given code plus the student's answer cells, minus top-level work?"""
from __future__ import annotations

import nbformat
import pytest

from grader.submission import assemble, neutralise_magics


def _cell(source: str, grade_id: str, solution: bool):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": False, "locked": not solution, "schema_version": 3}
    return cell


@pytest.fixture
def instructor(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("import math\nSCALE = 2.0", "given-setup", False),
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return SCALE * x\n    ### END SOLUTION", "double", True),
        _cell("from grader import check\ncheck('double')", "check-double", False),
        _cell("ANSWER = None", "answer", True),
    ]
    path = tmp_path / "instructor.ipynb"
    nbformat.write(nb, path)
    return path


def _student(tmp_path, double_source: str, given_source: str = "import math\nSCALE = 2.0", answer: str = "ANSWER = 3"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell(given_source, "given-setup", False),
        _cell(double_source, "double", True),
        _cell(answer, "answer", True),
    ]
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, path)
    return path


def _run(program) -> dict:
    namespace: dict = {}
    for chunk in program.chunks:
        exec(compile(chunk.source, f"<cell {chunk.label}>", "exec"), namespace)
    return namespace


def test_answer_cells_come_from_the_student_and_given_cells_from_the_instructor(instructor, tmp_path):
    """If a student edits a given cell (SCALE = 100), does the graded program still use the instructor's?"""
    student = _student(tmp_path, "def double(x):\n    return SCALE * x", given_source="import math\nSCALE = 100.0")
    ns = _run(assemble(instructor, student))
    assert ns["double"](3) == 6.0 and ns["ANSWER"] == 3


def test_top_level_work_is_skipped_but_needed_assignments_are_kept(instructor, tmp_path):
    """Are plots, prints, loops and unused training runs skipped, while names functions use are kept?"""
    source = (
        "import time\n"
        "def double(x):\n    return FACTOR * x\n"
        "FACTOR = float(2)\n"
        "history = [time.sleep(100)]\n"
        "print('training...')\n"
        "for _ in range(10**9):\n    pass\n"
    )
    program = assemble(instructor, _student(tmp_path, source))
    ns = _run(program)
    assert ns["double"](2) == 4.0
    assert "history" not in ns
    assert program.skipped >= 3


def test_grader_requested_names_with_calls_are_kept(instructor, tmp_path):
    """Is an answer computed with a call (h1 = math.tanh(2)) kept when the grader asks for that name?"""
    student = _student(tmp_path, "def double(x):\n    return 2 * x", answer="ANSWER = math.tanh(2)")
    assert "ANSWER" not in _run(assemble(instructor, student))
    assert _run(assemble(instructor, student, frozenset({"ANSWER"})))["ANSWER"] == pytest.approx(0.9640, abs=1e-4)


def test_magics_and_shell_escapes_are_neutralised(instructor, tmp_path):
    """Do %timeit, !pip, %%time and `files = !ls` leave the rest of the cell working with its line numbers?"""
    source = "%%time\n%matplotlib inline\n!pip install torch\nfiles = !ls\ndef double(x):\n    return 2 * x"
    program = assemble(instructor, _student(tmp_path, source))
    assert _run(program)["double"](5) == 10
    assert neutralise_magics(source).splitlines()[4] == "def double(x):"


def test_deleted_answer_cell_and_syntax_errors_are_reported(instructor, tmp_path):
    """Does a student learn that an answer cell is missing, or which cell does not parse and where?"""
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("def double(x) return 2", "double", True)]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    problems = assemble(instructor, path).problems
    assert any("'answer' is missing" in p for p in problems)
    assert any("'double' has a syntax error at line 1" in p for p in problems)


def test_importing_the_course_packages_is_reported_not_fatal(instructor, tmp_path):
    """If a student imports the reference package, is it reported, with the other definitions still loaded?"""
    source = "from reference.activations import relu\ndef double(x):\n    return 2 * x"
    program = assemble(instructor, _student(tmp_path, source))
    assert any("imports reference" in p for p in program.problems)
    assert _run(program)["double"](1) == 2


def test_python_files_and_folders_are_accepted(instructor, tmp_path):
    """Can a student hand in a .py file, or a folder holding one?"""
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "answers.py").write_text("def double(x):\n    return 2 * x\nANSWER = 3\n")
    for path in (folder / "answers.py", folder):
        ns = _run(assemble(instructor, path))
        assert ns["double"](4) == 8 and ns["SCALE"] == 2.0


@pytest.mark.parametrize("content", [b"not json", b'{"cells": [', b'{"nbformat": 4}', b"\xff\xfe\x00"])
def test_malformed_notebooks_become_a_problem_not_a_crash(instructor, tmp_path, content):
    """Does an unreadable notebook give a message telling the student what to do, and an empty answer set?"""
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    program = assemble(instructor, path)
    assert any("could not be read" in p and "fresh copy" in p for p in program.problems)
    assert "double" not in _run(program)


def test_a_parameter_named_like_given_data_does_not_pull_the_data_loading_in(tmp_path):
    """`def train(model, X_train)` needs no top-level X_train: the given loading cell (course data) is not run."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("X_train, y_train = load_mnist()\nLIMIT = min(3, 5)", "given-data", False),
        _cell("def train(model, X_train):\n    steps = 2\n    return model(X_train) * steps * LIMIT", "train", True),
    ]
    path = tmp_path / "instructor.ipynb"
    nbformat.write(nb, path)
    program = assemble(path, path)
    sources = "".join(c.source for c in program.chunks)
    assert "load_mnist" not in sources  # X_train is the function's parameter
    assert "LIMIT = min(3, 5)" in sources  # LIMIT is read from outside, so its assignment is kept
