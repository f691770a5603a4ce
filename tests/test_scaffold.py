"""Does `grader new` and `grader add-task` scaffold an assignment that validates, releases and passes its gate at once,
and does a filled-in task (a GELU) pass the gate? Every command runs on a temporary copy of the course."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.cli import main
from grader.scaffold import TODO

ROOT = Path(__file__).resolve().parent.parent
COURSE_FILES = ("course.yaml", "grader", "reference", "solutions", "tests/mutants", "examples", "coursecheck")


def copy_course(folder: Path) -> Path:
    """The course's own files (not its releases, kits or tests) copied into `folder`; returns its course.yaml."""
    for rel in COURSE_FILES:
        source, target = ROOT / rel, folder / rel
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return folder / "course.yaml"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            and "__pycache__" not in p.parts}


def scaffold(folder: Path) -> Path:
    """A course copy with a08_demo and its task gelu (2 points), as the worked example in docs/authoring.md."""
    course = copy_course(folder)
    assert main(["new", "a08_demo", "--title", "Demo: the GELU", "--course", str(course)]) == 0
    assert main(["add-task", "a08_demo", "gelu", "--points", "2", "--title", "The GELU", "--course", str(course)]) == 0
    return course


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """One scaffolded course copy, shared by the tests that only read it or build outside it."""
    return scaffold(tmp_path_factory.mktemp("demo"))


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_new_and_add_task_write_each_file_with_placeholders(demo, capsys):
    """Are the notebook (nbformat 4.5, ids, nbgrader schema 3), grader, gate data and example all written, with the
    placeholder inside the solution region and every file saying TODO(instructor)?"""
    root = demo.parent
    raw = json.loads((root / "solutions/a08_demo/a08_demo.ipynb").read_text(encoding="utf-8"))
    assert (raw["nbformat"], raw["nbformat_minor"]) == (4, 5)
    nb = nbformat.read(root / "solutions/a08_demo/a08_demo.ipynb", as_version=4)
    nbformat.validate(nb)
    assert len({c.id for c in nb.cells}) == len(nb.cells) == 5
    assert [nbgrader(c)["grade_id"] for c in nb.cells] == ["intro", "imports", "gelu-text", "gelu", "check-gelu"]
    assert all(nbgrader(c)["schema_version"] == 3 and nbgrader(c)["grade"] is False for c in nb.cells)
    assert [nbgrader(c)["locked"] for c in nb.cells] == [True, True, True, False, True]
    assert [nbgrader(c)["solution"] for c in nb.cells] == [False, False, False, True, False]
    answer = nb.cells[3].source
    region = re.search(r"### BEGIN SOLUTION\n(.*)### END SOLUTION", answer, re.DOTALL).group(1)
    assert TODO in region and "return x" in region
    assert nb.cells[4].source == 'check("gelu")' and "from grader import check" in nb.cells[1].source
    assert "## 1. The GELU (2 points)" in nb.cells[2].source
    for rel in ("grader/graders/test_a08_demo.py", "tests/mutants/a08_demo.py", "examples/a08_demo/ada.py"):
        assert TODO in (root / rel).read_text(encoding="utf-8"), rel
    grader = (root / "grader/graders/test_a08_demo.py").read_text(encoding="utf-8")
    assert 'SUBMISSION_NAMES = ("gelu",)' in grader and grader.count("@pytest.mark.points(1)") == 2
    assert grader.count("@pytest.mark.hidden") == 1
    assert "def gelu(x):" in (root / "examples/a08_demo/ada.py").read_text(encoding="utf-8")


def test_course_yaml_is_edited_as_text_keeping_comments(demo):
    """Is every line of the original course.yaml (comments, flow mappings) still there, in order, with the new
    entry and its task appended to the assignments?"""
    original = (ROOT / "course.yaml").read_text(encoding="utf-8").splitlines()
    edited = demo.read_text(encoding="utf-8").splitlines()
    assert edited[:len(original)] == original
    assert edited[len(original):] == [
        "  - id: a08_demo",
        '    title: "Demo: the GELU"',
        "    notebook: solutions/a08_demo/a08_demo.ipynb",
        "    grader: grader/graders/test_a08_demo.py",
        "    tasks:",
        '      - {id: gelu, points: 2, title: "The GELU"}',
    ]


