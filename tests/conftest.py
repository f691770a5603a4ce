"""Shared fixtures for the package's own tests.

`--device cuda` runs the device-aware tests (reference implementations, graders) on a GPU;
without a GPU the whole suite passes on the CPU and CUDA-only tests are skipped by name.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="device on which reference and grader tests run their tensors (default: cpu)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The quality gate's grading secret (tests/test_assignments.py): fixed unless GATE_SECRET names another;
    # "random" draws a fresh one, printed in the header so that a failure can be rerun.
    secret = os.environ.get("GATE_SECRET", "quality-gate-1")
    os.environ["GATE_SECRET"] = secrets.token_hex(8) if secret == "random" else secret
    if config.getoption("--device") == "cuda" and not torch.cuda.is_available():
        raise pytest.UsageError("--device cuda was given but torch.cuda.is_available() is False; run without it")
    # Process-wide numeric switches that would make float32 checks flaky on GPUs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def pytest_report_header(config: pytest.Config) -> str:
    return f"quality gate secret (GATE_SECRET): {os.environ['GATE_SECRET']}"


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    """The torch device the test runs on, chosen with --device."""
    return torch.device(request.config.getoption("--device"))


@pytest.fixture
def gen() -> torch.Generator:
    """A CPU generator with a fresh seed per test: inputs are random, failures print the seed."""
    seed = torch.seed() % (2**31)
    g = torch.Generator().manual_seed(seed)
    print(f"random seed for this test: {seed}")
    return g


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


# ------------------------------------------------------------------------------------------------ a course of its own
# Tests of what is done with grades (exports, reports, overrides) record made-up verdicts into a gradebook. They grade
# against this small course, not course.yaml, so that adding a task to a real assignment changes none of their numbers.
SMALL_ASSIGNMENT = "s00_activations"
SMALL_OTHER = "s01_nothing"  # an assignment nobody in those tests submitted
SMALL_TASKS = (("sigmoid", 2), ("relu", 1), ("softmax", 3))
SMALL_TESTS = (  # grader functions, so that test overrides fingerprint real source; (name, task, points, hidden)
    ("test_sigmoid_values", "sigmoid", 1, False), ("test_sigmoid_is_stable", "sigmoid", 1, True),
    ("test_sigmoid_on_random_inputs", "sigmoid", 1, False), ("test_sigmoid_keeps_shape", "sigmoid", 1, True),
    ("test_relu_values", "relu", 1, False), ("test_relu_on_random_inputs", "relu", 1, False),
    ("test_softmax_rows_sum_to_one", "softmax", 1, False), ("test_softmax_is_stable", "softmax", 2, True),
    ("test_softmax_rows", "softmax", 1, False), ("test_softmax_stable", "softmax", 2, True),
)
_small_course_root: Path | None = None


def _small_notebook(tasks: tuple[tuple[str, float], ...], *, release: bool):
    import nbformat

    def meta(grade_id: str, solution: bool) -> dict:
        return {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                             "solution": solution}}

    cells = [nbformat.v4.new_markdown_cell("# A small course for the package's tests", metadata=meta("intro", False))]
    for task, points in tasks:
        body = "    raise NotImplementedError()" if release else "    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
        cells += [nbformat.v4.new_markdown_cell(f"## {task} ({points:g} points)", metadata=meta(f"{task}-text", False)),
                  nbformat.v4.new_code_cell(f"def {task}(x):\n{body}", metadata=meta(task, True))]
    return nbformat.v4.new_notebook(cells=cells)


def small_course():
    """The small course (tasks sigmoid 2, relu 1, softmax 3 in SMALL_ASSIGNMENT), written once per test process into
    a temporary folder: course.yaml, source and release notebooks, a grader file."""
    import atexit
    import shutil
    import tempfile

    import nbformat
    import yaml

    from grader.course import load_course

    global _small_course_root
    if _small_course_root is None:
        root = Path(tempfile.mkdtemp(prefix="small-course-"))
        atexit.register(shutil.rmtree, root, True)
        assignments = []
        for aid, title, tasks in ((SMALL_ASSIGNMENT, "Activations", SMALL_TASKS), (SMALL_OTHER, "Nothing", (("x", 1),))):
            for folder, release in (("solutions", False), ("assignments", True)):
                (root / folder / aid).mkdir(parents=True)
                nbformat.write(_small_notebook(tasks, release=release), str(root / folder / aid / f"{aid}.ipynb"))
            grader = root / "grader" / "graders" / f"test_{aid}.py"
            grader.parent.mkdir(parents=True, exist_ok=True)
            grader.write_text("import pytest\n" + "".join(
                f'\n\n@pytest.mark.task("{task}")\n@pytest.mark.points({points})\n'
                + ("@pytest.mark.hidden\n" if hidden else "") + f"def {name}(submission):\n    assert True\n"
                for name, task, points, hidden in (SMALL_TESTS if aid == SMALL_ASSIGNMENT else (("test_x", "x", 1, False),))))
            assignments.append({"id": aid, "title": title, "notebook": f"solutions/{aid}/{aid}.ipynb",
                                "grader": f"grader/graders/test_{aid}.py",
                                "tasks": [{"id": t, "points": p} for t, p in tasks]})
        (root / "course.yaml").write_text(yaml.safe_dump(
            {"course": {"name": "A small test course", "variant_key": "small-course"}, "assignments": assignments},
            sort_keys=False))
        _small_course_root = root
    return load_course(_small_course_root / "course.yaml")
