"""Scaffolding: a new assignment, or a new task of one, in every file the course keeps it in.

    grader new a08_demo --title "Demo"            # notebook, grader, course.yaml entry, gate data, example
    grader add-task a08_demo gelu --points 2      # a prompt, an answer and a check cell; two tests; the task line;
                                                  # a mutant and a style; the example's function

What is scaffolded is a working placeholder, marked `TODO(instructor)` everywhere: the answer returns its input and
the tests expect the input back, so at once `grader course validate` passes, `grader release` builds and verifies a
release (solution full marks, skeleton 0) and `grader preview` runs a green gate. Each TODO says what replaces it;
a placeholder left in place keeps passing, so `grader course validate` warns while any is left.

course.yaml, the grader and tests/mutants/<id>.py are edited as text (an entry, a task line, a test, a list item
inserted where YAML or Python places them), so that comments and formatting stay; each edit is checked by parsing
the result and comparing it with what was meant. Nothing is written unless every edit of the command succeeds.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import json
import keyword
import math
import re
from pathlib import Path
from typing import Any

import yaml

from grader.course import find_course_file

ASSIGNMENT_ID = re.compile(r"[a-z][a-z0-9_]*")  # course.yaml's pattern, and a module name (tests/mutants/<id>.py)
TASK_ID = re.compile(r"[a-z_][a-z0-9_]*")       # course.yaml's pattern, and the answer's function name
TODO = "TODO(instructor)"
EXAMPLE = "ada.py"                               # the example submission `new` writes (student id: the file name)
MANIFEST = "expected.yaml"  # what each example must score (tests/examples_manifest.py reads it; test_demo checks it)
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class ScaffoldError(Exception):
    """The scaffold cannot be written (an id taken or invalid, a file in the way); the message says what to do."""


# ----------------------------------------------------------------------------------------------- the two commands
def new_assignment(course_file: Path, assignment_id: str, title: str | None = None) -> list[Path]:
    """Write the files of a new assignment with no task yet; returns their paths."""
    _check_id(assignment_id, ASSIGNMENT_ID, "assignment", "a08_demo")
    root = course_file.parent
    text = course_file.read_text(encoding="utf-8")
    doc = _load_yaml(text, course_file)
    if any(isinstance(a, dict) and a.get("id") == assignment_id for a in doc.get("assignments") or ()):
        raise ScaffoldError(f"{assignment_id} is already in {course_file.name}: choose another id, or add a task to it "
                            f"with `grader add-task {assignment_id} TASK --points N`")
    title = title or assignment_id
    notebook = f"solutions/{assignment_id}/{assignment_id}.ipynb"
    grader = f"grader/graders/test_{assignment_id}.py"
    files = {
        notebook: new_notebook(assignment_id, title),
        grader: new_grader(assignment_id, title),
        f"tests/mutants/{assignment_id}.py": new_gate_data(assignment_id),
        f"examples/{assignment_id}/{EXAMPLE}": new_example(assignment_id),
        f"examples/{assignment_id}/{MANIFEST}": new_manifest(assignment_id),
    }
    for rel in (*files, f"solutions/{assignment_id}", f"examples/{assignment_id}"):
        if (root / rel).exists():
            raise ScaffoldError(f"{rel} already exists: move it away (or choose another id) and run `grader new` again")
    entry = {"id": assignment_id, "title": title, "notebook": notebook, "grader": grader, "tasks": []}
    files[course_file.name] = append_assignment(text, entry, course_file)
    return _write(root, files)


def add_task(course_file: Path, assignment_id: str, task_id: str, points: float, title: str | None = None) -> list[Path]:
    """Add a task to an assignment's notebook, grader, course.yaml entry, gate data and examples; returns the paths."""
    _check_id(task_id, TASK_ID, "task", "gelu")
    if not isinstance(points, (int, float)) or not math.isfinite(points) or points <= 0:
        raise ScaffoldError(f"--points must be a positive number (the task's points), not {points!r}")
    root = course_file.parent
    text = course_file.read_text(encoding="utf-8")
    doc = _load_yaml(text, course_file)
    entry = next((a for a in doc.get("assignments") or () if isinstance(a, dict) and a.get("id") == assignment_id), None)
    if entry is None:
        raise ScaffoldError(f"no assignment {assignment_id!r} in {course_file.name}: create it with "
                            f"`grader new {assignment_id}`, or check the id (`grader course show` lists them)")
    tasks = [t.get("id") for t in entry.get("tasks") or () if isinstance(t, dict)]
    if task_id in tasks:
        raise ScaffoldError(f"{assignment_id} already has a task {task_id!r}: choose another task id "
                            f"(its tasks: {', '.join(tasks)})")
    title = title or task_id.replace("_", " ").strip().capitalize()
    files: dict[str, str] = {}
    notebook, grader = entry.get("notebook"), entry.get("grader")
    for key, rel in (("notebook", notebook), ("grader", grader)):
        if not isinstance(rel, str) or not (root / rel).is_file():
            raise ScaffoldError(f"{course_file.name}: {assignment_id}'s {key} {rel!r} is not a file; fix the entry "
                                "(`grader course validate` says what is wrong) and run add-task again")
    files[notebook] = notebook_with_task(root / notebook, assignment_id, task_id, title, points, len(tasks) + 1)
    files[grader] = grader_with_task((root / grader).read_text(encoding="utf-8"), task_id, points, grader)
    gate = f"tests/mutants/{assignment_id}.py"
    gate_text = (root / gate).read_text(encoding="utf-8") if (root / gate).is_file() else new_gate_data(assignment_id)
    files[gate] = gate_data_with_task(gate_text, task_id, gate)
    for example in sorted((root / "examples" / assignment_id).glob("*.py")):
        rel = example.relative_to(root).as_posix()
        changed = example_with_task(example.read_text(encoding="utf-8"), task_id)
        if changed is not None:
            files[rel] = changed
    task = {"id": task_id, "points": points, "title": title}
    files[course_file.name] = append_task(text, assignment_id, task, course_file)
    return _write(root, files)


