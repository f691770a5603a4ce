"""Per-student numbers, the STUDENT_ID a notebook declares, and multiple-choice answers."""
from __future__ import annotations

import sys
import types

import nbformat
import pytest

from grader.compare import Mismatch, assert_choice
from grader.submission import declared_student_id
from grader.variants import VariantError, my_numbers, variant_numbers, variant_rng


@pytest.fixture
def fake_numbers(monkeypatch):
    module = types.ModuleType("grader.numbers.zz_fake")
    module.NUMBERS = {"step": lambda rng: {"w": float(rng.choice([-1.0, 0.5, 1.0, 2.0])), "x": [int(v) for v in rng.integers(0, 3, 4)]}}
    monkeypatch.setitem(sys.modules, "grader.numbers.zz_fake", module)
    return module


def test_numbers_are_reproducible_and_differ_between_students(fake_numbers):
    """Does a student always get the same numbers, and do most neighbours get other numbers?"""
    mine = variant_numbers("zz_fake", "step", "s001", key="k")
    assert mine == variant_numbers("zz_fake", "step", "s001", key="k")
    assert variant_numbers("zz_fake", "step", " s001 ", key="k") == mine  # stray spaces in the id do not matter
    others = [variant_numbers("zz_fake", "step", f"s{i:03d}", key="k") for i in range(2, 40)]
    assert sum(o != mine for o in others) >= 30


def test_numbers_depend_on_the_key_and_the_task():
    """Would another course key, or another task, give other numbers?"""
    draw = lambda **kw: variant_rng(**{"assignment": "a", "task": "t", "student": "s", "key": "k", **kw}).integers(0, 2**62)
    base = draw()
    assert base == draw()
    assert base != draw(key="other") and base != draw(task="u") and base != draw(assignment="b")


def test_my_numbers_prints_what_the_grader_uses(fake_numbers, capsys):
    """Does the notebook's my_numbers print and return exactly the grader's numbers (course.yaml's key) for that id?"""
    from grader.course import load_course

    got = my_numbers("s001", "zz_fake", "step")
    assert got == variant_numbers("zz_fake", "step", "s001", key=load_course().variant_key)
    out = capsys.readouterr().out
    assert "s001" in out and f"w = {got['w']}" in out


def test_unknown_assignment_task_or_empty_id_say_what_to_do(fake_numbers):
    with pytest.raises(VariantError, match="no per-student numbers"):
        variant_numbers("zz_missing", "step", "s", key="k")
    with pytest.raises(VariantError, match="known: step"):
        variant_numbers("zz_fake", "nope", "s", key="k")
    with pytest.raises(ValueError, match="set STUDENT_ID"):
        my_numbers("  ", "zz_fake", "step")


def test_the_declared_student_id_is_read_from_the_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch"), nbformat.v4.new_code_cell('STUDENT_ID = "ab123"  # your id')])
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    assert declared_student_id(tmp_path / "n.ipynb") == "ab123"
    (tmp_path / "s.py").write_text("STUDENT_ID = ''\n")
    assert declared_student_id(tmp_path / "s.py") is None
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert declared_student_id(tmp_path / "bad.ipynb") is None


EXPLAIN = {"a": "dropout does not speed up training", "c": "dropout is not used at test time"}


@pytest.mark.parametrize("answer", ["b", "B", " b ", "(b)"])
def test_a_right_choice_passes_in_any_spelling(answer):
    assert_choice(actual=answer, correct="b", name="q", explanations=EXPLAIN)


def test_a_wrong_choice_explains_the_misconception_without_revealing_the_answer():
    with pytest.raises(Mismatch) as err:
        assert_choice(actual="a", correct="b", name="q_dropout", explanations=EXPLAIN)
    assert "does not speed up" in str(err.value) and "'b'" not in str(err.value)


@pytest.mark.parametrize(("answer", "says"), [(None, "is None"), (2, "as a string"), ("z", "not one of the options")])
def test_an_unusable_choice_says_what_is_expected(answer, says):
    with pytest.raises(Mismatch, match=says):
        assert_choice(actual=answer, correct="b", name="q", explanations=EXPLAIN)
