"""Forbidden shortcuts: does a task's code call what course.yaml says its students may not (`F.conv2d` for the
convolution they are asked to write, autograd for a backward pass by hand)?

A task's rule (course.yaml `forbidden:`) names library calls, the student's functions it covers and the notebook's
sentence that forbids them. Two lines of evidence, both judged in this trusted process:

1. **Static**, here: the student's answer cells are parsed (never run) and every name the covered functions use is
   resolved through the notebook's imports and aliases (`import torch.nn.functional as F`, `from torch.nn.functional
   import conv2d as c`, `c = F.conv2d`, `getattr(F, "conv2d")`), following the student's own helpers, classes and
   lambdas they call. A method rule (`torch.Tensor.backward`) matches any `.backward` whose object is not a module.
   What cannot be resolved without running the code (`getattr(F, "conv" + "2d")`, `__import__`, `importlib`,
   `eval`, `exec`) is not guessed at: it becomes a `DynamicCall` for the instructor's review.
2. **At run time**, in the worker: each request of a task with a rule carries `"watch": [names]`, and the worker
   reports which of them the call dispatched (PyTorch's function-mode hook), so a call that the static reading
   missed still shows.

Either kind of use fails every test of the task with feedback naming what was used and quoting the reason.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.submission import neutralise_magics, source_cells

# Builtins and modules that reach a name the reader cannot see: flagged, not guessed at.
DYNAMIC_BUILTINS = {
    "__import__": "imports a module by a computed name (`__import__`)",
    "eval": "runs code from a string (`eval`)",
    "exec": "runs code from a string (`exec`)",
    "compile": "compiles code from a string (`compile`)",
    "globals": "reads names through `globals()`",
    "vars": "reads names through `vars()`",
}
DYNAMIC_MODULES = {
    "importlib": "imports a module by a computed name (`importlib`)",
    "sys.modules": "reaches a module through `sys.modules`",
    "builtins": "reaches builtins through the `builtins` module",
    "operator.attrgetter": "looks an attribute up by a computed name (`operator.attrgetter`)",
    "operator.methodcaller": "calls a method by a computed name (`operator.methodcaller`)",
    # what would hide calls from the worker's watch (PyTorch's function-mode hooks)
    "torch.overrides": "switches PyTorch's function hooks (`torch.overrides`)",
    "torch._C.DisableTorchFunction": "switches PyTorch's function hooks off",
    "torch._C.DisableTorchFunctionSubclass": "switches PyTorch's function hooks off",
    "torch._C._disable_torch_function_impl": "switches PyTorch's function hooks off",
}
# Only names under these roots are looked up in the loaded libraries (a student's name never imports anything here).
RESOLVABLE_ROOTS = frozenset({"torch", "numpy"})
SNIPPET_CHARS = 80


@dataclass(frozen=True)
class Rule:
    """One task's forbidden calls (course.yaml's `Forbidden`, plus its task id)."""

    task: str
    calls: tuple[str, ...]
    functions: tuple[str, ...]
    reason: str

    @classmethod
    def from_task(cls, task) -> Rule:
        f = task.forbidden
        return cls(task.id, tuple(f.calls), tuple(f.functions), f.reason)


@dataclass(frozen=True)
class ShortcutUse:
    """A forbidden name the task's code uses, and where (the cell and line of the student's answer)."""

    task: str
    call: str          # the forbidden name of the rule it matched (torch.nn.functional.conv2d)
    code: str          # what the student wrote (`F.conv2d(x_pad, weight)`)
    cell: str
    line: int


@dataclass(frozen=True)
class DynamicCall:
    """A construct in a task's code that reaches a name the static reading cannot resolve."""

    task: str
    what: str
    code: str
    cell: str
    line: int

    def problem(self, rule: Rule) -> str:
        return (
            f"for the instructor's review: in task {self.task!r}, cell '{self.cell}' line {self.line} "
            f"{self.what} (`{self.code}`), so the grader cannot tell from the code whether it calls what the task "
            f"forbids ({', '.join(rule.calls)}); calls made while grading were still watched"
        )


