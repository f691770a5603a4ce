"""Student kits: per assignment, what a student's own kernel needs to run the public checks, and nothing else.

    grader release [ASSIGNMENT]    # builds assignments/<id>/ (nbgrader) and then kits/<id>/

The trust boundary: the kit's checker is the `coursecheck` package (the folder `coursecheck/` of this repository),
which imports nothing from `grader` or `reference`. This module, on the instructor's side, builds a kit in
named steps:

1. `extract_public_tests`: from the grader file, by AST, the public tests (no `@pytest.mark.hidden`) and only
   the helpers, constants and imports they reach. Hidden tests' names, titles, code and points are never copied.
   `from reference import X as ref` becomes `ref = reference_module("reference.X")`, `grader.compare` becomes
   the kit's copy `coursecheck.compare`, `pytest` the kit's marker stand-in, and `grader.data`'s loaders are
   recorded like references. Any other course import (per-student numbers) is refused, naming the file.
   The formulas of named mistakes and of `expected=` values, and the grader functions that compute mistakes,
   become recorded values (`_HideFormulas`), so the kit ships no formula one edit away from an answer; a formula
   that reads the student's output or draws from `rng` stays, since the kit must evaluate it.
2. `record_references`: the extracted tests run in this (trusted) process against the solution notebook's
   definitions, with inputs from the kit's fixed public seed, and every reference call's, formula's and data
   loader's result is recorded. Every public test must then pass from the record alone, or the build stops.
3. `write_kit`: kits/<id>/ gets the release notebook (its `from grader import check` line replaced by the kit's
   install-and-import lines), a pyproject that installs `coursecheck` with this assignment's data, and a README.
   Every file is written deterministically, so `tests/test_kit.py` can compare a rebuild byte for byte.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

from coursecheck.recorded import Recorder, RecordingModule
from coursecheck.runner import Kit
from coursecheck.variants import SELF_LEARNER
from grader.course import Course

KIT_DIR = "kits"


def kit_assignments(course: Course) -> tuple[str, ...]:
    """The assignments that get a kit: all but those course.yaml marks `kit: false` (their public checks need code
    the kit must not ship; their students check inside the repository with `grader check`). tests/test_kit.py
    checks every kit against the grader's public verdicts."""
    return tuple(a.id for a in course.assignments if a.kit)

# Grader helpers that compute (part of) an answer from data alone: their calls are recorded, even on inputs drawn
# from rng (the arguments are still drawn in the kit; the record is keyed by their values), and they never ship.
RECORDED_HELPERS = frozenset({"softmax_np", "scores_of"})
PUBLIC_SEED = "coursecheck-public-1"  # public by design: the kit's inputs are the same for everyone
CHECKER_SOURCE = Path(__file__).resolve().parent.parent / "coursecheck"  # the package, copied into each kit
ALLOWED_IMPORTS = frozenset({"numpy", "torch", "math", "functools", "json", "itertools", "collections", "string", "typing",
                             "pathlib", "types", "weakref", "dataclasses", "time", "contextlib"})
# What else an extracted test may import: the kit's checker itself, and matplotlib for the figures the grader's
# report shows (the notebooks draw with it; the kit's `figure` fixture discards them).
KIT_OWN_IMPORTS = frozenset({"__future__", "coursecheck", "matplotlib"})
# Instructor-side modules whose results the public tests may use, recorded like the references: the digits the
# trained-model tests train on come with the kit as data (grader.data reads them from packages students lack).
RECORDED_MODULES = ("grader.data",)
INSTALL_CELL_HEAD = "%pip install -q ."
IMPORT_LINE = "from grader import check"
# Per-student numbers: the kit carries a table of them (coursecheck/variants.py says why not their maker).
VARIANTS_IMPORT = ("from grader.variants import", "from coursecheck.variants import")
VARIANT_NAMES = frozenset({"variant_numbers", "my_numbers", "format_numbers"})
KIT_IMPORT_LINE = "from coursecheck import check"


