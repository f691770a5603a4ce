"""What the kernel knows: the student's live definitions and, where the front end says, its notebook's path.

Front ends name the notebook differently: Jupyter Server puts `JPY_SESSION_NAME` in the kernel's environment
(and IPython sets `__session__` from it), VS Code sets `__vsc_ipynb_file__`. Google Colab names none; there the
assignment is told by the answer cells' names instead (see `identify`).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_IDS = frozenset({"", "self-learner", "your-id", "YOUR_ID"})


def user_namespace() -> dict[str, Any]:
    """The namespace the notebook's cells run in: IPython's user namespace, else `__main__`'s."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython else None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def notebook_path(namespace: dict[str, Any]) -> Path | None:
    """The path of the kernel's notebook as the front end reports it; None when it reports none."""
    for value in (namespace.get("__vsc_ipynb_file__"), namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value.endswith(".ipynb"):
            path = Path(value)
            if not path.is_absolute():  # Jupyter Server reports it relative to its root; the kernel runs beside it
                path = Path.cwd() / path.name
            return path
    return None


def grade_ids(notebook: Path) -> set[str]:
    """The nbgrader cell ids of a notebook file (they survive renames, copies and moves)."""
    try:
        doc = json.loads(notebook.read_text(encoding="utf-8"))
        return {c["metadata"]["nbgrader"]["grade_id"] for c in doc["cells"] if "grade_id" in c.get("metadata", {}).get("nbgrader", {})}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def identify(kits: dict, namespace: dict[str, Any], task: str | None) -> tuple[str | None, str]:
    """Which installed assignment the kernel is working on: (id, or None and the reason)."""
    if len(kits) == 1:
        return next(iter(kits)), ""
    if not kits:
        return None, "no assignment kit is installed in this Python: run the notebook's first cell (`%pip install ...`)"
    path = notebook_path(namespace)
    if path is not None:
        ids = grade_ids(path)
        scores = {aid: len(ids & set(kit.meta["grade_ids"])) for aid, kit in kits.items()}
        best = max(scores, key=scores.get)
        if scores[best] > 0:
            return best, ""
    if task is not None:
        owners = [aid for aid, kit in kits.items() if task in kit.tasks]
        if len(owners) == 1:
            return owners[0], ""
    defined = {aid: sum(n in namespace for n in kit.meta["names"]) for aid, kit in kits.items()}
    best = max(defined, key=defined.get)
    if defined[best] > 0 and list(defined.values()).count(defined[best]) == 1:
        return best, ""
    return None, f"could not tell which assignment this notebook is; call check(task, assignment=...) with one of {', '.join(kits)}"


def declared_student_id(namespace: dict[str, Any]) -> str | None:
    value = namespace.get("STUDENT_ID")
    return value.strip() if isinstance(value, str) else None
