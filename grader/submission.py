"""What is graded: the student's solution cells placed into the instructor's notebook, top-level work skipped.

Only the student-writable regions (nbgrader solution cells, matched by grade_id) come from the submission; every
other code cell comes from the instructor's source notebook, so editing or deleting given cells changes nothing.
A .py file counts as one big solution cell. IPython magics and shell escapes are blanked.

From each cell the grader keeps what defines the names it will call: imports, functions, classes and assignments.
An assignment whose value calls something (`model = train(...)`) is kept only when a kept function or class, or the
grader itself (the grader file's SUBMISSION_NAMES), uses the name; bare expressions (plots, prints), loops,
`with` blocks and `if __name__ == "__main__":` are skipped, so a training run left in the notebook costs nothing.
Each kept statement is loaded on its own, so one failing import or assignment does not hide the functions after it.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

COURSE_PACKAGES = frozenset({"grader", "reference"})
MAGIC_LINE = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*[%!])")


@dataclass(frozen=True)
class Chunk:
    """One top-level statement to load, with the cell it came from (line numbers match the cell)."""

    label: str
    source: str


@dataclass(frozen=True)
class Program:
    chunks: tuple[Chunk, ...]
    problems: tuple[str, ...] = ()          # what the student should fix (malformed notebook, syntax errors, ...)
    skipped: int = 0                        # top-level statements not run while grading
    solution_cells: tuple[str, ...] = field(default=())  # grade_ids taken from the submission

    def as_cells(self) -> list[dict]:
        return [{"label": c.label, "source": c.source} for c in self.chunks]


@dataclass(frozen=True)
class SourceCell:
    label: str
    source: str
    from_student: bool


def solution_cell_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in notebook.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"].get("grade_id")
    ]


def _is_solution(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


NOTEBOOK_CHOICE = "which notebook was graded: "  # the start of every problem about choosing among several files


def choose_file(folder: Path, instructor: Path) -> tuple[Path | None, str | None]:
    """The file of `folder` to grade, and a problem to record when the choice was not clear-cut.

    In order: the release's own file name; else the notebook holding the most of the release's answer cells (by
    grade_id), the most recently saved on a tie; else a lone .py file. A blank `Untitled.ipynb` beside the real
    work is never chosen over it.
    """
    candidates = [p for p in sorted(folder.rglob("*.ipynb")) + sorted(folder.rglob("*.py"))
                  if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")]
    if not candidates:
        return None, f"{NOTEBOOK_CHOICE}none: the folder {folder.name} holds no .ipynb or .py file"
    if len(candidates) == 1:
        return candidates[0], None
    named = [p for p in candidates if p.name == instructor.name]
    if len(named) == 1:
        return named[0], None
    wanted = set(solution_cell_ids(nbformat.read(str(instructor), as_version=4)))

    def answers(p: Path) -> int:
        if p.suffix != ".ipynb":
            return 0
        try:
            return len(wanted & set(solution_cell_ids(nbformat.read(str(p), as_version=4))))
        except Exception:
            return 0

    scored = sorted(candidates, key=lambda p: (answers(p), p.stat().st_mtime), reverse=True)
    best = scored[0]
    names = ", ".join(p.name for p in candidates)
    if answers(best) == 0:
        py = [p for p in candidates if p.suffix == ".py"]
        best = py[0] if len(py) == 1 else best
        return best, f"{NOTEBOOK_CHOICE}{best.name} (none of {names} holds this assignment's answer cells; check it)"
    rivals = [p for p in scored[1:] if answers(p) == answers(best)]
    if rivals:
        return best, (f"{NOTEBOOK_CHOICE}{best.name}, the most recently saved of {len(rivals) + 1} notebooks with "
                      f"the assignment's answer cells ({names}); check that it is the one meant")
    return best, None


def _read_student(path: Path, problems: list[str], instructor: Path | None = None) -> tuple[dict[str, str] | None, str | None]:
    """(solution sources by grade_id, or None) and (plain source for .py or id-less notebooks, or None)."""
    if path.is_dir():
        if instructor is None:
            chosen = next(iter(sorted(path.rglob("*.ipynb")) + sorted(path.rglob("*.py"))), None)
            problem = None if chosen else f"{NOTEBOOK_CHOICE}none: the folder {path.name} holds no .ipynb or .py file"
        else:
            chosen, problem = choose_file(path, instructor)
        if problem:
            problems.append(problem)
        if chosen is None:
            return None, None
        path = chosen
    if path.suffix == ".py":
        try:
            return None, path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            problems.append(f"could not read {path.name}: {exc.strerror}")
            return None, None
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # any malformed file is the student's problem, reported in words
        problems.append(
            f"your notebook {path.name} could not be read ({type(exc).__name__}: {str(exc)[:200]}); "
            "save it from Jupyter again, or start from a fresh copy of the release and paste your answers in"
        )
        return None, None
    by_id: dict[str, str] = {}
    for cell in nb.cells:
        if _is_solution(cell):
            grade_id = cell.metadata["nbgrader"].get("grade_id")
            if grade_id:
                by_id[grade_id] = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    if by_id:
        return by_id, None
    problems.append("your notebook has lost its nbgrader cell metadata; all its code cells were graded in order")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return None, "\n\n".join(code)


def source_cells(instructor: Path, submission: Path) -> tuple[list[SourceCell], list[str], tuple[str, ...]]:
    problems: list[str] = []
    nb = nbformat.read(str(instructor), as_version=4)
    by_id, plain = _read_student(submission, problems, instructor)
    cells: list[SourceCell] = []
    used: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or _is_test(cell):
            continue
        if _is_solution(cell):
            grade_id = cell.metadata["nbgrader"].get("grade_id", f"cell{index}")
            if by_id is not None and grade_id in by_id:
                cells.append(SourceCell(grade_id, by_id[grade_id], True))
                used.append(grade_id)
            elif by_id is not None:
                problems.append(f"the answer cell '{grade_id}' is missing from your notebook (was it deleted?)")
        else:
            label = cell.metadata.get("nbgrader", {}).get("grade_id") or f"given-{index}"
            cells.append(SourceCell(label, cell.source, False))
    if plain is not None:
        cells.append(SourceCell(submission.stem or "submission", plain, True))
    return cells, problems, tuple(used)


def neutralise_magics(source: str) -> str:
    """Blank IPython magics and shell escapes, keeping line numbers."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines[0] = ""
    return "\n".join("" if MAGIC_LINE.match(line) else line for line in lines)


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node) if not isinstance(n, ast.Lambda))


