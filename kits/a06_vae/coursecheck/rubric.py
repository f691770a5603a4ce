"""Stands in for `pytest` in the shipped public tests: the tests only read their rubric markers from it.

`@pytest.mark.task("sigmoid")`, `@pytest.mark.points(1)` store the marker on the function; the kit's runner reads
them back. No pytest runtime ships to students.
"""
from __future__ import annotations

from typing import Any, Callable


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any) -> Callable:
        def mark(fn: Callable) -> Callable:
            fn.__dict__.setdefault("rubric", {})[self.name] = args
            return fn

        if len(args) == 1 and callable(args[0]) and self.name == "hidden":  # bare @pytest.mark.hidden
            return mark(args[0])
        return mark


class _Mark:
    def __getattr__(self, name: str) -> _Marker:
        return _Marker(name)


mark = _Mark()