class KitError(Exception):
    """A kit could not be built; the message says which test or file and what to change."""


# --------------------------------------------------------------------------------------------- 1. public tests
def _is_hidden(fn: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) in ("pytest.mark.hidden", "pytest.mark.hidden()") for d in fn.decorator_list)


def _marker(fn: ast.FunctionDef, name: str):
    for d in fn.decorator_list:
        if isinstance(d, ast.Call) and ast.unparse(d.func) == f"pytest.mark.{name}" and d.args:
            return ast.literal_eval(d.args[0])
    return None


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _rewrite_import(node: ast.stmt, where: str, shipped: frozenset[str] = frozenset()) -> list[str]:
    """The kit's version of one import of the grader file."""
    if isinstance(node, ast.ImportFrom) and node.module in shipped:
        return [f"{a.asname or a.name} = shipped_module({node.module.rsplit('.', 1)[1]!r}).{a.name}" for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module == "reference" and any(f"reference.{a.name}" in shipped for a in node.names):
        if not all(f"reference.{a.name}" in shipped for a in node.names):
            raise KitError(f"{where}: import the modules the kit ships (KIT_SHIPS) on a line of their own")
        return [f"{a.asname or a.name} = shipped_module({a.name!r})" for a in node.names]
    if isinstance(node, ast.Import):
        out = []
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root == "pytest":
                out.append(f"from coursecheck import rubric as {alias.asname or 'pytest'}")
            elif root in ALLOWED_IMPORTS:
                out.append(ast.unparse(ast.Import(names=[alias])))
            else:
                raise KitError(f"{where}: the public tests import {alias.name}, which a student's kit does not have")
        return out
    module = node.module or ""
    if module == "__future__" or module.split(".")[0] in ALLOWED_IMPORTS:
        return [ast.unparse(node)]
    if module == "grader.compare":
        return [ast.unparse(ast.ImportFrom(module="coursecheck.compare", names=node.names, level=0))]
    if module == "reference":
        return [f"{a.asname or a.name} = reference_module({('reference.' + a.name)!r})" for a in node.names]
    if module.startswith("reference."):  # `from reference.generative_metrics import precision_recall`: recorded too
        return [f"{a.asname or a.name} = reference_module({module!r}).{a.name}" for a in node.names]
    if module == "grader.sandbox" and {a.name for a in node.names} <= {"StudentCodeFailure"}:
        return [ast.unparse(ast.ImportFrom(module="coursecheck.live", names=node.names, level=0))]
    if module in RECORDED_MODULES:
        return [f"{a.asname or a.name} = reference_module({module!r}).{a.name}" for a in node.names]
    if module == "grader.variants":
        unknown = {a.name for a in node.names} - VARIANT_NAMES
        if unknown:
            raise KitError(f"{where}: the kit's coursecheck.variants has no {', '.join(sorted(unknown))}")
        return [ast.unparse(ast.ImportFrom(module="coursecheck.variants", names=node.names, level=0))]
    if module == "grader.numbers":  # the answer makers of per-student numbers: recorded like references
        return [f"{a.asname or a.name} = reference_module({('grader.numbers.' + a.name)!r})" for a in node.names]
    raise KitError(
        f"{where}: the public tests need `from {module} import ...`, which is instructor-side code; the kit supports "
        "numpy, torch, the standard library, grader.compare and reference (recorded). Move that use into a hidden "
        "test, or precompute it"
    )


def _declared(module: list[ast.stmt], name: str) -> frozenset[str]:
    """A tuple of names the grader file declares for its kit:
    `KIT_RECORDED = ("gru_expected", ...)`: helpers that compute an answer from data alone, recorded, never shipped;
    `KIT_SHIPS = ("reference.ring", ...)`: measurement modules that answer no task, shipped as code beside the
    tests (the kit measures a student's trained model with them: no record can hold every model's result)."""
    for node in module:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


class _HideFormulas(ast.NodeTransformer):
    """Replace the formula of every named mistake's value and every `expected=` by a recorded value.

    `Mistake("the log-softmax", x - np.log(e.sum(...)))` becomes `Mistake("the log-softmax", recorded_value(site,
    THUNK, x, e))`: the site, and the local values the formula reads (its inputs). In the build's version THUNK is
    `lambda: <the formula>`, evaluated and recorded under the inputs' fingerprint; in the kit's version it is None
    and the value comes from the record. So a mistake's formula, often one edit away from the answer, never ships.
    A grader function used inside such a formula (`mha_variant(..., split=False)`, which with its defaults computes
    the right answer) is a formula too: every other call of it is recorded the same way, and it is not shipped.
    """

    def __init__(self, module: list[ast.stmt], keep_formulas: bool) -> None:
        self.module_names = set().union(*(_defined(n) for n in module)) | set(dir(builtins))
        functions = {n.name for n in module if isinstance(n, ast.FunctionDef)}
        self.always_recorded = (RECORDED_HELPERS | _declared(module, "KIT_RECORDED")) & functions
        self.keep = keep_formulas
        self.scope = "module"
        self.counts: dict[str, int] = {}
        self.tainted: set[str] = set()
        self.formula_functions: set[str] = set()
        for node in module:
            for sub in ast.walk(node):
                for formula in self._formulas(sub):
                    self.formula_functions |= {c.func.id for c in ast.walk(formula)
                                               if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in functions}
            if isinstance(node, ast.FunctionDef):
                self.formula_functions |= self.always_recorded
                self.formula_functions |= self._variant_sources(node) & functions
                if self._builds_mistakes(node):
                    self.formula_functions.add(node.name)

    @staticmethod
    def _builds_mistakes(fn: ast.FunctionDef) -> bool:
        """A function that only computes named mistakes (`causal_mistakes(m, n)`): it talks to no submission,
        raises nothing and judges nothing, so its whole result can be recorded."""
        calls = [ast.unparse(c.func) for c in ast.walk(fn) if isinstance(c, ast.Call)]
        return (any(c.endswith("Mistake") for c in calls)
                and not any(c.startswith("assert") or c.endswith("assert_close") or c.endswith("assert_choice") for c in calls)
                and not any(isinstance(n, (ast.Raise, ast.Assert)) for n in ast.walk(fn))
                and "submission" not in {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)})

    @staticmethod
    def _formulas(node: ast.AST) -> list[ast.expr]:
        """The expressions of a call that compute a named mistake's value or an expected value."""
        if not isinstance(node, ast.Call):
            return []
        func = ast.unparse(node.func)
        if func.endswith("Mistake") and len(node.args) >= 2:
            return [node.args[1]]
        if func.endswith("assert_close") or func.endswith("assert_close_or_reshaped"):
            return [kw.value for kw in node.keywords if kw.arg == "expected"]
        return []

    def _variant_sources(self, fn: ast.FunctionDef) -> set[str]:
        """Functions whose results reach a mistake's value or an expected value through a local name:
        `wrong = {name: _backward_np(...) for ...}` then `Mistake(name, g[key]) for name, g in wrong.items()`, or
        `expected = _autograd_grads(X, p, y)` then `expected=expected[key]`."""
        calls_into: dict[str, set[str]] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                called = {c.func.id for c in ast.walk(node.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                for target in node.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            calls_into.setdefault(name.id, set()).update(called)
        feeding: set[str] = set()
        for node in ast.walk(fn):
            for formula in self._formulas(node):
                feeding |= {n.id for n in ast.walk(formula) if isinstance(n, ast.Name)}
            if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and isinstance(node.elt, ast.Call) \
                    and ast.unparse(node.elt.func).endswith("Mistake"):
                feeding |= {n.id for g in node.generators for n in ast.walk(g.iter) if isinstance(n, ast.Name)}
        found: set[str] = set()
        for name in feeding:
            found |= calls_into.get(name, set())
        return found

    STUDENT_PARAMETERS = frozenset({"got", "actual", "res", "result"})  # helpers receive the student's output so

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        outer, self.scope = self.scope, node.name if self.scope == "module" else self.scope
        outer_taint = self.tainted
        if outer == "module":
            self.tainted = self._student_derived(node)
        self.generic_visit(node)
        self.scope = outer
        self.tainted = outer_taint
        return node

    def _student_derived(self, fn: ast.FunctionDef) -> set[str]:
        """Names whose values come from the student's output: a formula reading one is evaluated in the kit too
        (`np.where(got == 0, 0.0, x / (1 - p))` for a dropout that draws its own mask), never recorded."""
        tainted = {a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg in self.STUDENT_PARAMETERS}
        assigns = [n for n in ast.walk(fn) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For))]
        changed = True
        while changed:
            changed = False
            for node in assigns:
                value = node.iter if isinstance(node, ast.For) else node.value
                if value is None:
                    continue
                used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                if "submission" in used or used & tainted:
                    targets = [node.target] if not isinstance(node, ast.Assign) else node.targets
                    names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)} - tainted
                    if names:
                        tainted |= names
                        changed = True
        return tainted

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        """`from grader.data import load_mnist` inside a test becomes `load_mnist = reference_module(...).load_mnist`."""
        if self.scope == "module" or node.module not in RECORDED_MODULES:
            return node
        return [ast.Assign(targets=[ast.Name(a.asname or a.name, ast.Store())],
                           value=ast.Attribute(ast.Call(ast.Name("reference_module", ast.Load()), [ast.Constant(node.module)], []),
                                               a.name, ast.Load()), lineno=node.lineno)
                for a in node.names]

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = ast.unparse(node.func)
        if func.endswith("Mistake") and len(node.args) >= 2:
            node.args[0] = self.visit(node.args[0])
            node.args[1] = self._wrap(node.args[1])
            return node
        if func.endswith("assert_close") or func.endswith("assert_close_or_reshaped"):
            for kw in node.keywords:
                kw.value = self._wrap(kw.value) if kw.arg == "expected" else self.visit(kw.value)
            return node
        self.generic_visit(node)
        argument_names = {n.id for a in [*node.args, *(k.value for k in node.keywords)] for n in ast.walk(a) if isinstance(n, ast.Name)}
        drawn = set() if isinstance(node.func, ast.Name) and node.func.id in self.always_recorded else {"rng"}
        if isinstance(node.func, ast.Name) and node.func.id in self.formula_functions \
                and not argument_names & (self.tainted | drawn):  # a function that draws must draw in the kit too
            # The arguments are evaluated in the kit too (they may draw from rng); only the call is recorded.
            self.counts[self.scope] = self.counts.get(self.scope, 0) + 1
            site = f"{self.scope}#{self.counts[self.scope]}"
            fn = node.func if self.keep else ast.Constant(None)
            return ast.Call(func=ast.Name("recorded_call", ast.Load()), args=[ast.Constant(site), fn, *node.args],
                            keywords=node.keywords)
        return node

    def _wrap(self, expr: ast.expr) -> ast.expr:
        if isinstance(expr, (ast.Name, ast.Constant)):
            return expr  # no formula to hide
        bound = {n.arg for n in ast.walk(expr) if isinstance(n, ast.arg)}
        bound |= {t.id for c in ast.walk(expr) if isinstance(c, ast.comprehension) for t in ast.walk(c.target) if isinstance(t, ast.Name)}
        inputs = sorted({n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                        - self.module_names - bound)
        if "rng" in inputs or set(inputs) & self.tainted:  # drawn from rng, or read from the student's output:
            return expr  # the kit must evaluate it too, so the formula stays
        # Numbered within its top-level function, not by line: editing another function keeps the record's keys.
        self.counts[self.scope] = self.counts.get(self.scope, 0) + 1
        site = f"{self.scope}#{self.counts[self.scope]}"
        thunk = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=expr) \
            if self.keep else ast.Constant(None)
        return ast.Call(func=ast.Name("recorded_value", ast.Load()),
                        args=[ast.Constant(site), thunk, *(ast.Name(n, ast.Load()) for n in inputs)], keywords=[])


