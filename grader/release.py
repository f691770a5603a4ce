"""Student releases, built from the instructor's notebooks by nbgrader itself.

    grader release [ASSIGNMENT]

writes assignments/<id>/<notebook>.ipynb from the notebook course.yaml names, in three named steps:

1. `check_source`: the notebook is nbformat 4.5 or later, so every cell has an id that the release keeps
   (an older notebook would get no ids; nbgrader does not add them).
2. `run_generate_assignment`: nbgrader's own GenerateAssignment (through NbGraderAPI) with a throwaway course
   folder: source/<id>/ holds a copy of the notebook, release/<id>/ receives the student version, and the
   gradebook is an sqlite file in that temporary folder. Solution regions become `raise NotImplementedError()`
   stubs, hidden-test regions are removed, outputs are cleared, given cells are locked and checksummed.
   The temporary folder (rather than root = the course, source = solutions/) is what keeps gradebook.db, logs and
   nbgrader's bookkeeping out of the repository, and lets `build_release` write anywhere (tests build into tmp_path).
   nbgrader stamps each new gradebook with the revision printed by an `alembic heads` subprocess (a fresh Python
   importing SQLAlchemy: about 4 s per build, and only where the `alembic` script is on PATH);
   `_alembic_head_in_process` reads the same revision once in this process instead, for the duration of the build.
3. `write_canonical`: the release is re-serialised in nbformat's canonical JSON (sorted keys, one-space indent,
   trailing newline). nbgrader 0.9 embeds nothing non-deterministic (checksums are MD5s of the cell sources; cell
   ids are copied from the source), so this step changes no content; it pins the bytes to one writer so that the
   committed release does not change with nbgrader's version, and `tests/test_release.py` can compare bytes.

Only the notebook named in course.yaml is released (nbgrader would also copy other files in the source folder).

With `verify=True` (what `grader release` does unless given `--no-verify`), the releases are built into a temporary
folder first and graded there, as otter-grader's `otter assign` runs the tests on the solution at build time: the
solution notebook must get full marks and the release 0 (grader/preview.py's rules 1 and 2, the quality gate's, under
its secret), else nothing is written and ReleaseError names the failing tests. One sandbox grades every assignment;
its fork server starts (importing torch) while nbgrader builds.

`release` then builds each assignment's student kit into kits/<id>/ from that release (see grader/kit.py).
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.course import Course

RELEASE_DIR = "assignments"
STUB = "raise NotImplementedError()"  # what nbgrader writes in place of every solution region


class ReleaseError(Exception):
    """nbgrader could not build a release; the message says why and what to do."""


def build_release(course: Course, assignment_id: str, out_dir: Path) -> Path:
    """Build one assignment's release into out_dir/<id>/ and return the notebook's path there."""
    assignment = course.assignment(assignment_id)
    source = course.root / assignment.notebook
    check_source(source)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        source = with_grade_cells(course, assignment_id, source, Path(tmp) / "graded-source")
        built = run_generate_assignment(source, assignment_id, Path(tmp))
        target = Path(out_dir) / assignment_id / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_canonical(built, target)
    return target


def with_grade_cells(course: Course, assignment_id: str, source: Path, folder: Path) -> Path:
    """A copy of the source notebook, in `folder`, whose check cells are the tasks' grade cells (grader/grade_cells.py)."""
    from grader.grade_cells import GradeCellError, add_grade_cells

    doc = json.loads(source.read_text(encoding="utf-8"))
    points = {t.id: t.points for t in course.assignment(assignment_id).tasks}
    try:
        add_grade_cells(doc, points, str(source.relative_to(course.root)))
    except GradeCellError as exc:
        raise ReleaseError(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / source.name
    copy.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return copy


def release(course: Course, assignment_id: str | None = None, *, kits: bool = True, verify: bool = False,
            report: Callable[[str], None] | None = None) -> list[Path]:
    """Build the release of one assignment (default: of all) into assignments/, and its student kit into kits/.

    With `verify`, nothing is written unless every solution gets full marks and every release 0 (see above);
    `report` receives one line per verdict.
    """
    from grader.kit import KIT_DIR, KitError, kit_assignments, write_kit

    ids = [assignment_id] if assignment_id else [a.id for a in course.assignments]
    if verify:
        built = build_verified(course, ids, course.root / RELEASE_DIR, report=report)
    else:
        built = [build_release(course, aid, course.root / RELEASE_DIR) for aid in ids]
    failed = []
    if kits:
        for aid, notebook in zip(ids, built):
            if aid in kit_assignments(course):
                try:
                    write_kit(course, aid, course.root / KIT_DIR, notebook)
                except KitError as exc:  # the kit records the solution's public verdicts: a failing one stops it
                    failed.append(f"{aid}: no student kit written ({exc})")
    if failed and verify:
        raise ReleaseError("the releases were written, but not every student kit:\n" + "\n".join(failed) +
                           "\n(a kit's build runs the public tests on the solution; fix what they say, or set `kit: false`)")
    for line in failed:  # --no-verify: a release of a solution that fails its public tests cannot have a kit
        (report or (lambda _: None))(line)
    return built


def build_verified(course: Course, ids: list[str], out_dir: Path, *,
                   report: Callable[[str], None] | None = None) -> list[Path]:
    """Build each release into a temporary folder, grade the solution and the release, and copy the releases into
    out_dir/<id>/ only when every verdict passes; else raise ReleaseError naming the failing tests."""
    from grader.engine import GraderError
    from grader.preview import gate_secret, grade_for_gate, release_verdict, solution_verdict
    from grader.sandbox import Sandbox

    secret = gate_secret()
    with ThreadPoolExecutor(max_workers=1) as pool, tempfile.TemporaryDirectory(prefix="grader-verify-") as tmp:
        starting = pool.submit(Sandbox)  # the fork server imports torch while nbgrader builds (two cores, not one)
        try:
            staged = [build_release(course, aid, Path(tmp)) for aid in ids]
        except BaseException:
            if starting.exception() is None:
                starting.result().close()
            raise
        if starting.exception() is not None:
            raise ReleaseError(f"cannot grade the release to verify it: {starting.exception()}. "
                               "Run `grader release --no-verify` to build it without grading.")
        sandbox = starting.result()
        failures = []
        with sandbox:
            for aid, notebook in zip(ids, staged):
                try:
                    solution = grade_for_gate(course, aid, course.root / course.assignment(aid).notebook, sandbox, secret)
                    verdicts = [solution_verdict(solution, course.assignment(aid).points),
                                release_verdict(grade_for_gate(course, aid, notebook, sandbox, secret), len(solution.tests))]
                except GraderError as exc:
                    failures.append(f"{aid}: {exc}")
                    continue
                for v in verdicts:
                    line = f"{aid}: {v.rule}: {'yes' if v.ok else 'NO'} ({v.report.score:g}/{v.report.max_score:g})"
                    if report is not None:
                        report(line)
                    if not v.ok:
                        failures.append(f"{aid}: {v.rule.replace('gets', 'does not get')}: {v.why}")
        if failures:
            only = f" {ids[0]}" if len(ids) == 1 else ""
            raise ReleaseError(
                "nothing was written: " + "\n".join(failures) + "\n"
                f"Fix the solution notebook or the grader (`grader preview{only or ' ID'}` shows every verdict and "
                f"its feedback), then run `grader release{only}` again; `--no-verify` writes the release ungraded."
            )
        written = []
        for aid, notebook in zip(ids, staged):
            target = Path(out_dir) / aid / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, target)
            written.append(target)
    return written