def test_the_scaffold_validates_and_releases_with_verification(demo, tmp_path, capsys):
    """Does `grader course validate` pass, and does `grader release a08_demo` grade (solution 2/2, release 0/2) and
    write the release with the placeholder stubbed?"""
    course = copy_course_of(demo, tmp_path)
    assert main(["course", "validate", "--course", str(course)]) == 0
    assert capsys.readouterr().out.startswith("course.yaml OK: ")
    assert main(["release", "a08_demo", "--course", str(course)]) == 0
    out, err = capsys.readouterr()
    assert out == "wrote assignments/a08_demo/a08_demo.ipynb\n"
    assert "a08_demo: the solution gets full marks: yes (2/2)" in err and "a08_demo: the release gets 0: yes (0/2)" in err
    released = nbformat.read(tmp_path / "assignments/a08_demo/a08_demo.ipynb", as_version=4)
    answer = next(c for c in released.cells if nbgrader(c).get("grade_id") == "gelu").source
    assert "raise NotImplementedError()" in answer and "return x" not in answer


def copy_course_of(course: Path, folder: Path) -> Path:
    """A copy of a scaffolded course copy (for tests that write into it)."""
    for path in course.parent.iterdir():
        (shutil.copytree if path.is_dir() else shutil.copy)(path, folder / path.name)
    return folder / "course.yaml"