def extract_public_tests(grader_file: Path, *, keep_formulas: bool = False) -> tuple[str, list[dict]]:
    """(source of the public tests and what they need, one entry per public test: name, title, task, points).

    keep_formulas=False is the kit's version; True is the build's, which computes the values the kit replays.
    """
    tree = ast.parse(grader_file.read_text(encoding="utf-8"))
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    hide = _HideFormulas(body, keep_formulas)
    body = [hide.visit(n) for n in body]
    for node in body:
        ast.fix_missing_locations(node)
    tests, kept = [], []
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            if _is_hidden(node):
                continue
            doc = (ast.get_docstring(node) or "").strip().splitlines()
            tests.append({"name": node.name, "title": doc[0] if doc else node.name.removeprefix("test_").replace("_", " "),
                          "task": _marker(node, "task"), "points": _marker(node, "points")})
            kept.append(node)
    # Helpers, constants and imports reached from the public tests, to a fixed point.
    needed = set().union(*(_used(n) for n in kept)) if kept else set()
    others = [n for n in body if n not in kept and not (isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))]
    chosen: list[ast.stmt] = []
    changed = True
    while changed:
        changed = False
        for node in others:
            if node not in chosen and _defined(node) & needed:
                chosen.append(node)
                needed |= _used(node)
                changed = True
    where = grader_file.name
    lines = [f'"""Public checks of {grader_file.stem.removeprefix("test_")}, taken from its grader for the student kit.\n\n'
             'Expected values and named mistakes\' values come from the record made when the kit was built."""']
    for node in body:
        if node in chosen and isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                lines.insert(1, ast.unparse(node))
                continue
            names = [a for a in node.names if (a.asname or a.name).split(".")[0] in needed]
            node = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": names})
            lines += _rewrite_import(node, where, _declared(body, "KIT_SHIPS"))
        elif node in chosen or node in kept:
            lines.append("\n\n" + ast.unparse(node))
    source = "\n".join(lines) + "\n"
    _refuse_foreign_imports(source, where)
    return source, tests


