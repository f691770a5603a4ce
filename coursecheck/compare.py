"""Comparing a student's value with the reference, in the trusted process, with a message that teaches.

`assert_close` checks, in this order: a value at all, its type, its shape, its dtype family, NaN and infinities,
then the values with a tolerance chosen by the student's dtype. On a mismatch it tries the grader's known
mistakes (`Mistake`): when the student's value matches a mistaken variant, the feedback names the mistake.

The NaN/infinity message says where the value is and that it never passes, and nothing about its cause: a cause
("subtract the max first") belongs to one exercise, so the test that knows it passes it as `nan_hint`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# (rtol, atol) by the dtype the student returned. Why these numbers:
# - float64: a correct float64 implementation differs from the float64 reference only by summation order and
#   library kernels, about 1e-13 relative for the sizes we grade; 1e-7 leaves room for algebraically equal but
#   numerically different forms (log-sum-exp vs. direct softmax, expm1, ...) while any real mistake is >1e-3.
# - float32: unit roundoff is 6e-8; sums of up to ~10^4 unit-scale terms accumulate ~sqrt(n)·eps ≈ 1e-5 relative,
#   so 1e-4 relative with a 1e-5 absolute floor accepts every correct float32 implementation.
# - float16: unit roundoff 5e-4; accepted only where a test allows it.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "float32": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3),
}


@contextlib.contextmanager
def using_tolerances(overrides: Mapping[str, tuple[float, float]]) -> Iterator[None]:
    """Replace entries of TOLERANCES for a while: course.yaml's table for a grading run, a task's for its tests."""
    saved = dict(TOLERANCES)
    TOLERANCES.update(overrides)
    try:
        yield
    finally:
        TOLERANCES.clear()
        TOLERANCES.update(saved)


@dataclass(frozen=True)
class Mistake:
    """A known-wrong variant: its output on the test's inputs and the feedback that names it."""

    name: str
    value: Any
    hint: str = ""


class Mismatch(AssertionError):
    """A student's value is not the expected one; the message is the feedback.

    `hidden_message`, when given, is the feedback of a hidden test: it names the mistake without the test's inputs
    or expected values (a student could otherwise read the hidden test off the feedback page).
    """

    def __init__(self, message: str, hidden_message: str | None = None) -> None:
        super().__init__(message)
        self.hidden_message = hidden_message