def _check_id(value: str, pattern: re.Pattern, kind: str, example: str) -> None:
    if not pattern.fullmatch(value) or keyword.iskeyword(value):
        what = "the answer's function name" if kind == "task" else "a Python module name (tests/mutants/<id>.py)"
        raise ScaffoldError(f"{value!r} is not a valid {kind} id: use lowercase letters, digits and _, starting with a "
                            f"letter, and not a Python keyword (it is also {what}), e.g. {example}")


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    written = []
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _num(value: float) -> str:
    """A number as course.yaml and a marker write it: 2, 0.5 (repr, so that halves add up exactly)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ------------------------------------------------------------------------------------------------------ templates
def new_notebook(assignment_id: str, title: str) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [
        _cell(nb, assignment_id, "markdown", "intro", f"# {title}\n\n{TODO}: what this notebook practises and the "
              "lecture it follows.\n\nAfter each answer, run its `check(\"task\")` cell: it runs that task's public "
              "tests on your saved notebook. Hidden tests with other inputs run when your work is graded."),
        _cell(nb, assignment_id, "code", "imports", "import torch\n\nfrom grader import check"),
    ]
    return _notebook_text(nb)


def _cell(nb, assignment_id: str, kind: str, grade_id: str, source: str, *, solution: bool = False):
    """A cell with nbgrader's metadata (schema 3): given cells locked, answer cells editable, none graded by hand."""
    import nbformat

    taken = {c.get("id") for c in nb.cells}
    n = 0
    while (cell_id := hashlib.sha1(f"{assignment_id}/{grade_id}/{n}".encode()).hexdigest()[:8]) in taken:
        n += 1
    meta = {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                         "solution": solution}}
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source, id=cell_id, metadata=meta)
    return nbformat.v4.new_code_cell(source, id=cell_id, metadata=meta)


def _notebook_text(nb) -> str:
    import nbformat

    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"  # as the course's notebooks are written: nbformat's JSON and a final newline