def _imported_modules(source: str) -> list[str]:
    """Every module an absolute import in `source` names, at any depth (inside functions too)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def _refuse_foreign_imports(source: str, where: str) -> None:
    """An import inside a test or helper runs only when the check does: a module the student's kernel lacks
    (scikit-learn, say) would fail there, on the student's machine, not here. Refuse it at build time."""
    for name in _imported_modules(source):
        if name.split(".")[0] not in ALLOWED_IMPORTS | KIT_OWN_IMPORTS:
            raise KitError(f"{where}: the public tests import {name} inside a function, which a student's kit does "
                           "not have; compute it with numpy or torch in the grader file")


# ------------------------------------------------------------------------------------------- 2. the recording
def solution_namespace(course: Course, assignment_id: str) -> dict:
    """The solution notebook's definitions, as the grader's worker would load them (top-level runs skipped)."""
    from grader.submission import assemble

    assignment = course.assignment(assignment_id)
    notebook = course.root / assignment.notebook
    module = submission_names(course.root / assignment.grader)
    program = assemble(notebook, notebook, module)
    return namespace_of(program)


def namespace_of(program) -> dict:
    """Run a grader Program's cells in a fresh namespace (trusted code only: the instructor's or the gate's)."""
    namespace: dict = {"__name__": "__main__"}
    for cell in program.as_cells():
        exec(compile(cell["source"], f"<cell {cell['label']}>", "exec"), namespace)
    return namespace