@dataclass
class Findings:
    """What the static reading found, by task."""

    uses: dict[str, list[ShortcutUse]] = field(default_factory=dict)
    dynamic: dict[str, list[DynamicCall]] = field(default_factory=dict)


def static_feedback(use: ShortcutUse, rule: Rule) -> str:
    return (
        f"your code for this task uses `{use.call}` (`{use.code}` in cell '{use.cell}', line {use.line}), which "
        f"this task does not allow: the notebook says \u201c{_one_line(rule.reason)}\u201d. This test gives no points "
        "while it is used: write the computation yourself"
    )


def runtime_feedback(used: Iterable[str], rule: Rule) -> str:
    names = ", ".join(f"`{n}`" for n in sorted(used))
    return (
        f"while this test ran, your code called {names}, which this task does not allow: the notebook says "
        f"\u201c{_one_line(rule.reason)}\u201d. This test gives no points while it is used: write the computation yourself"
    )


def rules_of(assignment) -> dict[str, Rule]:
    """The forbidden-call rules of a course.yaml assignment, by task id."""
    return {t.id: Rule.from_task(t) for t in assignment.tasks if t.forbidden is not None}


def find_shortcuts(instructor: Path, submission: Path, rules: Mapping[str, Rule]) -> Findings:
    """Read the submission's cells (on the instructor's notebook) and check each rule's functions."""
    findings = Findings()
    if not rules:
        return findings
    try:
        cells, _, _ = source_cells(instructor, submission)
    except Exception:  # an unreadable notebook is reported by the grading itself; nothing to read here
        return findings
    program = _Program()
    for cell in cells:
        try:
            tree = ast.parse(neutralise_magics(cell.source))
        except SyntaxError:
            continue
        program.add(tree, cell.label, cell.from_student, cell.source)
    for task, rule in rules.items():
        reader = _RuleReader(program, rule)
        for name in rule.functions:
            reader.entry(name)
        if reader.uses:
            findings.uses[task] = reader.uses
        if reader.dynamic:
            findings.dynamic[task] = reader.dynamic
    return findings