def notebook_with_task(path: Path, assignment_id: str, task_id: str, title: str, points: float, number: int) -> str:
    """The notebook with the task's prompt, answer and check cells appended."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        raise ScaffoldError(f"{path.name} is nbformat {nb.nbformat}.{nb.nbformat_minor}: save it once from JupyterLab "
                            "or Notebook 7 (nbformat 4.5, cell ids) and run add-task again")
    grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    for grade_id in (f"{task_id}-text", task_id, f"check-{task_id}"):
        if grade_id in grade_ids:
            raise ScaffoldError(f"{path.name} already has a cell with grade_id {grade_id!r}: choose another task id")
    unit = "point" if points == 1 else "points"
    answer = (f"def {task_id}(x):\n"
              f'    """{TODO}: what {task_id} computes, with the shapes of x and of the result (students read this)."""\n'
              "    ### BEGIN SOLUTION\n"
              f"    # {TODO}: replace this placeholder (it returns its input) by the solution; the release stubs it.\n"
              "    return x\n"
              "    ### END SOLUTION")
    nb.cells += [
        _cell(nb, assignment_id, "markdown", f"{task_id}-text", f"## {number}. {title} ({_num(points)} {unit})\n\n{TODO}: "
              f"the task as students read it: the formula, the shapes, what not to call. Implement `{task_id}(x)`."),
        _cell(nb, assignment_id, "code", task_id, answer, solution=True),
        _cell(nb, assignment_id, "code", f"check-{task_id}", f'check("{task_id}")'),
    ]
    return _notebook_text(nb)


def new_grader(assignment_id: str, title: str) -> str:
    return f'''"""Grader for {assignment_id}: {title}.

{TODO}: what the assignment checks, and the lecture it follows.

Each test builds its inputs from the seeded `rng` (hidden tests: different for every student), calls the student's
function in the sandbox with `submission.call`, and compares with the reference's value with `assert_close`,
naming known mistakes (docs/authoring.md §2).
"""
import numpy as np
import pytest

from grader.compare import Mistake, assert_close

SUBMISSION_NAMES = ()  # the answers the grader reads; `grader add-task` adds each task's function
'''


def _tests(task_id: str, points: float) -> str:
    half = _num(points / 2)  # one public and one hidden test; halves of a float add up to it exactly
    return f'''

@pytest.mark.task("{task_id}")
@pytest.mark.points({half})
def test_{task_id}_on_random_inputs(submission, rng):
    """{task_id}(x) on a random matrix ({TODO}: say what is checked; students read this line)"""
    x = rng.normal(0.0, 2.0, size=(4, 5))
    got = submission.call("{task_id}", x)
    # {TODO}: the reference's value, e.g. ref.{task_id}(torch.from_numpy(x)).numpy(); the placeholder expects the
    # input back, as the placeholder solution returns it. Name the mistakes students make (each needs a mutant).
    expected = x
    assert_close(
        actual=got, expected=expected, name="{task_id}(x)",
        mistakes=[Mistake("the input negated ({TODO}: a placeholder mistake)", np.negative(x))],
    )


@pytest.mark.task("{task_id}")
@pytest.mark.points({half})
@pytest.mark.hidden
def test_{task_id}_on_unseen_inputs(submission, rng):
    """{task_id}(x) on inputs students have not seen ({TODO}: say what is checked)"""
    x = rng.normal(0.0, 5.0, size=(3, 4, 2))
    got = submission.call("{task_id}", x)
    expected = x  # {TODO}: the reference's value, as in the public test
    assert_close(actual=got, expected=expected, name="{task_id}(x)")
'''


def grader_with_task(source: str, task_id: str, points: float, rel: str) -> str:
    """The grader with the task's two tests appended and its function in SUBMISSION_NAMES."""
    tree = _parse(source, rel)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name in (f"test_{task_id}_on_random_inputs", f"test_{task_id}_on_unseen_inputs"):
        if name in defined:
            raise ScaffoldError(f"{rel} already defines {name}: choose another task id")
    imported = {alias.asname or alias.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for alias in n.names}
    missing = [line for name, line in (("np", "import numpy as np"), ("pytest", "import pytest"),
                                       ("Mistake", "from grader.compare import Mistake"),
                                       ("assert_close", "from grader.compare import assert_close"))
               if name not in imported]
    if missing:
        raise ScaffoldError(f"{rel} lacks {'; '.join(missing)}, which the scaffolded tests use: add it and run "
                            "add-task again")
    source = _with_submission_name(source, tree, task_id, rel)
    result = source.rstrip("\n") + "\n" + _tests(task_id, points)
    _parse(result, rel)
    return result