def check_source(notebook: Path) -> None:
    """Step 1: refuse a source notebook the release could not keep cell ids for."""
    try:
        doc = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"cannot read {notebook}: {exc}. Open it in Jupyter and save it again.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ReleaseError(f"{notebook} is not a notebook (no list of cells). Open it in Jupyter and save it again.")
    major, minor = doc.get("nbformat"), doc.get("nbformat_minor")
    has_ids = all(isinstance(cell, dict) and "id" in cell for cell in doc["cells"])
    if major != 4 or not isinstance(minor, int) or minor < 5 or not has_ids:
        raise ReleaseError(
            f"{notebook} is nbformat {major}.{minor} and not every cell has an id; the release must keep cell ids. "
            "Save it once from JupyterLab or Notebook 7 (they upgrade it), or run: python -c \"import nbformat, sys; "
            "p = sys.argv[1]; nb = nbformat.read(p, as_version=4); "
            "nbformat.write(nbformat.v4.upgrade(nb, from_version=4, from_minor=nb.nbformat_minor), p)\" "
            f"{notebook}"
        )


def run_generate_assignment(source: Path, assignment_id: str, workdir: Path) -> Path:
    """Step 2: nbgrader's GenerateAssignment on a copy of `source` in `workdir`; returns the built notebook."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    (workdir / "source" / assignment_id).mkdir(parents=True)
    (workdir / "exchange").mkdir()
    shutil.copy(source, workdir / "source" / assignment_id / source.name)
    config = Config()
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    config.Exchange.root = str(workdir / "exchange")
    config.GenerateAssignment.force = True
    config.GenerateAssignment.create_assignment = True
    captured = io.StringIO()
    log = logging.getLogger(f"grader.release.{assignment_id}")
    log.handlers[:] = [logging.StreamHandler(captured)]
    log.propagate = False
    log.setLevel(logging.INFO)
    with _alembic_head_in_process(), contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        result = NbGraderAPI(config=config, log=log).generate_assignment(assignment_id, force=True, create=True)
    built = workdir / "release" / assignment_id / source.name
    if not result.get("success") or not built.is_file():
        text = "\n".join(filter(None, (captured.getvalue(), result.get("log"), result.get("error"))))
        raise ReleaseError(
            f"nbgrader could not build the release of {assignment_id} from {source}: {_reasons(text)}\n"
            "Fix the source notebook: every solution region needs both `### BEGIN SOLUTION` and `### END SOLUTION`, "
            "grade_ids must be unique, and cells need nbgrader metadata with schema_version 3 (the Jupyter "
            f"'Create Assignment' toolbar writes it). Then run `grader release {assignment_id}` again."
        )
    return built


def write_canonical(built: Path, target: Path) -> None:
    """Step 3: nbformat's canonical JSON: sorted keys, one-space indent, no ASCII escaping, trailing newline."""
    doc = json.loads(built.read_text(encoding="utf-8"))
    target.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


_EXCEPTION_LINE = re.compile(r"^(?:\[ERROR\] )?((?:[A-Za-z_][\w.]*\.)?\w*(?:Error|Exception)): (.+)$")
_BOILERPLATE = (  # nbgrader's wrappers around the real exception, which is logged too
    "Please see the the above traceback",
    "Notebook failed to validate; the nbgrader metadata may be corrupted",
)


def _reasons(text: str) -> str:
    """The exception lines of nbgrader's log (its own wrapper exceptions left out), or the log's tail."""
    reasons: list[str] = []
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line.strip())
        if match and not any(b in match.group(2) for b in _BOILERPLATE):
            reason = f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2)}"
            if reason not in reasons:
                reasons.append(reason)
    return "; ".join(reasons) if reasons else text.strip()[-2000:]


@contextlib.contextmanager
def _alembic_head_in_process() -> Iterator[None]:
    """Let nbgrader stamp new gradebooks with the alembic head read in this process (see step 2 above)."""
    import nbgrader.api

    saved = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = _alembic_head
    try:
        yield
    finally:
        nbgrader.api.get_alembic_version = saved


@functools.cache
def _alembic_head() -> str:
    """The head revision of nbgrader's gradebook migrations: what `alembic heads` prints first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