def defined_names(source: str) -> set[str]:
    """Top-level names a block of code defines (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(neutralise_magics(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return names


def resolve_qualified(name: str, *, import_modules: bool = False) -> Any:
    """The object a dotted name denotes, or None.

    Without import_modules only modules already loaded are used and attributes are read from `vars()` (no module
    `__getattr__`, no lazy import): a student's name cannot make this process import or run anything.
    """
    parts = name.split(".")
    if parts[0] not in RESOLVABLE_ROOTS and not import_modules:
        return None
    obj, i = None, len(parts)
    while i > 0:
        module_name = ".".join(parts[:i])
        obj = sys.modules.get(module_name)
        if obj is None and import_modules:
            try:
                obj = importlib.import_module(module_name)
            except Exception:
                obj = None
        if obj is not None:
            break
        i -= 1
    if obj is None:
        return None
    for part in parts[i:]:
        obj = _static_attribute(obj, part)
        if obj is None:
            return None
    return obj


def _static_attribute(obj: Any, name: str) -> Any:
    for owner in (type.mro(obj) if isinstance(obj, type) else [obj]):
        try:
            found = vars(owner).get(name)
        except TypeError:
            return None
        if found is not None:
            return found
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------------- the reading
@dataclass
class _Binding:
    """What a top-level name is bound to: a library name (an alias) or code to read (def, class, lambda, value)."""

    qualified: str | None
    node: ast.AST | None
    cell: str
    from_student: bool
    source: str
    line: int = 0


class _Program:
    """The top-level names of all cells, last binding wins (as when the cells run in order)."""

    def __init__(self) -> None:
        self.bindings: dict[str, _Binding] = {}
        self.star_modules: list[str] = []
        self.student_methods: set[str] = set()  # `.backward` on the student's own class is not Tensor.backward

    def add(self, tree: ast.Module, cell: str, from_student: bool, source: str) -> None:
        for stmt in _top_level(tree.body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for local, qualified in _import_aliases(stmt):
                    if local == "*":
                        self.star_modules.append(qualified)
                    else:
                        self.bindings[local] = _Binding(qualified, None, cell, from_student, source, stmt.lineno)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.bindings[stmt.name] = _Binding(None, stmt, cell, from_student, source)
                if isinstance(stmt, ast.ClassDef) and from_student:
                    self.student_methods |= {
                        m.name for m in stmt.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                    }
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    pairs = [(target, stmt.value)]
                    if isinstance(target, (ast.Tuple, ast.List)):
                        values = stmt.value.elts if isinstance(stmt.value, (ast.Tuple, ast.List)) else None
                        if values is not None and len(values) == len(target.elts):
                            pairs = list(zip(target.elts, values))
                        else:
                            pairs = [(t, stmt.value) for t in target.elts]
                    for t, value in pairs:
                        if isinstance(t, ast.Name):
                            alias = _qualified(value, self.global_alias)
                            self.bindings[t.id] = _Binding(
                                alias, None if alias else value, cell, from_student, source, stmt.lineno
                            )

    def global_alias(self, name: str) -> str | None:
        b = self.bindings.get(name)
        return b.qualified if b else None


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    for stmt in body:
        if isinstance(stmt, ast.Try):  # `try: import x except ImportError: ...`, as the grader loads it
            yield from _top_level(stmt.body)
            for handler in stmt.handlers:
                yield from _top_level(handler.body)
        else:
            yield stmt


def _import_aliases(stmt: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    if isinstance(stmt, ast.Import):
        return [(a.asname, a.name) if a.asname else (a.name.split(".")[0], a.name.split(".")[0]) for a in stmt.names]
    if stmt.level or not stmt.module:
        return []
    return [("*", stmt.module) if a.name == "*" else (a.asname or a.name, f"{stmt.module}.{a.name}") for a in stmt.names]


def _qualified(node: ast.AST, lookup) -> str | None:
    """The dotted library name an expression denotes (`F.conv2d`, `getattr(F, "conv2d")`), or None."""
    if isinstance(node, ast.Name):
        return lookup(node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, lookup)
        return f"{base}.{node.attr}" if base else None
    if _is_constant_getattr(node):
        base = _qualified(node.args[0], lookup)
        return f"{base}.{node.args[1].value}" if base else None
    return None


def _is_constant_getattr(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
        and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
    )


class _RuleReader:
    """Reads the code one rule covers, following the student's own helpers; collects uses and dynamic calls."""

    def __init__(self, program: _Program, rule: Rule) -> None:
        self.program = program
        self.rule = rule
        self.uses: list[ShortcutUse] = []
        self.dynamic: list[DynamicCall] = []
        self.read: set[int] = set()
        self.pending: list[_Binding] = []  # helpers still to read (a list, not recursion: chains can be long)
        self.objects = [(c, resolve_qualified(c, import_modules=True)) for c in rule.calls]
        # A rule on a class's attribute (torch.Tensor.backward) is a method: any `.backward` can reach it.
        self.methods: dict[str, str] = {}
        for call in rule.calls:
            owner, _, attr = call.rpartition(".")
            if isinstance(resolve_qualified(owner, import_modules=True), type):
                self.methods[attr] = call

    def entry(self, name: str) -> None:
        binding = self.program.bindings.get(name)
        if binding is None:
            return
        if binding.qualified:  # `conv2d = F.conv2d`, `from torch.nn.functional import pixel_unshuffle as squeeze`
            matched = self.match(binding.qualified)
            if matched:
                code = f"{name} = {binding.qualified}"
                self.uses.append(ShortcutUse(self.rule.task, matched, code, binding.cell, binding.line))
            return
        self.pending.append(binding)
        while self.pending:
            self.scan(self.pending.pop())

    def match(self, qualified: str) -> str | None:
        for call in self.rule.calls:
            if qualified == call or qualified.startswith(call + "."):
                return call
        obj = resolve_qualified(qualified)
        if obj is not None:
            for call, forbidden in self.objects:
                if forbidden is not None and obj is forbidden:
                    return call
        return None

    def scan(self, binding: _Binding) -> None:
        node = binding.node
        if node is None or not binding.from_student or id(node) in self.read:
            return
        self.read.add(id(node))
        local_aliases, local_names = _locals(node, self.program.global_alias)
        inner = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        inner |= {id(n.args[0]) for n in ast.walk(node) if _is_constant_getattr(n)}
        calls = {id(n.func): n for n in ast.walk(node) if isinstance(n, ast.Call)}  # `c` is shown as `c(x, w)`

        def lookup(name: str) -> str | None:
            if name in local_aliases:
                return local_aliases[name]
            if name in local_names:
                return None
            return self.program.global_alias(name)

        def where(n: ast.AST) -> tuple[str, int]:
            n = calls.get(id(n), n)
            code = ast.get_source_segment(binding.source, n) or type(n).__name__
            code = " ".join(code.split())
            return (code if len(code) <= SNIPPET_CHARS else code[: SNIPPET_CHARS - 3] + "..."), getattr(n, "lineno", 0)

        def use(call: str, n: ast.AST) -> None:
            code, line = where(n)
            self.uses.append(ShortcutUse(self.rule.task, call, code, binding.cell, line))

        def flag(what: str, n: ast.AST) -> None:
            code, line = where(n)
            self.dynamic.append(DynamicCall(self.rule.task, what, code, binding.cell, line))

        for n in ast.walk(node):
            if id(n) in inner:
                continue
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "getattr" \
                    and not _is_constant_getattr(n) and "getattr" not in local_names | local_aliases.keys():
                flag("looks an attribute up by a computed name (`getattr`)", n)
                continue
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                name = n.id
                if name in local_aliases or name in local_names:
                    qualified = local_aliases.get(name)
                else:
                    bound = self.program.bindings.get(name)
                    if bound is None:
                        if name in DYNAMIC_BUILTINS and hasattr(builtins, name):
                            flag(DYNAMIC_BUILTINS[name], n)
                        for module in self.program.star_modules:  # `from torch.nn.functional import *`
                            matched = self.match(f"{module}.{name}")
                            if matched:
                                use(matched, n)
                        continue
                    if bound.qualified is None:
                        self.pending.append(bound)  # the student's helper, class or value: read it too
                        continue
                    qualified = bound.qualified
                if qualified:
                    self.check(qualified, n, use, flag)
            elif (isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)) or _is_constant_getattr(n):
                qualified = _qualified(n, lookup)
                if qualified:
                    self.check(qualified, n, use, flag)
                    continue
                attr = n.attr if isinstance(n, ast.Attribute) else n.args[1].value
                if attr in self.methods and attr not in self.program.student_methods:
                    use(self.methods[attr], n)  # `loss.backward()`: a method on an object the reading cannot type;
                    # a method of the student's own class of that name is left to the run-time evidence
                # the object's own expression (`model(x)` in `model(x).backward`) is read as part of the walk

    def check(self, qualified: str, n: ast.AST, use, flag) -> None:
        matched = self.match(qualified)
        if matched:
            use(matched, n)
            return
        for module, what in DYNAMIC_MODULES.items():
            if qualified == module or qualified.startswith(module + "."):
                flag(what, n)
                return
        if qualified.rpartition(".")[2] in DYNAMIC_BUILTINS and qualified.startswith("builtins."):
            flag(DYNAMIC_BUILTINS[qualified.rpartition(".")[2]], n)


def _locals(node: ast.AST, global_alias) -> tuple[dict[str, str], set[str]]:
    """A function's (or class's) local library aliases, and its other local names (which hide the globals)."""
    aliases: dict[str, str] = {}
    names: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        names |= {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    declared_global = {g for n in ast.walk(node) if isinstance(n, (ast.Global, ast.Nonlocal)) for g in n.names}
    for n in ast.walk(node):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            for local, qualified in _import_aliases(n):
                if local != "*":
                    aliases[local] = qualified
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            names.add(n.name)
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            alias = _qualified(n.value, lambda k: aliases.get(k) or (None if k in names else global_alias(k)))
            if alias:
                aliases[n.targets[0].id] = alias
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)) and n.id not in aliases:
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
    return aliases, names - declared_global
