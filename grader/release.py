"""Student releases, built from the instructor's notebooks by nbgrader itself.

    grader release [ASSIGNMENT]

runs nbgrader's GenerateAssignment with solutions/ as its source folder and writes assignments/<id>/: solution
regions become `raise NotImplementedError()` stubs, hidden-test regions are removed, outputs are cleared. nbgrader
records assignments in a gradebook database; a throwaway one in a temporary folder is used so that nothing but
assignments/ is written into the course.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from grader.course import Course


class ReleaseError(Exception):
    """nbgrader could not build a release."""


def build_release(course: Course, assignment_id: str, out_dir: Path) -> Path:
    """Build one assignment's release into out_dir/<id>/ and return the notebook path there."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    assignment = course.assignment(assignment_id)
    notebook = Path(assignment.notebook)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "source" / assignment_id
        source.mkdir(parents=True)
        shutil.copy(course.root / notebook, source / notebook.name)
        config = Config()
        config.CourseDirectory.root = str(tmp_path)
        config.CourseDirectory.source_directory = "source"
        config.CourseDirectory.release_directory = "release"
        config.CourseDirectory.db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
        config.GenerateAssignment.force = True
        config.GenerateAssignment.create_assignment = True
        config.Exchange.root = str(tmp_path / "exchange")
        log = logging.getLogger(f"grader.release.{assignment_id}")
        captured = io.StringIO()
        log.handlers[:] = [logging.StreamHandler(captured)]
        log.propagate = False
        (tmp_path / "exchange").mkdir()
        api = NbGraderAPI(config=config, log=log)
        with _scripts_on_path():
            result = api.generate_assignment(assignment_id, force=True, create=True)
        built = tmp_path / "release" / assignment_id / notebook.name
        if not result.get("success") or not built.exists():
            detail = (captured.getvalue() + str(result.get("error") or "")).strip()[-3000:]
            raise ReleaseError(f"nbgrader could not build {assignment_id} from {notebook}: {detail}")
        target = out_dir / assignment_id
        target.mkdir(parents=True, exist_ok=True)
        _write_normalised(built, target / notebook.name)
    return target / notebook.name


def _write_normalised(built: Path, target: Path) -> None:
    """Same bytes for the same source: sorted keys, fixed indentation, trailing newline."""
    doc = json.loads(built.read_text(encoding="utf-8"))
    target.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def release(course: Course, assignment_id: str | None = None) -> list[Path]:
    """Build the committed release of one assignment, or of all, into assignments/."""
    ids = [assignment_id] if assignment_id else [a.id for a in course.assignments]
    return [build_release(course, aid, course.root / "assignments") for aid in ids]


@contextlib.contextmanager
def _scripts_on_path():
    """nbgrader runs the `alembic` script of its own environment, which is not on PATH unless it is activated."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old