def _with_submission_name(source: str, tree: ast.Module, name: str, rel: str) -> str:
    node = next((n for n in tree.body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "SUBMISSION_NAMES" for t in n.targets)), None)
    if node is None:
        raise ScaffoldError(f"{rel} has no SUBMISSION_NAMES = (...): add `SUBMISSION_NAMES = ()` after its imports")
    try:
        names = tuple(ast.literal_eval(node.value))
    except ValueError:
        raise ScaffoldError(f"{rel}: SUBMISSION_NAMES is not a literal tuple of names; write it out") from None
    if name in names:
        return source
    names += (name,)
    value = "(" + ", ".join(json.dumps(n) for n in names) + ("," if len(names) == 1 else "") + ")"
    start, end = _offset(source, node.value.lineno, node.value.col_offset), \
        _offset(source, node.value.end_lineno, node.value.end_col_offset)
    return source[:start] + value + source[end:]


def new_gate_data(assignment_id: str) -> str:
    return f'''"""{assignment_id}: the quality gate's data (docs/authoring.md §3): wrong solutions and other correct styles.

Each Mutant is the solution with one known mistake: it must lose points, and the failing test's feedback must
contain its text. Each Style is another correct way to write answers: it must get full marks. `grader add-task` adds
a placeholder of each ({TODO}: replace them); `grader preview {assignment_id}` runs them.
"""
from tests.mutants import Mutant, Style

MUTANTS = [
]

STYLES = [
]
'''


def gate_data_with_task(source: str, task_id: str, rel: str) -> str:
    """tests/mutants/<id>.py with the task's placeholder mutant and style appended to MUTANTS and STYLES."""
    mutant = (f"# {TODO}: {task_id}'s placeholder; one mutant per mistake the grader names, made from the solution\n"
              f'Mutant("{task_id}", "return x", "return -x", "the input negated"),')
    style = (f"# {TODO}: {task_id} written another correct way (numpy, loops, float32, a library call)\n"
             f'Style("{task_id}: the placeholder written another way", '
             f'{{"{task_id}": "def {task_id}(x):\\n    return x.clone()\\n"}}),')
    source = _append_to_list(source, "MUTANTS", mutant, rel)
    return _append_to_list(source, "STYLES", style, rel)


def _append_to_list(source: str, name: str, item: str, rel: str) -> str:
    """`item` (lines of Python) added as the last element of the module-level list `name = [...]`."""
    tree = _parse(source, rel)
    node = next((n for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                 and any(isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign)
                                                                             else [n.target]))), None)
    if node is None or not isinstance(node.value, ast.List):
        raise ScaffoldError(f"{rel} has no `{name} = [...]` list: add `{name} = [\\n]` and run add-task again")
    before = len(node.value.elts)
    close = _offset(source, node.value.end_lineno, node.value.end_col_offset) - 1  # the `]`
    if node.value.elts:
        last = node.value.elts[-1]
        after_last = _offset(source, last.end_lineno, last.end_col_offset)
        between = source[after_last:close].split("#", 1)[0]
        if "," not in between:
            source = source[:after_last] + "," + source[after_last:]
            close += 1
    line_start = source.rfind("\n", 0, close) + 1
    indented = "".join(f"    {line}\n" for line in item.splitlines())
    if source[line_start:close].strip():  # `[]` or `[a, b]` on one line: open it up
        source = source[:close] + "\n" + indented + source[close:]
    else:
        source = source[:line_start] + indented + source[line_start:]
    check = _parse(source, rel)
    after = next(n for n in check.body if isinstance(n, (ast.Assign, ast.AnnAssign)) and any(
        isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign) else [n.target])))
    if len(after.value.elts) != before + 1:
        raise ScaffoldError(f"could not add to {name} in {rel}; add the item by hand:\n{item}")
    return source


