"""Reference results recorded when the kit was built, replayed in the student's kernel.

The public tests call reference functions (`ref.softmax(x)`) to get their expected values. The kit ships no
reference code: when the instructor builds the kit, every such call of the public tests (inputs drawn from the
kit's fixed public seed) is run once and its result stored under a fingerprint of the function's name and inputs.
In the student's kernel the same tests draw the same inputs, and `ReplayModule` answers each call from the record.

Two fingerprints per call: the exact bytes of the inputs, and the inputs rounded to float32. The second one finds
the record when an input was computed by torch on another platform and differs in the last bits (different BLAS);
a real change of input (a student's output fed into a reference) differs far above float32 rounding and misses.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coursecheck.compare import Mistake


_MISSING = object()
RAISABLE = {e.__name__: e for e in (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, ArithmeticError)}


class Raised:
    """A reference call that raised (a02's `conv_cases` draw until the reference accepts one): replayed as raised."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind, self.message = kind, message

    def throw(self):
        raise RAISABLE[self.kind](self.message)


class NotRecorded(LookupError):
    """A reference call the kit has no recorded result for: the check cannot run offline."""


def fingerprints(name: str, args: tuple, kwargs: dict) -> tuple[str, str]:
    """(exact, float32-rounded) fingerprints of a call `name(*args, **kwargs)`."""
    exact, rounded = hashlib.sha256(name.encode()), hashlib.sha256(name.encode())
    try:
        _feed((args, sorted(kwargs.items())), exact, rounded)
    except TypeError as exc:
        raise TypeError(f"{exc} (an argument of {name})") from None
    return exact.hexdigest(), rounded.hexdigest()


def _feed(value: Any, exact, rounded) -> None:
    def both(data: bytes, data_rounded: bytes | None = None) -> None:
        exact.update(data)
        rounded.update(data if data_rounded is None else data_rounded)

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        both(b"T")
        value = value.numpy() if value.dtype != torch.bfloat16 else value.float().numpy()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        head = f"A{array.dtype.str}{array.shape}".encode()
        if array.dtype.kind == "f":
            both(head + array.tobytes(), head + array.astype(np.float32).tobytes())
        else:
            both(head + array.tobytes())
    elif isinstance(value, (list, tuple)):
        both(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _feed(item, exact, rounded)
        both(b")")
    elif isinstance(value, dict):
        _feed(sorted(value.items(), key=lambda kv: repr(kv[0])), exact, rounded)
    elif isinstance(value, float) or isinstance(value, np.floating):
        both(f"f{float(value)!r}".encode(), f"f{np.float32(value)!r}".encode())
    elif value is None or isinstance(value, (bool, int, str, np.integer, np.bool_)):
        both(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, torch.dtype):
        both(f"dtype:{value}".encode())
    elif isinstance(value, Mistake):  # a named mistake passed on (a03's table of them): its name, value and hint
        both(b"M")
        _feed((value.name, value.value, value.hint), exact, rounded)
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


# ------------------------------------------------------------------------------------------- storing the results
def encode(value: Any, arrays: list[np.ndarray]) -> Any:
    """`value` as JSON-able data; arrays and tensors are appended to `arrays` and referred to by index."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        arrays.append(t.numpy().copy() if t.dtype != torch.bfloat16 else t.float().numpy())
        return {"$tensor": len(arrays) - 1, "bf16": t.dtype == torch.bfloat16}
    if isinstance(value, np.ndarray):
        arrays.append(value.copy())
        return {"$array": len(arrays) - 1}
    if isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"$scalar": len(arrays) - 1}
    if isinstance(value, Mistake):
        return {"$mistake": [value.name, encode(value.value, arrays), value.hint]}
    if isinstance(value, Raised):
        return {"$raised": [value.kind, value.message]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("cannot record a dict with keys that are not strings")
        return {"$dict": {k: encode(v, arrays) for k, v in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}")


def decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "$tensor" in value:
            t = torch.from_numpy(arrays[f"a{value['$tensor']}"].copy())
            return t.to(torch.bfloat16) if value.get("bf16") else t
        if "$array" in value:
            return arrays[f"a{value['$array']}"].copy()
        if "$scalar" in value:
            return arrays[f"a{value['$scalar']}"][()]
        if "$tuple" in value:
            return tuple(decode(v, arrays) for v in value["$tuple"])
        if "$mistake" in value:
            name, mistake_value, hint = value["$mistake"]
            return Mistake(name, decode(mistake_value, arrays), hint)
        if "$raised" in value:
            return Raised(*value["$raised"])
        if "$dict" in value:
            return {k: decode(v, arrays) for k, v in value["$dict"].items()}
    return value


class Record:
    """The recorded calls of one assignment: fingerprint → result."""

    def __init__(self, calls: dict[str, Any] | None = None, arrays: dict[str, np.ndarray] | None = None) -> None:
        self.calls = calls or {}
        self.arrays = arrays or {}

    def lookup(self, name: str, args: tuple, kwargs: dict) -> Any:
        exact, rounded = fingerprints(name, args, kwargs)
        entry = self.calls.get(exact) or self.calls.get("~" + rounded)
        if entry is None:
            raise NotRecorded(f"the kit has no recorded result of {name} for these inputs")
        return decode(entry, self.arrays)

    def constant(self, qualified: str) -> tuple[bool, Any]:
        """(found, value) of a module constant the tests read (`ref.PARAM_NAMES`)."""
        entry = self.calls.get("attr:" + qualified, _MISSING)
        return (False, None) if entry is _MISSING else (True, decode(entry, self.arrays))

    @classmethod
    def load(cls, folder: Path) -> Record:
        doc = json.loads((folder / "recorded.json").read_text(encoding="utf-8"))
        with np.load(folder / "recorded.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(doc, arrays)


class Recorder:
    """Build side: collects results while the public tests run against the real references."""

    def __init__(self) -> None:
        self.calls: dict[str, Any] = {}
        self.arrays: list[np.ndarray] = []

    def add(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        exact, rounded = fingerprints(name, args, kwargs)
        if exact not in self.calls:
            encoded = encode(result, self.arrays)
            self.calls[exact] = encoded
            self.calls.setdefault("~" + rounded, encoded)

    def add_constant(self, qualified: str, value: Any) -> None:
        self.calls.setdefault("attr:" + qualified, encode(value, self.arrays))

    def value(self, site: str, formula, *inputs: Any) -> Any:
        """A named mistake's or an expected value's formula, evaluated and recorded under its inputs."""
        result = formula()
        self._add_if_possible(site, inputs, {}, result)
        return result

    def call(self, site: str, function, *args: Any, **kwargs: Any) -> Any:
        """A call of a grader function that computes mistakes, made and recorded under its arguments."""
        result = function(*args, **kwargs)
        self._add_if_possible(site, args, kwargs, result)
        return result

    def _add_if_possible(self, site: str, args: tuple, kwargs: dict, result: Any) -> None:
        # A call inside a function whose every use is recorded as a whole (a03's `lstm_mistakes`, which maps
        # lambdas) never runs in the kit; the build's replay of every test from the record alone proves it.
        try:
            fingerprints(site, args, kwargs)
        except TypeError:
            return
        self.add(site, args, kwargs, result)

    def write(self, folder: Path) -> None:
        """recorded.json and recorded.npz, byte-identical for identical records (no timestamps, sorted keys)."""
        (folder / "recorded.json").write_text(json.dumps(self.calls, sort_keys=True, indent=0) + "\n", encoding="utf-8")
        buffer = io.BytesIO()
        np.savez(buffer, **{f"a{i}": a for i, a in enumerate(self.arrays)})
        (folder / "recorded.npz").write_bytes(_zip_without_times(buffer.getvalue()))


def _zip_without_times(data: bytes) -> bytes:
    """np.savez stamps each member with the current time; rewrite the archive with a fixed one."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


class ReplayModule:
    """Stands in for a `reference` module in the shipped tests: `ref.softmax(x, dim=-1)` answers from the record."""

    def __init__(self, module: str, record: Record) -> None:
        self._module = module
        self._record = record

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        qualified = f"{self._module}.{name}"
        found, value = self._record.constant(qualified)
        if found:
            return value

        def replay(*args, **kwargs):
            result = self._record.lookup(qualified, args, kwargs)
            if isinstance(result, Raised):
                result.throw()
            return result

        replay.__name__ = name
        return replay


class RecordingModule:
    """Build side: the real reference module, with every call's result recorded for the kit."""

    def __init__(self, module, name: str, recorder: Recorder) -> None:
        self._real = module
        self._module = name
        self._recorder = recorder

    def __getattr__(self, name: str):
        real = getattr(self._real, name)
        if name.startswith("__"):
            return real
        qualified = f"{self._module}.{name}"
        if not callable(real):
            self._recorder.add_constant(qualified, real)
            return real

        def record(*args, **kwargs):
            try:
                result = real(*args, **kwargs)
            except tuple(RAISABLE.values()) as exc:
                if type(exc).__name__ in RAISABLE:
                    self._recorder.add(qualified, args, kwargs, Raised(type(exc).__name__, str(exc)))
                raise
            self._recorder._add_if_possible(qualified, args, kwargs, result)
            return result

        return record
