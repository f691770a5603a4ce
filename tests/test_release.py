"""Are the committed student releases exactly what nbgrader builds, with every solution replaced by a stub?"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader.course import load_course
from grader.release import build_release

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    return {a.id: build_release(COURSE, a.id, out) for a in COURSE.assignments}


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_committed_release_is_what_nbgrader_builds_now(assignment, built):
    """Is assignments/<id> byte-for-byte the output of nbgrader on solutions/<id>? (Run `grader release` if not.)"""
    committed = ROOT / "assignments" / assignment.id / Path(assignment.notebook).name
    assert committed.exists(), f"missing release {committed}: run `grader release {assignment.id}`"
    assert committed.read_bytes() == built[assignment.id].read_bytes(), f"stale release: run `grader release {assignment.id}`"


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_no_solution_code_leaks_and_every_region_is_a_stub(assignment):
    """Does any line of a solution region appear in the release, and did each solution cell become a stub?"""
    source = nbformat.read(ROOT / assignment.notebook, as_version=4)
    release = nbformat.read(ROOT / "assignments" / assignment.id / Path(assignment.notebook).name, as_version=4)
    released_code = "\n".join(c.source for c in release.cells if c.cell_type == "code")
    secret_lines = [
        line.strip()
        for cell in source.cells
        for region in SOLUTION.findall(cell.source)
        for line in region.splitlines()
        if len(line.strip()) > 8
    ]
    assert secret_lines, "the source notebook should have solution regions"
    leaked = [line for line in secret_lines if line in released_code]
    assert leaked == []
    solution_cells = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(solution_cells) == sum(1 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution"))
    for cell in solution_cells:
        if cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source and "BEGIN SOLUTION" not in cell.source


def test_release_writes_nothing_else_into_the_course(tmp_path):
    """Does building a release leave a gradebook, log or cache in the course folder? (It must not.)"""
    before = {p for p in ROOT.rglob("*") if ".git" not in p.parts and ".venv" not in p.parts and "__pycache__" not in p.parts}
    build_release(COURSE, COURSE.assignments[0].id, tmp_path)
    after = {p for p in ROOT.rglob("*") if ".git" not in p.parts and ".venv" not in p.parts and "__pycache__" not in p.parts}
    assert after - before == set()