def new_manifest(assignment_id: str) -> str:
    return (f"# The example submissions of {assignment_id} (student id = file name), graded by `make demo`, and what each\n"
            "# must score, per test or per task (format: tests/examples_manifest.py; the package's tests check it).\n"
            f"examples:\n  {EXAMPLE}:\n    what: \"{TODO}: what this example shows\"\n    full_marks: true\n")


def new_example(assignment_id: str) -> str:
    return f'''"""An example submission for {assignment_id} (student id: the file name), graded by `grader demo`.

{TODO}: write it as a student would, with a mistake or two, and say in examples/{assignment_id}/{MANIFEST} what
each example shows and must score.
"""
import torch
'''


def example_with_task(source: str, task_id: str) -> str | None:
    """The example with the task's function appended (None: it defines it already, or is not valid Python)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if any(isinstance(n, ast.FunctionDef) and n.name == task_id for n in tree.body):
        return None
    return source.rstrip("\n") + f"\n\n\ndef {task_id}(x):\n    return x  # {TODO}: a student's answer\n"


def _parse(source: str, rel: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise ScaffoldError(f"{rel} is not valid Python ({exc}); fix it and run the command again") from None


def _offset(source: str, lineno: int, col: int) -> int:
    """The string index of ast's (line, UTF-8 byte column)."""
    lines = source.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:lineno - 1])
    return start + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8")) if lineno <= len(lines) else len(source)


# ----------------------------------------------------------------------------------------- course.yaml, as text
def _load_yaml(text: str, course_file: Path) -> dict:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScaffoldError(f"{course_file.name} is not valid YAML ({exc}); `grader course validate` shows where") from None
    if not isinstance(doc, dict):
        raise ScaffoldError(f"{course_file.name} is not a mapping with an `assignments:` list")
    return doc


def _assignments_node(text: str, course_file: Path) -> yaml.SequenceNode:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = next((v for k, v in root.value if k.value == "assignments"), None) if isinstance(root, yaml.MappingNode) else None
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        raise ScaffoldError(f"{course_file.name} has no block list under `assignments:` (one `- id: ...` entry per "
                            "assignment); write one by hand, then use the scaffold")
    return node


def _last_line(node: yaml.Node) -> int:
    """The 0-based line of a node's last character (block collections end where their last value ends)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end = node.end_mark
    return end.line if end.column > 0 else end.line - 1


def _indents(lines: list[str], item: yaml.Node) -> tuple[str, str]:
    """The indentation of a block list item's dash, and of its content."""
    line = lines[item.start_mark.line]
    return " " * (len(line) - len(line.lstrip(" "))), " " * item.start_mark.column


def _insert_after(lines: list[str], index: int, new: list[str]) -> str:
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines[:index + 1] + new + lines[index + 1:])


def _checked(new_text: str, expected: dict, course_file: Path, what: str) -> str:
    """The edited text, if it parses to exactly what was meant (else nothing is written)."""
    try:
        got = yaml.safe_load(new_text)
    except yaml.YAMLError:
        got = None
    if got != expected:
        raise ScaffoldError(f"could not insert {what} into {course_file.name} without changing anything else (its "
                            "layout is unusual); add it by hand, then run the command again")
    return new_text


def append_assignment(text: str, entry: dict[str, Any], course_file: Path) -> str:
    """course.yaml with a new entry after the last assignment, indented as the first one is."""
    node = _assignments_node(text, course_file)
    lines = text.splitlines(keepends=True)
    dash, content = _indents(lines, node.value[0])
    new = [f"{dash}- id: {entry['id']}\n"]
    new += [f"{content}{k}: {json.dumps(entry[k], ensure_ascii=False) if k == 'title' else entry[k]}\n"
            for k in ("title", "notebook", "grader")]
    new.append(f"{content}tasks: []   # `grader add-task {entry['id']} TASK --points N` adds each task (at least one)\n")
    expected = _load_yaml(text, course_file)
    expected["assignments"].append(entry)
    return _checked(_insert_after(lines, _last_line(node.value[-1]), new), expected, course_file, "the entry")