def submission_names(grader_file: Path) -> frozenset[str]:
    tree = ast.parse(grader_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SUBMISSION_NAMES" for t in node.targets):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def record_references(course: Course, assignment_id: str, folder: Path, build_source: str) -> dict[str, list[str]]:
    """Run the extracted tests against the solution, recording every reference, formula and data result; then run
    the kit's own tests from that record alone. Returns the student's names each test uses; raises KitError when a
    test does not pass either way."""
    recorder = Recorder()
    recording = Kit(folder, reference_module=lambda name: RecordingModule(importlib.import_module(name), name, recorder),
                    recorded_value=recorder.value, recorded_call=recorder.call, source=build_source)
    namespace = solution_namespace(course, assignment_id)
    # No time limits while recording: a loaded build machine must not fail the solution's training.
    for result in recording.run(namespace, time_limits=False, student_id=SELF_LEARNER):
        if result.status != "passed":
            raise KitError(f"{assignment_id}: the public test {result.name} fails on the solution while recording: "
                           f"{result.feedback}")
    recorder.write(folder)
    used = {}
    for result in Kit(folder).run(namespace, time_limits=False, student_id=SELF_LEARNER):
        if result.status != "passed":
            raise KitError(f"{assignment_id}: the public test {result.name} does not pass on the solution from the "
                           f"record alone: {result.feedback}")
        used[result.name] = list(result.used)
    return used


# ------------------------------------------------------------------------------------------------ 3. the kit
def kit_notebook(release: Path) -> str:
    """The release notebook with its `from grader import check` line replaced by two lines at the top of that
    cell: `%pip install -q .` (the kit's folder is the kernel's working folder in Jupyter, JupyterLab and VS Code)
    and `from coursecheck import check`."""
    doc = json.loads(release.read_text(encoding="utf-8"))
    replaced = 0
    for cell in doc["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and IMPORT_LINE in source:
            lines = [line for line in source.splitlines() if line.strip() != IMPORT_LINE]
            cell["source"] = "\n".join([f"{INSTALL_CELL_HEAD}  # the checker, from this kit's folder", KIT_IMPORT_LINE, *lines]
                                       ).splitlines(keepends=True)
            replaced += 1
    if replaced != 1:
        raise KitError(f"{release}: expected exactly one `{IMPORT_LINE}` line in a code cell, found {replaced}")
    for cell in doc["cells"]:  # "try it" cells load the grader's digits: the kit has them too
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for before, after in (("from grader.data import", "from coursecheck.data import"), VARIANTS_IMPORT):
                if before in source:
                    source = source.replace(before, after)
                    cell["source"] = source.splitlines(keepends=True)
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "coursecheck-{dist}"
version = "0.1.0"
description = "Public checks of {id} for the student's own kernel (the coursecheck checker and this assignment's data)."
requires-python = ">=3.10"
dependencies = ["numpy>=1.24", "torch>=2.2,<3"]

[tool.setuptools]
packages = ["coursecheck", "coursecheck.assignments", "coursecheck.assignments.{id}"]

[tool.setuptools.package-data]
"coursecheck.assignments.{id}" = ["*.json", "recorded.npz"]
"""

README = """\
# {id}: your notebook and its public checks

1. Open `{notebook}` in Jupyter, JupyterLab or VS Code (in Google Colab: upload this folder and `%cd` into it).
2. Run the first code cell once: `%pip install -q .` installs the checker from this folder (numpy and torch are
   its only dependencies; on a laptop without a GPU, first `pip install torch --index-url
   https://download.pytorch.org/whl/cpu` to get the small CPU build).
3. After each answer, run its `check("task")` cell: it runs that task's public tests on what your kernel has run
   (no need to save) and names the mistake it sees. `check()` runs them all.

Hidden tests with other inputs are run when your work is graded.
"""


def shipped_source(module: str) -> str:
    """The source of a module the grader ships in its kit (KIT_SHIPS), which may import only what a kit has."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise KitError(f"KIT_SHIPS names {module}, which is not a module of this course")
    source = Path(spec.origin).read_text(encoding="utf-8")
    foreign = [name for name in _imported_modules(source) if name.split(".")[0] not in ALLOWED_IMPORTS | {"__future__"}]
    if foreign:
        raise KitError(f"KIT_SHIPS names {module}, which imports {', '.join(foreign)}: a shipped module may import "
                       f"only {', '.join(sorted(ALLOWED_IMPORTS))}")
    return source


def public_calibration(doc: dict, public_source: str) -> dict:
    """The part of a calibration file (thresholds of trained models) that the public tests read: at its first two
    levels only the keys the public tests name (`CALIBRATION["metrics"]["conv_mse"]`), below them the numbers and
    the `direction`. The notes, the pass rates and the metrics of hidden tests stay with the course: their prose
    names hidden tests. A key the public tests reach by another route is missed, and then the build's replay on the
    solution fails, naming the test."""
    literals = {n.value for n in ast.walk(ast.parse(public_source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}

    def part(value, depth: int):
        if isinstance(value, dict):
            kept = {k: part(v, depth + 1) for k, v in value.items()
                    if (k in literals if depth < 2 else True) and (not isinstance(v, str) or k == "direction")}
            return {k: v for k, v in kept.items() if v != {}}
        if isinstance(value, list):
            return [part(v, depth + 1) for v in value if not isinstance(v, str)]
        return value

    return part(doc, 0)


def write_kit(course: Course, assignment_id: str, out_dir: Path, release: Path, roster: tuple[str, ...] = ()) -> Path:
    """Build kits/<id>/ into out_dir; returns the kit's folder. With per-student numbers, the kit carries the
    self-learners' numbers and those of every id in `roster` (numbers only: see coursecheck/variants.py)."""
    assignment = course.assignment(assignment_id)
    source, tests = extract_public_tests(course.root / assignment.grader)
    build_source, _ = extract_public_tests(course.root / assignment.grader, keep_formulas=True)
    kit = Path(out_dir) / assignment_id
    with tempfile.TemporaryDirectory(prefix="grader-kit-") as tmp:
        staging = Path(tmp) / assignment_id
        package = staging / "coursecheck"
        shutil.copytree(CHECKER_SOURCE, package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "assignments"))
        data = package / "assignments" / assignment_id
        data.mkdir(parents=True)
        (package / "assignments" / "__init__.py").write_text("", encoding="utf-8")
        (data / "__init__.py").write_text("", encoding="utf-8")
        (data / "public_tests.py").write_text(source, encoding="utf-8")
        for module in sorted(_declared(ast.parse((course.root / assignment.grader).read_text(encoding="utf-8")).body, "KIT_SHIPS")):
            (data / f"{module.rsplit('.', 1)[1]}.py").write_text(shipped_source(module), encoding="utf-8")
        for calibration in sorted((course.root / assignment.grader).parent.glob(f"calibration_{assignment_id}*.json")):
            doc = public_calibration(json.loads(calibration.read_text(encoding="utf-8")), source)
            if not doc:  # no public test reads it (a01's holds only pass rates): nothing to ship
                continue
            (data / calibration.name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        meta = {"assignment": assignment_id, "seed": PUBLIC_SEED, "tasks": [t.id for t in assignment.tasks],
                "tests": tests, "grade_ids": [], "names": [], "student_numbers": _has_student_numbers(course, assignment_id),
                "call_seconds": course.limits(assignment_id).call_seconds, **_comparison_settings(course, assignment_id)}
        _write_meta(data, meta)
        if meta["student_numbers"]:
            write_numbers(assignment_id, data, (SELF_LEARNER, *roster))
        used = record_references(course, assignment_id, data, build_source)
        entries = [{**t, "names": used[t["name"]]} for t in tests]
        notebook = kit_notebook(release)
        meta.update(tests=entries, names=sorted({n for t in entries for n in t["names"]}), grade_ids=sorted(
            c["metadata"]["nbgrader"]["grade_id"] for c in json.loads(notebook)["cells"]
            if "grade_id" in c.get("metadata", {}).get("nbgrader", {})))
        _write_meta(data, meta)
        (staging / release.name).write_text(notebook, encoding="utf-8")
        (staging / "pyproject.toml").write_text(PYPROJECT.format(id=assignment_id, dist=assignment_id.replace("_", "-")), encoding="utf-8")
        (staging / "README.md").write_text(README.format(id=assignment_id, notebook=release.name), encoding="utf-8")
        if kit.exists():
            shutil.rmtree(kit)
        kit.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, kit)
    return kit


def _comparison_settings(course: Course, assignment_id: str) -> dict:
    """course.yaml's tolerances (the assignment's, and each task's own) and the tasks' own call limits, as the
    grader applies them (grader/plugin.py), so that the kit's comparisons are the grader's."""
    from grader.plugin import GradingOptions

    settings = GradingOptions.course_settings(course, assignment_id)
    pairs = lambda table: {dtype: [rtol, atol] for dtype, (rtol, atol) in sorted(table.items())}  # noqa: E731
    return {"tolerances": pairs(settings["tolerances"]),
            "task_tolerances": {task: pairs(table) for task, table in sorted(settings["task_tolerances"].items())},
            "task_call_seconds": dict(sorted(settings["task_call_seconds"].items()))}


def write_numbers(assignment_id: str, folder: Path, students: tuple[str, ...]) -> None:
    """numbers.json: every listed student's numbers for every task that has them (the maker's draws, no answer)."""
    from grader.variants import makers, variant_numbers

    tasks = sorted(makers(assignment_id))
    table = {s.strip(): {t: variant_numbers(assignment_id, t, s) for t in tasks} for s in sorted(set(students)) if s.strip()}
    doc = {"about": "per-student numbers (inputs of the hand computations, not answers); coursecheck/variants.py",
           "students": table}
    (folder / "numbers.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _write_meta(folder: Path, meta: dict) -> None:
    (folder / "kit.json").write_text(json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _has_student_numbers(course: Course, assignment_id: str) -> bool:
    return (course.root / "grader" / "numbers" / f"{assignment_id}.py").is_file()


# ------------------------------------------------------------------------------------------ a class's own kit
def class_kit(course: Course, assignment_id: str, out_dir: Path, *, roster: Path | None = None,
              zip_path: Path | None = None) -> Path:
    """`grader kit`: the kit of one assignment for a class, built into out_dir (not kits/): with a roster CSV
    (a `student` column, as `grader autograde --roster` reads), the kit also carries every listed student's
    per-student numbers, so `my_numbers(STUDENT_ID, ...)` prints each student's own; with zip_path, also a zip of
    the kit's folder for an LMS upload (entries sorted, fixed times: the same kit gives the same bytes)."""
    if assignment_id not in kit_assignments(course):
        raise KitError(f"{assignment_id} has no student kit (course.yaml says `kit: false`; kits exist for "
                       f"{', '.join(kit_assignments(course))}); its students check inside a clone of the course with `grader check`")
    students: tuple[str, ...] = ()
    if roster is not None:
        from grader.lms import LmsError, read_roster

        try:
            students = tuple(sorted(read_roster(Path(roster)).students))
        except LmsError as exc:
            raise KitError(str(exc)) from None
        if not _has_student_numbers(course, assignment_id):
            raise KitError(f"{assignment_id} has no per-student numbers: its kit is the same for every student, "
                           f"so leave out --roster (or hand out kits/{assignment_id}/ as it is)")
    name = Path(course.assignment(assignment_id).notebook).name
    kit = write_kit(course, assignment_id, Path(out_dir), course.root / "assignments" / assignment_id / name, students)
    if zip_path is not None:
        write_zip(kit, Path(zip_path))
    return kit


def write_zip(folder: Path, zip_path: Path) -> None:
    """A zip of `folder` (under its own name), byte-identical for identical files."""
    import zipfile

    zip_path.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as out:
        for path in files:
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, path.read_bytes())