def test_release_refuses_a_solution_that_does_not_get_full_marks(demo, tmp_path, capsys):
    """When a test expects something else than the solution returns, does `grader release` exit 2, name the test,
    and write nothing?"""
    course = copy_course_of(demo, tmp_path)
    grader = tmp_path / "grader/graders/test_a08_demo.py"
    text = grader.read_text(encoding="utf-8")
    grader.write_text(text.replace("    expected = x\n", "    expected = 2 * x\n", 1), encoding="utf-8")
    assert main(["release", "a08_demo", "--course", str(course)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "the solution does not get full marks" in err and "test_gelu_on_random_inputs failed" in err
    assert "grader preview a08_demo" in err and "--no-verify" in err
    assert not (tmp_path / "assignments").exists()
    assert main(["release", "a08_demo", "--no-verify", "--course", str(course)]) == 0  # the escape still writes
    assert (tmp_path / "assignments/a08_demo/a08_demo.ipynb").is_file()
    assert "a08_demo: no student kit written" in capsys.readouterr().err  # its kit records the solution's verdicts


GELU_SOLUTION = "    return 0.5 * x * (1.0 + torch.erf(x / 2 ** 0.5))\n"
GELU_MUTANTS = '''MUTANTS = [
    Mutant("gelu", "torch.erf(x / 2 ** 0.5)", "torch.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))",
           "the tanh approximation"),
    Mutant("gelu", "return 0.5 * x * (1.0 + torch.erf(x / 2 ** 0.5))", "return torch.clamp(x, min=0.0)",
           "a ReLU instead of the GELU"),
]

STYLES = [
    Style("the normal CDF", {"gelu": "import torch\\n\\ndef gelu(x):\\n    return x * torch.special.ndtr(x)\\n"}),
    Style("numpy and math.erf", {"gelu": "import math\\nimport numpy as np\\n\\ndef gelu(x):\\n"
                                         "    x = np.asarray(x)\\n"
                                         "    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))\\n"}),
]
'''


def fill_in_gelu(root: Path) -> None:
    """What the instructor does after add-task: a real solution, real expected values and mistakes, real mutants."""
    path = root / "solutions/a08_demo/a08_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if nbgrader(c).get("grade_id") == "gelu")
    cell.source = re.sub(r"(### BEGIN SOLUTION\n).*(    ### END SOLUTION)", r"\g<1>" + GELU_SOLUTION + r"\g<2>",
                         cell.source, flags=re.DOTALL)
    nbformat.write(nb, path)
    grader = root / "grader/graders/test_a08_demo.py"
    text = grader.read_text(encoding="utf-8").replace("import pytest\n", "import pytest\nimport torch\n")
    text = text.replace("    expected = x\n", "    expected = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()\n")
    text = text.replace("    expected = x  # ", "    expected = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()  # ")
    text = text.replace(
        'mistakes=[Mistake("the input negated (TODO(instructor): a placeholder mistake)", np.negative(x))]',
        'mistakes=[Mistake("the tanh approximation", '
        'torch.nn.functional.gelu(torch.from_numpy(x), approximate="tanh").numpy()),\n'
        '                  Mistake("a ReLU instead of the GELU", np.maximum(x, 0.0))]')
    grader.write_text(text, encoding="utf-8")
    gate = root / "tests/mutants/a08_demo.py"
    head = gate.read_text(encoding="utf-8").split("MUTANTS = [", 1)[0]
    gate.write_text(head + GELU_MUTANTS, encoding="utf-8")


def test_a_filled_in_gelu_passes_the_gate(demo, tmp_path, capsys):
    """With the placeholders replaced by a GELU, its tests, two named mistakes and two styles, does `grader preview`
    pass every rule, showing each mutant's named mistake?"""
    course = copy_course_of(demo, tmp_path)
    fill_in_gelu(tmp_path)
    assert main(["course", "validate", "--course", str(course)]) == 0
    before = snapshot(tmp_path)
    code = main(["preview", "a08_demo", "--course", str(course)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert "a08_demo: all 7 gate verdicts pass" in out
    assert "it looks like the tanh approximation" in out and "it looks like a ReLU instead of the GELU" in out
    assert snapshot(tmp_path) == before, "preview wrote into the course"


def test_the_placeholder_mutant_fails_the_gate_once_the_solution_changes(demo, tmp_path, capsys):
    """Does the gate tell the instructor to update the placeholder mutant when only the solution was filled in?"""
    course = copy_course_of(demo, tmp_path)
    path = tmp_path / "solutions/a08_demo/a08_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if nbgrader(c).get("grade_id") == "gelu")
    cell.source = cell.source.replace("    return x\n", GELU_SOLUTION)
    nbformat.write(nb, path)
    assert main(["preview", "a08_demo", "--course", str(course)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "FAIL solution" in out and "test_gelu_on_random_inputs failed" in out
    assert "FAIL mutant 1" in out and "cell 'gelu' has no 'return x'; update the mutant" in out


def test_add_task_to_an_existing_assignment_keeps_the_course_valid(tmp_path, capsys):
    """Does add-task on a00_warmup append to its task list, notebook, grader, gate data and examples, and leave
    `grader course validate` green? (a00's own tasks come from course.yaml: the test survives a task added to a00)"""
    course = copy_course(tmp_path)
    before = yaml.safe_load(course.read_text(encoding="utf-8"))
    tasks = [t["id"] for t in next(a for a in before["assignments"] if a["id"] == "a00_warmup")["tasks"]]
    new = "added_by_test"
    assert main(["add-task", "a00_warmup", new, "--points", "1", "--course", str(course)]) == 0
    assert main(["course", "validate", "--course", str(course)]) == 0
    doc = yaml.safe_load(course.read_text(encoding="utf-8"))
    a00 = next(a for a in doc["assignments"] if a["id"] == "a00_warmup")
    assert [t["id"] for t in a00["tasks"]] == [*tasks, new]
    assert a00["tasks"][-1] == {"id": new, "points": 1, "title": "Added by test"}
    lines = course.read_text(encoding="utf-8").splitlines()
    added = lines.index(f'      - {{id: {new}, points: 1, title: "Added by test"}}')
    last = max(i for i, line in enumerate(lines[:added]) if f"id: {tasks[-1]}" in line)
    assert not any(line.startswith("  - id:") for line in lines[last:added]), "the task line must follow a00's last task"
    grader = (tmp_path / "grader/graders/test_a00_warmup.py").read_text(encoding="utf-8")
    assert "SUBMISSION_NAMES = (" + ", ".join(f'"{t}"' for t in [*tasks, new]) + ")" in grader
    assert grader.count("@pytest.mark.points(0.5)") == 2
    gate = (tmp_path / "tests/mutants/a00_warmup.py").read_text(encoding="utf-8")
    assert f'Mutant("{new}", "return x", "return -x", "the input negated")' in gate
    assert f'"{new}": "def {new}(x):' in gate
    for example in (tmp_path / "examples/a00_warmup").glob("*.py"):
        assert f"def {new}(x):" in example.read_text(encoding="utf-8"), example.name
    nb = nbformat.read(tmp_path / "solutions/a00_warmup/a00_warmup.ipynb", as_version=4)
    assert [nbgrader(c)["grade_id"] for c in nb.cells][-3:] == [f"{new}-text", new, f"check-{new}"]
    assert f"## {len(tasks) + 1}. Added by test (1 point)" in nb.cells[-3].source


REFUSALS = {
    "existing-assignment": (["new", "a00_warmup"], "a00_warmup is already in course.yaml"),
    "invalid-assignment-id": (["new", "A08-demo"], "'A08-demo' is not a valid assignment id"),
    "assignment-id-not-a-module": (["new", "8demo"], "'8demo' is not a valid assignment id"),
    "existing-task": (["add-task", "a00_warmup", "relu", "--points", "1"], "a00_warmup already has a task 'relu'"),
    "invalid-task-id": (["add-task", "a00_warmup", "Gelu-2", "--points", "1"], "'Gelu-2' is not a valid task id"),
    "keyword-task-id": (["add-task", "a00_warmup", "lambda", "--points", "1"], "'lambda' is not a valid task id"),
    "zero-points": (["add-task", "a00_warmup", "gelu", "--points", "0"], "--points must be a positive number"),
    "negative-points": (["add-task", "a00_warmup", "gelu", "--points", "-1"], "--points must be a positive number"),
    "unknown-assignment": (["add-task", "a99_nope", "gelu", "--points", "1"], "`grader new a99_nope`"),
}


@pytest.fixture(scope="module")
def plain_copy(tmp_path_factory) -> Path:
    return copy_course(tmp_path_factory.mktemp("plain"))


@pytest.mark.parametrize("argv, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_exit_2_say_what_to_do_and_write_nothing(argv, message, plain_copy, capsys):
    """Are a taken or invalid id and non-positive points refused with exit 2 and a message, leaving every file as it
    was?"""
    before = snapshot(plain_copy.parent)
    assert main([*argv, "--course", str(plain_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("grader: error: ") and message in err, err
    assert snapshot(plain_copy.parent) == before


def test_new_refuses_when_a_file_is_in_the_way(tmp_path, capsys):
    """Does `grader new` refuse, and write nothing, when the assignment's solutions folder already exists?"""
    course = copy_course(tmp_path)
    (tmp_path / "solutions/a08_demo").mkdir()
    before = snapshot(tmp_path)
    assert main(["new", "a08_demo", "--course", str(course)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "solutions/a08_demo already exists" in captured.err
    assert snapshot(tmp_path) == before


def test_every_grader_command_in_the_authoring_guide_parses():
    """Is each `grader ...` line of docs/authoring.md's shell blocks a command the parser accepts (so the guide does
    not drift from the command line)?"""
    import shlex

    from grader.cli import build_parser

    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    commands = [line for block in blocks for line in block.splitlines() if line.startswith("grader ")]
    assert len(commands) >= 10
    for line in commands:
        argv = shlex.split(line.replace("<id>", "a00_warmup").replace("<task>", "relu"), comments=True)[1:]
        build_parser().parse_args(argv)  # argparse exits (SystemExit) on a command it does not know


def test_validate_warns_about_placeholders_left_until_each_is_replaced(demo, tmp_path, capsys):
    """The placeholders pass every check, so `grader course validate` names the files that still hold one (exit 0)."""
    assert main(["course", "validate", "--course", str(demo)]) == 0
    err = capsys.readouterr().err
    assert "a08_demo still has scaffold placeholders" in err and "grader/graders/test_a08_demo.py" in err
    course = copy_course_of(demo, tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file() and "a08_demo" in path.as_posix() and TODO in path.read_text(encoding="utf-8", errors="ignore"):
            path.write_text(path.read_text(encoding="utf-8").replace(TODO, "written"), encoding="utf-8")
    assert main(["course", "validate", "--course", str(course)]) == 0
    assert "placeholders" not in capsys.readouterr().err


def test_the_package_tests_that_read_course_content_pass_on_a_scaffolded_assignment(demo, tmp_path, capsys):
    """After `grader new` + `add-task` and `grader release`, do the package's tests that read course content (the
    quality gate, the examples' manifests, the release's grade cells, the student kit) pass for the new assignment,
    run by pytest inside the course copy, as `make test` would run them there?"""
    import subprocess
    import sys

    course = copy_course_of(demo, tmp_path)
    for rel in ("tests", "pyproject.toml"):
        source = ROOT / rel
        if source.is_dir():
            shutil.copytree(source, tmp_path / rel, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
        else:
            shutil.copy(source, tmp_path / rel)
    assert main(["release", "a08_demo", "--course", str(course)]) == 0
    capsys.readouterr()
    files = ["tests/test_assignments.py", "tests/test_demo.py", "tests/test_grade_cells.py", "tests/test_kit.py",
             "tests/test_course.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files, "-k", "a08_demo"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=900)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 10, summary  # the gate, manifest, grade cells and kit ran