def append_task(text: str, assignment_id: str, task: dict[str, Any], course_file: Path) -> str:
    """course.yaml with `- {id, points, title}` after the assignment's last task."""
    node = _assignments_node(text, course_file)
    lines = text.splitlines(keepends=True)
    entry = next((a for a in node.value if isinstance(a, yaml.MappingNode)
                  and any(k.value == "id" and getattr(v, "value", None) == assignment_id for k, v in a.value)), None)
    pair = next(((k, v) for k, v in entry.value if k.value == "tasks"), None) if entry is not None else None
    if pair is None:
        raise ScaffoldError(f"{assignment_id}'s entry in {course_file.name} has no `tasks:` key; add `tasks: []`")
    key, tasks = pair
    line = f"{{id: {task['id']}, points: {_num(task['points'])}, title: {json.dumps(task['title'], ensure_ascii=False)}}}"
    if isinstance(tasks, yaml.SequenceNode) and tasks.value and not tasks.flow_style:
        dash, _ = _indents(lines, tasks.value[0])
        new_text = _insert_after(lines, _last_line(tasks.value[-1]), [f"{dash}- {line}\n"])
    elif isinstance(tasks, yaml.SequenceNode) and not tasks.value:  # `tasks: []`, as `grader new` writes it
        at = key.start_mark.line
        lines[at] = lines[at][:key.start_mark.column] + "tasks:\n"
        new_text = _insert_after(lines, at, [f"{' ' * (key.start_mark.column + 2)}- {line}\n"])
    else:
        raise ScaffoldError(f"{assignment_id}'s tasks in {course_file.name} are not a block list; write them one "
                            "`- {id: ..., points: ...}` per line and run add-task again")
    expected = _load_yaml(text, course_file)
    target = next(a for a in expected["assignments"] if isinstance(a, dict) and a.get("id") == assignment_id)
    target["tasks"] = [*(target.get("tasks") or []), copy.deepcopy(task)]
    return _checked(new_text, expected, course_file, "the task")


# ---------------------------------------------------------------------------------------------- the command line
def add_scaffold_parsers(sub) -> None:
    p = sub.add_parser("new", help="scaffold a new assignment: solution notebook, grader, course.yaml entry, gate data, example")
    p.add_argument("assignment", help="the new assignment's id, e.g. a08_demo")
    p.add_argument("--title", default=None, help="title shown to students (default: the id)")
    p.add_argument("--course", type=Path, default=None, help="course.yaml or a folder inside the course")
    p.set_defaults(func=cmd_new)
    t = sub.add_parser("add-task", help="scaffold a task: its cells, two tests, its course.yaml line, a mutant, a style")
    t.add_argument("assignment", help="the assignment's id")
    t.add_argument("task", help="the new task's id, also the answer's function name, e.g. gelu")
    t.add_argument("--points", type=float, required=True, help="the task's points (split between its two tests)")
    t.add_argument("--title", default=None, help="title shown to students (default: from the id)")
    t.add_argument("--course", type=Path, default=None, help="course.yaml or a folder inside the course")
    t.set_defaults(func=cmd_add_task)


def _report(paths: list[Path], root: Path, then: str) -> None:
    for path in paths:
        print(f"wrote {path.relative_to(root).as_posix()}")
    print(then)


def cmd_new(args) -> int:
    from grader.cli import CommandError  # here, not at the top: grader.cli imports this module's parser

    course_file = find_course_file(args.course)
    try:
        paths = new_assignment(course_file, args.assignment, args.title)
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from None
    _report(paths, course_file.parent,
            f"next: `grader add-task {args.assignment} TASK --points N` for each task ({course_file.name} needs at "
            f"least one before it loads again), then replace every {TODO}")
    return 0


def cmd_add_task(args) -> int:
    from grader.cli import CommandError

    course_file = find_course_file(args.course)
    try:
        paths = add_task(course_file, args.assignment, args.task, args.points, args.title)
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from None
    _report(paths, course_file.parent,
            f"next: replace the {TODO} placeholders of {args.task}, then `grader preview {args.assignment} "
            f"--task {args.task}` and `grader release {args.assignment}`")
    return 0