def _as_array(value: Any) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if type(value) in (int, float, bool) or isinstance(value, np.generic):
        return np.asarray(value)
    if type(value).__module__ == "torch" and hasattr(value, "detach"):  # a reference tensor, trusted side only
        return value.detach().cpu().numpy()
    if type(value) in (list, tuple) and value and all(type(v) in (int, float) for v in value):
        return np.asarray(value, dtype=np.float64)
    return None


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def tolerance(
    dtype: np.dtype,
    rtol: float | None,
    atol: float | None,
    by_dtype: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> tuple[float, float]:
    """(rtol, atol) for a value of `dtype`: `rtol`/`atol` when given (every dtype), else `by_dtype`'s entry for this
    dtype (None in it: inherited), else TOLERANCES (course.yaml's table while grading)."""
    name = np.dtype(dtype).name
    base_rtol, base_atol = TOLERANCES.get(name, TOLERANCES["float64"])
    own_rtol, own_atol = (by_dtype or {}).get(name, (None, None))
    base_rtol = base_rtol if own_rtol is None else own_rtol
    base_atol = base_atol if own_atol is None else own_atol
    return (base_rtol if rtol is None else rtol, base_atol if atol is None else atol)


def _checked_by_dtype(
    tolerances: Mapping[str, tuple[float | None, float | None]] | None, rtol: float | None, atol: float | None,
) -> Mapping[str, tuple[float | None, float | None]] | None:
    """`tolerances` as given, or TypeError (a grader bug) for an unknown dtype, a malformed entry or a mix with
    rtol/atol (one would silently win over the other)."""
    if tolerances is None:
        return None
    if rtol is not None or atol is not None:
        raise TypeError("grader bug: pass either rtol/atol (one tolerance for every dtype) or tolerances= (per dtype), "
                        "not both")
    for dtype, pair in tolerances.items():
        if dtype not in TOLERANCES:
            raise TypeError(f"grader bug: tolerances= names dtype {dtype!r}; known: {', '.join(TOLERANCES)}")
        if not (isinstance(pair, tuple) and len(pair) == 2
                and all(v is None or (isinstance(v, (int, float)) and v >= 0) for v in pair)):
            raise TypeError(f"grader bug: tolerances[{dtype!r}] is {pair!r}; expected (rtol, atol), "
                            "each a number >= 0 or None to inherit")
    return tolerances


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    return np.isfinite(a) & (np.abs(a - e) <= atol + rtol * np.abs(e)) | ((a == e) & ~np.isnan(e))


def matches(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None) -> bool:
    """True when `actual` has the expected shape and values within tolerance (NaN never matches)."""
    a, e = _as_array(actual), _as_array(expected)
    if a is None or e is None or a.shape != e.shape or a.dtype.kind not in "fiub" or e.dtype.kind not in "fiub":
        return False
    r, t = tolerance(a.dtype if a.dtype.kind == "f" else np.float64, rtol, atol)
    return bool(np.all(_close(a, e, r, t)))


def assert_close(
    *,
    actual: Any,
    expected: Any,
    name: str,
    rtol: float | None = None,
    atol: float | None = None,
    tolerances: Mapping[str, tuple[float | None, float | None]] | None = None,
    mistakes: tuple[Mistake, ...] | list[Mistake] = (),
    allow_float16: bool = False,
    nan_hint: str = "",
    float32_digits: bool = False,
) -> None:
    """Raise Mismatch with feedback unless `actual` equals `expected` (a float64 reference) within tolerance.

    The tolerance follows the dtype the student returned (TOLERANCES, which course.yaml's `tolerances:` of the
    defaults, the assignment and the task replace while grading). A test that needs its own passes either
    - `tolerances={"float32": (1e-3, None)}`: per dtype (rtol, atol), None inheriting the table's value, dtypes not
      named keeping the table's. Prefer this: a float32 answer and a float64 answer carry different roundoff, so a
      tolerance is only meaningful for one dtype; or
    - `rtol=` / `atol=`: one value for every dtype, as before (kept for the graders that use it). Beware that
      tightening float32 this way loosens float64 (rtol=1e-5 is 100 times float64's 1e-7), silently.
    Each needs a comment in the grader that justifies it.

    `nan_hint` is appended to the feedback when the student's value has a NaN or infinity where the expected one is
    finite: the likely cause in this exercise ("subtract each row's max before exp" for a softmax). The generic
    message names no cause, because a hint true for one exercise misleads in every other.

    `float32_digits=True` judges a float64 result at the precision it was computed in: arithmetic done in float32
    and promoted to float64 at the end (a float64 bias added to a float32 convolution, `torch.tensor(0.05)`, which
    is float32, inside a float64 formula) is as accurate as the same arithmetic returned as float32, which float32's
    tolerance accepts. Its dtype says float64, its digits say float32. The named mistakes are checked first; use it
    only where every named mistake is far outside float32's tolerance, so that accepting those digits cannot pass a
    wrong answer.
    """
    by_dtype = _checked_by_dtype(tolerances, rtol, atol)
    expected_arr = _as_array(expected)
    if expected_arr is None:  # a TypeError, not an AssertionError: it is the grader's fault, not the student's
        raise TypeError(f"grader bug: the expected value for {name} is a {type(expected).__name__}, not an array")
    if actual is None:
        raise Mismatch(f"`{name}` is None: did you forget a `return` statement?")
    actual_arr = _as_array(actual)
    if actual_arr is None:
        raise Mismatch(f"`{name}` should be a tensor or array of shape {tuple(expected_arr.shape)}, but it is {_describe(actual)}")
    if actual_arr.shape != expected_arr.shape:
        for mistake in mistakes:  # a mistake can change the shape (padding or stride ignored): name it anyway
            if matches(actual_arr, mistake.value):
                hint = f" {mistake.hint}" if mistake.hint else ""
                raise Mismatch(f"`{name}` is wrong: it looks like {mistake.name}.{hint}")
        hint = ""
        if actual_arr.shape == expected_arr.shape[::-1] and actual_arr.ndim == 2:
            hint = " It looks transposed: check the order of the matrix product or a missing .T."
        elif actual_arr.size == expected_arr.size:
            hint = " It has the right number of elements: check a reshape, squeeze or the axis you reduce over."
        raise Mismatch(f"`{name}` has shape {tuple(actual_arr.shape)}, expected {tuple(expected_arr.shape)}.{hint}")
    kind = actual_arr.dtype.kind
    if expected_arr.dtype.kind == "f" and kind not in "fiu":
        raise Mismatch(f"`{name}` has dtype {actual_arr.dtype}; expected floating-point numbers")
    if actual_arr.dtype == np.float16 and not allow_float16:
        raise Mismatch(f"`{name}` is float16, which is too imprecise here: compute in float32 or float64 (keep the input's dtype)")
    bad = ~np.isfinite(actual_arr.astype(np.float64)) & np.isfinite(expected_arr.astype(np.float64))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        value = actual_arr[idx] if actual_arr.ndim else actual_arr
        found = f"`{name}` contains {int(bad.sum())} NaN or infinite value(s) where the expected values are finite"
        verdict = ("a NaN or infinity never passes, whatever the tolerance: find the step of your computation that first "
                   f"produces it.{' ' + nan_hint if nan_hint else ''}")
        raise Mismatch(f"{found}, first at index {idx} ({value}); {verdict}", hidden_message=f"{found}; {verdict}")
    r, t = tolerance(actual_arr.dtype if kind == "f" else np.float64, rtol, atol, by_dtype)
    ok = _close(actual_arr, expected_arr, r, t)
    if ok.all():
        return
    for mistake in mistakes:
        if matches(actual_arr, mistake.value, rtol=r, atol=t):
            hint = f" {mistake.hint}" if mistake.hint else ""
            raise Mismatch(f"`{name}` is wrong: it looks like {mistake.name}.{hint}")
    if float32_digits and actual_arr.dtype == np.float64 and np.all(_close(actual_arr, expected_arr, *tolerance(np.float32, rtol, atol, by_dtype))):
        return
    a64, e64 = actual_arr.astype(np.float64), expected_arr.astype(np.float64)
    abs_err = np.abs(a64 - e64)
    nonzero = np.abs(e64) > 0
    rel_err = np.where(nonzero, abs_err / np.where(nonzero, np.abs(e64), 1.0), 0.0)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(ok, -1.0, abs_err))), abs_err.shape)) if abs_err.ndim else ()
    summary = f"`{name}` differs from the expected value in {int((~ok).sum())} of {ok.size} element(s)"
    raise Mismatch(
        f"{summary}: max abs error {abs_err.max():.3g}, max rel error {rel_err.max():.3g} (tolerance rtol={r:g}, "
        f"atol={t:g}). Worst at index {worst}: got {a64[worst]:.6g}, expected {e64[worst]:.6g}.",
        hidden_message=f"{summary} (tolerance rtol={r:g}, atol={t:g}).",
    )


def assert_choice(*, actual: Any, correct: str, name: str, explanations: dict[str, str] | None = None) -> None:
    """A multiple-choice answer: `actual` must be the letter `correct` (any case, surrounding spaces ignored).

    `explanations` maps each wrong option to the misconception behind it, so the feedback teaches instead of only
    saying "wrong". The correct option is never revealed.
    """
    explanations = {k.strip().lower(): v for k, v in (explanations or {}).items()}
    if actual is None:
        raise Mismatch(f"`{name}` is None: set it to one of the options, for example {name} = \"a\"")
    if not isinstance(actual, str):
        raise Mismatch(f"`{name}` should be the letter of one option as a string (like \"a\"), but it is {_describe(actual)}")
    answer = actual.strip().lower().strip("()")
    if answer == correct.strip().lower():
        return
    options = sorted(set(explanations) | {correct.strip().lower()})
    if answer not in options:
        raise Mismatch(f"`{name}` = {actual!r} is not one of the options ({', '.join(options)})")
    why = explanations.get(answer)
    raise Mismatch(f"`{name}` = {answer!r} is not right{': ' + why if why else '.'}")