def _target_names(node: ast.AST) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _loaded_names(node: ast.AST) -> set[str]:
    """The names a statement reads from outside: for a function or class, less its parameters and local names.

    A function `def train(model, X_train)` does not need a top-level `X_train`, so a given cell that assigns one
    (from the course's data loaders, unavailable in the sandbox) is not pulled in because of it.
    """
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        local = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
        globals_declared = {name for n in ast.walk(node) if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
        defaults = set()
        for d in [*node.args.defaults, *node.args.kw_defaults, *getattr(node, "decorator_list", [])]:
            if d is not None:
                defaults |= {n.id for n in ast.walk(d) if isinstance(n, ast.Name)}
        return (loaded - (local - globals_declared)) | defaults
    return loaded


def _course_imports(node: ast.AST) -> set[str]:
    """The course's own packages a statement imports (`from grader import check`): never in the sandbox."""
    if isinstance(node, ast.Import):
        roots = {alias.name.split(".")[0] for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        roots = {node.module.split(".")[0]}
    else:
        return set()
    return roots & COURSE_PACKAGES


def _import_only_try(node: ast.AST) -> bool:
    return isinstance(node, ast.Try) and all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in node.body)


def assemble(instructor: Path, submission: Path, needed_names: frozenset[str] = frozenset()) -> Program:
    """The program the worker loads for `submission`, built on the instructor's notebook."""
    cells, problems, used = source_cells(instructor, submission)
    given_labels = {c.label for c in cells if not c.from_student}
    statements: list[tuple[str, ast.stmt, list[str]]] = []
    for cell in cells:
        source = neutralise_magics(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            who = "your cell" if cell.from_student else "the given cell"
            problems.append(f"{who} '{cell.label}' has a syntax error at line {exc.lineno}: {exc.msg}; it was skipped")
            continue
        lines = source.splitlines()
        statements += [(cell.label, stmt, lines) for stmt in tree.body]

    always = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    keep = [False] * len(statements)
    needed = set(needed_names)
    for i, (label, stmt, _) in enumerate(statements):
        course_modules = _course_imports(stmt)
        if course_modules:
            if label not in given_labels:
                problems.append(
                    f"your cell '{label}' imports {', '.join(sorted(course_modules))}, which is not available while grading: "
                    "write the code yourself"
                )
            continue
        if isinstance(stmt, always) or _import_only_try(stmt):
            keep[i] = True
            if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
                needed |= _loaded_names(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and not _has_call(stmt):
            keep[i] = True
            needed |= _loaded_names(stmt)
    changed = True
    while changed:  # assignments with calls, kept only when something kept (or the grader) needs their names
        changed = False
        for i, (_, stmt, _) in enumerate(statements):
            if not keep[i] and isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and _target_names(stmt) & needed:
                keep[i] = True
                needed |= _loaded_names(stmt)
                changed = True

    chunks = []
    for (label, stmt, lines), kept in zip(statements, keep):
        if kept:
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            body = "\n".join(lines[start - 1 : stmt.end_lineno])
            chunks.append(Chunk(label, "\n" * (start - 1) + body + "\n"))
    return Program(tuple(chunks), tuple(problems), keep.count(False), used)


STUDENT_ID_LINE = re.compile(r"""^\s*STUDENT_ID\s*=\s*(?P<q>["'])(?P<id>[^"'\n]*)(?P=q)""", re.MULTILINE)


def declared_student_id(path: Path) -> str | None:
    """The id a student typed into the notebook's `STUDENT_ID = "..."` cell (their per-student numbers), if any."""
    try:
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8", errors="replace")
        else:
            nb = nbformat.read(str(path), as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    except Exception:
        return None
    found = STUDENT_ID_LINE.search(text)
    return found.group("id").strip() or None if found else None
