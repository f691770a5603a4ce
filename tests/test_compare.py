"""Does assert_close accept every correct answer and explain every wrong one?"""
from __future__ import annotations

import numpy as np
import pytest

from grader.compare import Mismatch, Mistake, assert_close, matches

EXPECTED = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_correct_values_pass_in_float64_and_float32(dtype):
    """Is a correct result accepted whatever float precision the student computed in?"""
    assert_close(actual=EXPECTED.astype(dtype), expected=EXPECTED, name="y")


def test_float32_roundoff_passes_but_a_real_error_fails():
    """Is the float32 tolerance wide enough for roundoff and narrow enough for a 1e-3 mistake?"""
    noisy = (EXPECTED * (1 + 3e-7)).astype(np.float32)
    assert_close(actual=noisy, expected=EXPECTED, name="y")
    with pytest.raises(Mismatch):
        assert_close(actual=(EXPECTED + 1e-3).astype(np.float32), expected=EXPECTED, name="y")


@pytest.mark.parametrize(
    "actual, message",
    [
        (None, "forget a `return`"),
        ("text", "should be a tensor or array"),
        (EXPECTED.T.copy(), "transposed"),
        (EXPECTED.reshape(-1), "right number of elements"),
        (np.full((3, 4), np.nan), "NaN"),
        (EXPECTED.astype(np.float16), "float16"),
        (EXPECTED + 0.5, "max abs error 0.5"),
    ],
    ids=["none", "wrong-type", "transposed", "flattened", "nan", "float16", "values"],
)
def test_each_kind_of_wrong_answer_gets_its_own_feedback(actual, message):
    """Does the feedback say what is wrong: missing value, type, shape, NaN, precision or values?"""
    with pytest.raises(Mismatch, match=message.replace("(", r"\(")):
        assert_close(actual=actual, expected=EXPECTED, name="y")


def test_a_matching_mistake_is_named():
    """When the student's value equals a known-wrong variant, does the feedback name that mistake?"""
    mistakes = [Mistake("tanh instead of the sigmoid", np.tanh(EXPECTED)), Mistake("a sign error", -EXPECTED, "check e^(-x)")]
    with pytest.raises(Mismatch, match="looks like a sign error. check e"):
        assert_close(actual=-EXPECTED, expected=EXPECTED, name="y", mistakes=mistakes)


def test_nan_never_matches_anything():
    """Can NaN pass as equal to NaN, or match a mistake? (It must not.)"""
    nan = np.full(3, np.nan)
    assert not matches(nan, nan)
    with pytest.raises(Mismatch, match="NaN"):
        assert_close(actual=nan, expected=np.zeros(3), name="y")


def test_scalars_and_lists_of_numbers_are_accepted():
    """Is a Python float or a list of floats compared like a 0-d or 1-d array?"""
    assert_close(actual=0.25, expected=np.float64(0.25), name="h1")
    assert_close(actual=[1.0, 2.0], expected=np.array([1.0, 2.0]), name="y")
    with pytest.raises(Mismatch):
        assert_close(actual=0.3, expected=np.float64(0.25), name="h1")


def test_course_tolerances_apply_only_inside_a_grading_run():
    """Does course.yaml's tolerance table take effect during a run, and the code's defaults come back after?"""
    from grader.compare import TOLERANCES, using_tolerances

    before = dict(TOLERANCES)
    slightly_off = (EXPECTED * (1 + 1e-5)).astype(np.float32)
    assert_close(actual=slightly_off, expected=EXPECTED, name="y")
    with using_tolerances({"float32": (1e-7, 1e-9)}):
        with pytest.raises(Mismatch, match="rtol=1e-07"):
            assert_close(actual=slightly_off, expected=EXPECTED, name="y")
    assert TOLERANCES == before


def test_float32_digits_in_a_float64_result_pass_only_where_the_test_allows_them():
    """A float64 result computed in float32 and promoted at the end (a float32 constant in a float64 formula): does
    float32_digits=True accept it, while the default float64 tolerance refuses it, a real error fails either way,
    and a named mistake is still named first?"""
    expected = np.random.default_rng(3).normal(size=50) + 2.0
    promoted = expected.astype(np.float32).astype(np.float64) * (1 + 3e-7)
    with pytest.raises(Mismatch, match="differs from the expected value"):
        assert_close(actual=promoted, expected=expected, name="y")
    assert_close(actual=promoted, expected=expected, name="y", float32_digits=True)
    with pytest.raises(Mismatch, match="differs from the expected value"):
        assert_close(actual=expected * 1.01, expected=expected, name="y", float32_digits=True)
    with pytest.raises(Mismatch, match="it looks like the doubled value"):
        assert_close(actual=2 * expected, expected=expected, name="y", float32_digits=True,
                     mistakes=[Mistake("the doubled value", 2 * expected)])
