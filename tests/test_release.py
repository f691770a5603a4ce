"""Are the committed student releases exactly what nbgrader builds, with every solution replaced by a stub?"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.course import Course, load_course
from grader.kit import KIT_DIR, kit_assignments
from grader.release import STUB, ReleaseError, build_release, release

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
NBGRADER_LEFTOVERS = ("gradebook.db", ".nbgrader.log", "nbgrader_config.py")


def committed(assignment) -> Path:
    return ROOT / "assignments" / assignment.id / Path(assignment.notebook).name


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def copy_course(folder: Path) -> Course:
    """A copy of the course's course.yaml, source notebooks, graders, their calibration files and per-student numbers
    in `folder` (tests never write into the repo; a kit with per-student numbers is built from grader/numbers/<id>.py,
    a trained model's kit carries its thresholds)."""
    shutil.copy(ROOT / "course.yaml", folder / "course.yaml")
    for a in COURSE.assignments:
        numbers = f"grader/numbers/{a.id}.py"
        calibrations = [str(p.relative_to(ROOT)) for p in (ROOT / a.grader).parent.glob(f"calibration_{a.id}*.json")]
        for rel in (a.notebook, a.grader, *calibrations, *([numbers] if (ROOT / numbers).is_file() else [])):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, folder / rel)
    return load_course(folder / "course.yaml")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Every assignment's release, built once for this module into a temporary folder."""
    out = tmp_path_factory.mktemp("release")
    return {a.id: build_release(COURSE, a.id, out) for a in COURSE.assignments}


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_committed_release_is_what_nbgrader_builds_now(assignment, built):
    """Is assignments/<id> the notebook nbgrader builds from the source now, as JSON and byte for byte?"""
    path = committed(assignment)
    assert path.exists(), f"missing release {path}: run `grader release {assignment.id}`"
    stale = f"stale release: run `grader release {assignment.id}` and commit assignments/{assignment.id}/"
    assert nbformat.read(path, as_version=4) == nbformat.read(built[assignment.id], as_version=4), stale
    assert path.read_bytes() == built[assignment.id].read_bytes(), stale


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_no_line_of_a_solution_region_is_in_the_release(assignment):
    """Does any line written between BEGIN and END SOLUTION in the source appear in any cell of the release?"""
    source = nbformat.read(ROOT / assignment.notebook, as_version=4)
    released = nbformat.read(committed(assignment), as_version=4)
    secret = {
        line.strip()
        for cell in source.cells
        for region in SOLUTION_REGION.findall(cell.source)
        for line in region.splitlines()
        if len(line.strip()) >= 4 and re.search(r"\w", line)  # not `)` or `]`, which any code may contain
    }
    assert secret, "the source notebook should have solution regions"
    released_lines = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    released_text = "\n".join(cell.source for cell in released.cells)
    leaked = sorted(line for line in secret if line in released_lines or (len(line) >= 12 and line in released_text))
    assert leaked == []


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_every_solution_cell_became_a_stub_and_given_cells_are_locked(assignment):
    """Is each solution cell a `raise NotImplementedError()` stub without markers, and is every given cell read-only?"""
    source = nbformat.read(ROOT / assignment.notebook, as_version=4)
    released = nbformat.read(committed(assignment), as_version=4)
    assert [nbgrader_meta(c).get("grade_id") for c in released.cells] == [
        nbgrader_meta(c).get("grade_id") for c in source.cells
    ], "the release should keep every cell of the source, in order"
    solutions = [c for c in released.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code"]
    assert solutions, "the source notebook should have solution cells"
    for cell in solutions:
        assert STUB in cell.source, cell.source
    for cell in released.cells:
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        if nbgrader_meta(cell).get("locked"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False, cell.source


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_the_release_keeps_nbformat_4_5_and_the_cell_ids(assignment):
    """Does the release stay nbformat 4.5+ with the source's cell ids (so feedback can point at cells)?"""
    source = json.loads((ROOT / assignment.notebook).read_text(encoding="utf-8"))
    released = json.loads(committed(assignment).read_text(encoding="utf-8"))
    assert (released["nbformat"], released["nbformat_minor"] >= 5) == (4, True)
    assert [c["id"] for c in released["cells"]] == [c["id"] for c in source["cells"]]
    code = [c for c in released["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "outputs should be cleared"


def test_release_writes_only_assignments_quietly_and_deterministically(tmp_path, monkeypatch, capfd, built):
    """Does `release` on a course copy add nothing but assignments/<id>/, print nothing, and give the same bytes again?"""
    course = copy_course(tmp_path)
    monkeypatch.chdir(tmp_path)  # nbgrader must not write into the working folder either
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    paths = release(course)
    after = {p for p in tmp_path.rglob("*") if p.is_file()}
    expected = {tmp_path / committed(a).relative_to(ROOT) for a in COURSE.assignments}
    kits = {p for p in (tmp_path / KIT_DIR).rglob("*") if p.is_file()}  # the student kits (tests/test_kit.py)
    assert {p.relative_to(tmp_path / KIT_DIR).parts[0] for p in kits} == set(kit_assignments(COURSE))
    assert after - before - kits == expected and set(paths) == expected
    assert capfd.readouterr() == ("", "")
    for a in COURSE.assignments:
        assert (tmp_path / committed(a).relative_to(ROOT)).read_bytes() == built[a.id].read_bytes(), "not deterministic"
    # The course's own files only: a virtual environment inside the checkout (`make` puts one in .venv) holds
    # nbgrader's own test fixtures, which are not leftovers of a release.
    leftovers = [p for name in NBGRADER_LEFTOVERS for p in ROOT.rglob(name) if not {".git", ".venv"} & set(p.parts)]
    assert leftovers == []


def test_a_broken_source_gives_the_reason_and_what_to_do(tmp_path):
    """When nbgrader fails (a solution region without its END marker), does the error say why and what to run next?"""
    course = copy_course(tmp_path)
    assignment = course.assignments[0]
    notebook = tmp_path / assignment.notebook
    notebook.write_text(notebook.read_text(encoding="utf-8").replace("### END SOLUTION", "", 1), encoding="utf-8")
    with pytest.raises(ReleaseError) as err:
        build_release(course, assignment.id, tmp_path / "out")
    message = str(err.value)
    assert "no end solution statement found" in message
    assert f"grader release {assignment.id}" in message and "### END SOLUTION" in message
    assert "Traceback" not in message


def test_a_notebook_without_cell_ids_is_refused_with_the_fix(tmp_path):
    """Is an nbformat 4.4 source (no cell ids, which the release could not keep) refused with the upgrade command?"""
    course = copy_course(tmp_path)
    assignment = course.assignments[0]
    notebook = tmp_path / assignment.notebook
    doc = json.loads(notebook.read_text(encoding="utf-8"))
    doc["nbformat_minor"] = 4
    for cell in doc["cells"]:
        del cell["id"]
    notebook.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"nbformat 4\.4 and not every cell has an id.*nbformat\.v4\.upgrade"):
        build_release(course, assignment.id, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_verified_release_refuses_a_wrong_solution_and_a_scoring_skeleton(tmp_path):
    """Does `release(verify=True)` write nothing, naming the failing tests, when the solution loses points (a sign
    flipped) or the skeleton scores (an answer left outside its solution region), and write the release otherwise?"""
    course = copy_course(tmp_path)
    notebook = tmp_path / course.assignment("a00_warmup").notebook
    source = notebook.read_text(encoding="utf-8")
    notebook.write_text(source.replace("torch.exp(-x)", "torch.exp(x)", 1), encoding="utf-8")
    with pytest.raises(ReleaseError) as err:
        release(course, "a00_warmup", kits=False, verify=True)
    message = " ".join(str(err.value).split())
    total = f"{course.assignment('a00_warmup').points:g}"
    sigmoid = sum(t.points for t in course.assignment("a00_warmup").tasks if t.id == "sigmoid")
    assert f"a00_warmup: the solution does not get full marks: {float(total) - sigmoid:g}/{total}" in message
    assert "test_sigmoid_on_random_inputs failed" in message and "grader preview a00_warmup" in message
    assert not (tmp_path / "assignments").exists()

    given = source.replace('    ### BEGIN SOLUTION\\n",\n    "    return torch.clamp(x, min=0.0)\\n",\n',
                           '    return torch.clamp(x, min=0.0)\\n",\n    "    ### BEGIN SOLUTION\\n",\n', 1)
    assert given != source
    notebook.write_text(given, encoding="utf-8")
    with pytest.raises(ReleaseError, match=rf"the release does not get 0: 1/{total}: these tests pass on the skeleton: "
                                           r"test_relu_on_random_inputs"):
        release(course, "a00_warmup", kits=False, verify=True)
    assert not (tmp_path / "assignments").exists()

    notebook.write_text(source, encoding="utf-8")
    lines: list[str] = []
    assert release(course, "a00_warmup", kits=False, verify=True, report=lines.append) == [
        tmp_path / committed(course.assignment("a00_warmup")).relative_to(ROOT)]
    assert lines == [f"a00_warmup: the solution gets full marks: yes ({total}/{total})",
                     f"a00_warmup: the release gets 0: yes (0/{total})"]
