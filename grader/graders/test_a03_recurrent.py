"""Grader for a03_recurrent: recurrent networks by hand and in code (lecture CE6146, 2023/10/26, review of
"RNN – Elman/Jordan Network", "LSTM", "GRU", "Bidirectional LSTM" and "Backpropagation Through Time").

Hand computations are checked against the graded student's own numbers (grader/numbers/a03_recurrent.py), recomputed
with reference.rnn. The cells are called in the sandbox on inputs drawn here from the seeded `rng` and compared with
the float64 references, and in the hidden tests with PyTorch's own nn.RNNCell, nn.LSTMCell, nn.GRUCell and nn.LSTM
and with autograd. Known mistakes are named in the feedback.
"""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch

from grader.compare import Mismatch, Mistake, assert_choice, assert_close, matches
from grader.numbers import a03_recurrent as numbers
from grader.variants import variant_numbers
from reference import rnn as ref

ID = "a03_recurrent"
# Hand answers are rounded to 4 decimals (error up to 5e-5) and later steps use earlier rounded values (h_1 inside
# h_2, the gates inside c_t and h_t), which adds a few 1e-4 at most: 5e-4 accepts every careful hand computation,
# while every mistake the grader names moves some answer by more than 5e-3 (the number makers make sure of it).
HAND = {"rtol": 0.0, "atol": 5e-4}

SUBMISSION_NAMES = (
    "elman_h1", "elman_y1", "elman_h2", "jordan_h1", "jordan_y1", "jordan_h2",
    "lstm_i", "lstm_f", "lstm_g", "lstm_o", "lstm_c", "lstm_h", "gru_r", "gru_z", "gru_n", "gru_h",
    "q_lstm_gates", "q_vanishing", "q_gru_lacks", "q_lstm_params", "q_gru_params",
)
# The student kit records these helpers' results instead of shipping them: each computes answers from numbers alone.
KIT_RECORDED = ("elman_expected", "jordan_expected", "lstm_expected", "gru_expected")


@functools.lru_cache(maxsize=None)
def _numbers(task: str, student_id: str) -> str:
    return json.dumps(variant_numbers(ID, task, student_id))  # loads course.yaml once per task, not once per test


def my(task: str, student_id: str) -> dict:
    """The graded student's numbers for `task`, as their notebook printed them."""
    return json.loads(_numbers(task, student_id))


def t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def as_scalar(value):
    """A one-element array as a 0-d array: the channel currently sends a 0-d tensor back with shape (1,) (see the
    report: np.ascontiguousarray promotes 0-d arrays to 1-d), and a (1,)-shaped loss is a reasonable answer too."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
        return value.reshape(())
    return value


def values(got, count: int, what: str) -> tuple:
    """The student's return value as a tuple of `count` values, or a Mismatch that says what was expected."""
    if not isinstance(got, (tuple, list)) or len(got) != count:
        kind = f"a {type(got).__name__}" + (f" of {len(got)} values" if isinstance(got, (tuple, list)) else "")
        raise Mismatch(f"{what} should return {count} values, but it returned {kind}")
    return tuple(got)


def assert_close_or_reshaped(*, actual, expected, name, mistakes):
    """assert_close, plus mistakes whose value has another shape (only the last state returned, time-major, ...)."""
    other = [m for m in mistakes if np.shape(m.value) != np.shape(expected)]
    if isinstance(actual, np.ndarray) and actual.shape != np.shape(expected):
        for m in other:
            if matches(actual, m.value):
                raise Mismatch(f"`{name}` is wrong: it looks like {m.name}.{' ' + m.hint if m.hint else ''}")
    assert_close(actual=actual, expected=expected, name=name, mistakes=[m for m in mistakes if m not in other])


# ================================================================================================ 1. by hand
def hand_values(submission, names: list[str]) -> dict:
    return {name: submission.get(name) for name in names}


def check_hand(submission, expected: dict, wrong: dict, prefix: str, keys: str | list[str], mistakes) -> None:
    for key in ([keys] if isinstance(keys, str) else keys):
        name = f"{prefix}_{key}"
        assert_close(actual=as_scalar(submission.get(name)), expected=expected[key], name=name, **HAND,
                     mistakes=[Mistake(m.name, wrong[m.value][key], m.hint) for m in mistakes])


def elman_expected(n: dict) -> dict:
    w = {"W_xh": t([[n["w_xh"]]]), "W_hh": t([[n["w_hh"]]]), "b_h": t([n["b_h"]]), "W_hy": t([[n["w_hy"]]]),
         "b_y": t([n["b_y"]])}
    h1, y1 = ref.elman_step(t([[n["x1"]]]), t([[n["h0"]]]), **w)
    h2, _ = ref.elman_step(t([[n["x2"]]]), h1, **w)
    return {"h1": h1.item(), "y1": y1.item(), "h2": h2.item()}


ELMAN_MISTAKES = [  # Mistake(name, the key of numbers.answers' variant, hint)
    Mistake("a sigmoid instead of tanh for h_t", "sigmoid", "The lecture's f1 is tanh."),
    Mistake("the biases b_h and b_y left out", "no_bias"),
    Mistake("the recurrent term w_hh·h_{t-1} left out", "no_recurrent", "h_2 depends on h_1 through w_hh."),
]


@pytest.mark.task("elman_hand")
@pytest.mark.points(1)
def test_elman_by_hand_first_step(submission, student_id):
    """Elman by hand, t = 1: h_1 = tanh(w_hh h_0 + w_xh x_1 + b_h) and y_1 = w_hy h_1 + b_y with your numbers"""
    n = my("elman_hand", student_id)
    wrong = {m.value: numbers.answers("elman_hand", n, m.value) for m in ELMAN_MISTAKES}
    check_hand(submission, elman_expected(n), wrong, "elman", ["h1", "y1"], ELMAN_MISTAKES)


@pytest.mark.task("elman_hand")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_elman_by_hand_second_step(submission, student_id):
    """Elman by hand, t = 2: h_2 = tanh(w_hh h_1 + w_xh x_2 + b_h) with your numbers"""
    n = my("elman_hand", student_id)
    wrong = {m.value: numbers.answers("elman_hand", n, m.value) for m in ELMAN_MISTAKES}
    check_hand(submission, elman_expected(n), wrong, "elman", "h2", ELMAN_MISTAKES)


def jordan_expected(n: dict) -> dict:
    w = {"W_xh": t([[n["w_xh"]]]), "W_hh": t([[n["w_hh"]]]), "W_yh": t([[n["w_yh"]]]), "b_h": t([n["b_h"]]),
         "W_hy": t([[n["w_hy"]]]), "b_y": t([n["b_y"]])}
    h1, y1 = ref.jordan_step(t([[n["x1"]]]), t([[n["h0"]]]), t([[n["y0"]]]), **w)
    h2, _ = ref.jordan_step(t([[n["x2"]]]), h1, y1, **w)
    return {"h1": h1.item(), "y1": y1.item(), "h2": h2.item()}


JORDAN_MISTAKES = [
    Mistake("a sigmoid instead of tanh for h_t", "sigmoid", "The lecture's f1 is tanh."),
    Mistake("the biases b_h and b_y left out", "no_bias"),
    Mistake("the recurrent term w_hh·h_{t-1} left out (the lecture's Jordan network keeps it)", "no_recurrent"),
    Mistake("h_{t-1} fed back where the previous output y_{t-1} belongs", "fed_back_h",
            "A Jordan network feeds back the output: w_yh·y_{t-1} (the slide's formula writes h_t there by mistake)."),
]


@pytest.mark.task("jordan_hand")
@pytest.mark.points(1)
def test_jordan_by_hand_first_step(submission, student_id):
    """Jordan by hand, t = 1: h_1 = tanh(w_hh h_0 + w_xh x_1 + w_yh y_0 + b_h) and y_1 with your numbers"""
    n = my("jordan_hand", student_id)
    wrong = {m.value: numbers.answers("jordan_hand", n, m.value) for m in JORDAN_MISTAKES}
    check_hand(submission, jordan_expected(n), wrong, "jordan", ["h1", "y1"], JORDAN_MISTAKES)


@pytest.mark.task("jordan_hand")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_jordan_by_hand_second_step(submission, student_id):
    """Jordan by hand, t = 2: h_2 = tanh(w_hh h_1 + w_xh x_2 + w_yh y_1 + b_h) with your numbers"""
    n = my("jordan_hand", student_id)
    wrong = {m.value: numbers.answers("jordan_hand", n, m.value) for m in JORDAN_MISTAKES}
    check_hand(submission, jordan_expected(n), wrong, "jordan", "h2", JORDAN_MISTAKES)


def lstm_expected(n: dict) -> dict:
    gates = ref.lstm_gates(t([[n["x"]]]), t([[n["h_prev"]]]), t([[n["c_prev"]]]), t(n["W_ih"]).view(4, 1),
                           t(n["W_hh"]).view(4, 1), t(n["b_ih"]), t(n["b_hh"]))
    return {k: v.item() for k, v in gates.items()}


LSTM_MISTAKES = [
    Mistake("a sigmoid instead of tanh for the cell candidate c~_t", "sigmoid_candidate"),
    Mistake("the biases left out", "no_bias", "Each gate adds both b_i* and b_h*."),
    Mistake("the recurrent terms W_h*·h_{t-1} left out", "no_recurrent"),
    Mistake("c_t = f_t·c_{t-1} + i_t, without the candidate c~_t", "c_without_candidate",
            "The input gate scales the candidate: c_t = f_t·c_{t-1} + i_t·c~_t."),
    Mistake("h_t = o_t·c_t, without the tanh", "h_without_tanh", "Use h_t = o_t·tanh(c_t)."),
]


@pytest.mark.task("lstm_hand")
@pytest.mark.points(1)
def test_lstm_by_hand_gates(submission, student_id):
    """LSTM by hand: the gates i_t, f_t, o_t and the candidate c~_t with your numbers"""
    n = my("lstm_hand", student_id)
    wrong = {m.value: numbers.answers("lstm_hand", n, m.value) for m in LSTM_MISTAKES}
    check_hand(submission, lstm_expected(n), wrong, "lstm", ["i", "f", "g", "o"], LSTM_MISTAKES)


@pytest.mark.task("lstm_hand")
@pytest.mark.points(1)
def test_lstm_by_hand_cell_state(submission, student_id):
    """LSTM by hand: the new cell state c_t = f_t c_{t-1} + i_t c~_t with your numbers"""
    n = my("lstm_hand", student_id)
    wrong = {m.value: numbers.answers("lstm_hand", n, m.value) for m in LSTM_MISTAKES}
    check_hand(submission, lstm_expected(n), wrong, "lstm", "c", LSTM_MISTAKES)


@pytest.mark.task("lstm_hand")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_lstm_by_hand_hidden_state(submission, student_id):
    """LSTM by hand: the new hidden state h_t = o_t tanh(c_t) with your numbers"""
    n = my("lstm_hand", student_id)
    wrong = {m.value: numbers.answers("lstm_hand", n, m.value) for m in LSTM_MISTAKES}
    check_hand(submission, lstm_expected(n), wrong, "lstm", "h", LSTM_MISTAKES)


def gru_expected(n: dict) -> dict:
    x, h = t([[n["x"]]]), t([[n["h_prev"]]])
    W_ih, W_hh, b_ih, b_hh = t(n["W_ih"]).view(3, 1), t(n["W_hh"]).view(3, 1), t(n["b_ih"]), t(n["b_hh"])
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    cand = torch.tanh(i_n + r * h_n)
    new = ref.gru_step(x, h, W_ih, W_hh, b_ih, b_hh)
    assert torch.allclose(new, (1 - z) * cand + z * h, rtol=1e-12, atol=0), "grader bug: GRU gates disagree with the reference"
    return {"r": r.item(), "z": z.item(), "n": cand.item(), "h": new.item()}


GRU_MISTAKES = [
    Mistake("a sigmoid instead of tanh for the candidate n_t", "sigmoid_candidate"),
    Mistake("the biases left out", "no_bias"),
    Mistake("the recurrent terms W_h*·h_{t-1} left out", "no_recurrent"),
    Mistake("the lecture's update convention h_t = z_t·n_t + (1 - z_t)·h_{t-1}", "z_flipped",
            "This notebook follows PyTorch: h_t = (1 - z_t)·n_t + z_t·h_{t-1}."),
    Mistake("b_hn added outside the reset gate", "b_hn_outside", "PyTorch: n_t = tanh(W_in x + b_in + r_t·(W_hn h + b_hn))."),
]


@pytest.mark.task("gru_hand")
@pytest.mark.points(1)
def test_gru_by_hand_gates(submission, student_id):
    """GRU by hand: the reset gate r_t and the update gate z_t with your numbers"""
    n = my("gru_hand", student_id)
    wrong = {m.value: numbers.answers("gru_hand", n, m.value) for m in GRU_MISTAKES}
    check_hand(submission, gru_expected(n), wrong, "gru", ["r", "z"], GRU_MISTAKES)


@pytest.mark.task("gru_hand")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_gru_by_hand_candidate_and_new_state(submission, student_id):
    """GRU by hand: the candidate n_t and the new hidden state h_t (PyTorch's convention) with your numbers"""
    n = my("gru_hand", student_id)
    wrong = {m.value: numbers.answers("gru_hand", n, m.value) for m in GRU_MISTAKES}
    check_hand(submission, gru_expected(n), wrong, "gru", ["n", "h"], GRU_MISTAKES)


# ================================================================================================ 2. the cells
def elman_inputs(rng, B, I, H, O):
    return (rng.normal(size=(B, I)), rng.normal(size=(B, H)), 0.6 * rng.normal(size=(H, I)), 0.6 * rng.normal(size=(H, H)),
            0.5 * rng.normal(size=H), 0.6 * rng.normal(size=(O, H)), 0.5 * rng.normal(size=O))


def check_elman(got, expected_h, expected_y, x, h, W_xh, W_hh, b_h, W_hy, b_y):
    got_h, got_y = values(got, 2, "elman_step")
    pre = x @ W_xh.T + h @ W_hh.T + b_h
    mistakes = [
        Mistake("a sigmoid instead of tanh", sig(pre), "The lecture's f1 is tanh."),
        Mistake("the bias b_h left out", np.tanh(pre - b_h)),
        Mistake("the recurrent term W_hh h_{t-1} left out", np.tanh(x @ W_xh.T + b_h)),
    ]
    if W_xh.shape[0] == W_xh.shape[1]:  # a transposed square matrix still multiplies: name it
        mistakes += [Mistake("the weights transposed (x @ W instead of x @ W.T)", np.tanh(x @ W_xh + h @ W_hh + b_h),
                             "A weight of shape (out, in) acts on a batch of row vectors as x @ W.T."),
                     Mistake("the weights transposed (x @ W instead of x @ W.T)", np.tanh(x @ W_xh.T + h @ W_hh + b_h))]
    assert_close(actual=got_h, expected=expected_h, name="h_t", mistakes=mistakes)
    hh = np.asarray(expected_h)
    assert_close(actual=got_y, expected=expected_y, name="y_t", mistakes=[
        Mistake("a tanh on the output y_t (the lecture's f2 is linear)", np.tanh(hh @ W_hy.T + b_y)),
        Mistake("the output bias b_y left out", hh @ W_hy.T),
    ])


@pytest.mark.task("elman_step")
@pytest.mark.points(1)
def test_elman_step_on_a_batch(submission, rng):
    """elman_step: h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + b_h) and y_t = h_t W_hy^T + b_y on a random batch"""
    args = elman_inputs(rng, 4, 3, 3, 3)
    e_h, e_y = ref.elman_step(*map(t, args))
    check_elman(submission.call("elman_step", *args), e_h.numpy(), e_y.numpy(), *args)


@pytest.mark.task("elman_step")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_elman_step_matches_rnn_cell(submission, rng):
    """elman_step with different input, hidden and output sizes gives nn.RNNCell's state and the linear readout"""
    x, h, W_xh, W_hh, b_ih, W_hy, b_y = elman_inputs(rng, 5, 4, 6, 2)
    b_hh = 0.5 * rng.normal(size=6)
    cell = torch.nn.RNNCell(4, 6).double()
    with torch.no_grad():
        for p, v in zip(cell.parameters(), (W_xh, W_hh, b_ih, b_hh)):
            p.copy_(t(v))
        e_h = cell(t(x), t(h)).numpy()
    check_elman(submission.call("elman_step", x, h, W_xh, W_hh, b_ih + b_hh, W_hy, b_y), e_h, e_h @ W_hy.T + b_y,
                x, h, W_xh, W_hh, b_ih + b_hh, W_hy, b_y)


def jordan_inputs(rng, B, I, H, O):
    return (rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, O)), 0.6 * rng.normal(size=(H, I)),
            0.6 * rng.normal(size=(H, H)), 0.6 * rng.normal(size=(H, O)), 0.5 * rng.normal(size=H),
            0.6 * rng.normal(size=(O, H)), 0.5 * rng.normal(size=O))


def check_jordan(got, expected_h, expected_y, x, h, y, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    got_h, got_y = values(got, 2, "jordan_step")
    pre = x @ W_xh.T + h @ W_hh.T + y @ W_yh.T + b_h
    mistakes = [
        Mistake("a sigmoid instead of tanh", sig(pre), "The lecture's f1 is tanh."),
        Mistake("the bias b_h left out", np.tanh(pre - b_h)),
        Mistake("the output feedback W_yh y_{t-1} left out (that is an Elman step)", np.tanh(pre - y @ W_yh.T)),
        Mistake("the recurrent term W_hh h_{t-1} left out (the lecture's Jordan network keeps it)", np.tanh(pre - h @ W_hh.T)),
    ]
    if W_yh.shape[0] == W_yh.shape[1]:
        mistakes.append(Mistake("h_{t-1} fed back where the previous output y_{t-1} belongs",
                                np.tanh(x @ W_xh.T + h @ W_hh.T + h @ W_yh.T + b_h),
                                "A Jordan network feeds back the output (the slide's formula writes h_t there by mistake)."))
    if W_xh.shape[0] == W_xh.shape[1]:
        mistakes.append(Mistake("the weights transposed (x @ W instead of x @ W.T)",
                                np.tanh(x @ W_xh + h @ W_hh + y @ W_yh + b_h),
                                "A weight of shape (out, in) acts on a batch of row vectors as x @ W.T."))
    assert_close(actual=got_h, expected=expected_h, name="h_t", mistakes=mistakes)
    hh = np.asarray(expected_h)
    assert_close(actual=got_y, expected=expected_y, name="y_t", mistakes=[
        Mistake("a tanh on the output y_t (the lecture's f2 is linear)", np.tanh(hh @ W_hy.T + b_y)),
        Mistake("the output bias b_y left out", hh @ W_hy.T),
    ])


@pytest.mark.task("jordan_step")
@pytest.mark.points(1)
def test_jordan_step_on_a_batch(submission, rng):
    """jordan_step: h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + y_{t-1} W_yh^T + b_h), y_t = h_t W_hy^T + b_y"""
    args = jordan_inputs(rng, 4, 3, 3, 3)
    e_h, e_y = ref.jordan_step(*map(t, args))
    check_jordan(submission.call("jordan_step", *args), e_h.numpy(), e_y.numpy(), *args)


@pytest.mark.task("jordan_step")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_jordan_step_is_an_rnn_cell_fed_the_previous_output(submission, rng):
    """jordan_step with different sizes equals nn.RNNCell applied to [x_t, y_{t-1}]"""
    I, H, O = 3, 5, 2
    x, h, y, W_xh, W_hh, W_yh, b_ih, W_hy, b_y = jordan_inputs(rng, 6, I, H, O)
    b_hh = 0.5 * rng.normal(size=H)
    cell = torch.nn.RNNCell(I + O, H).double()
    with torch.no_grad():
        for p, v in zip(cell.parameters(), (np.concatenate([W_xh, W_yh], axis=1), W_hh, b_ih, b_hh)):
            p.copy_(t(v))
        e_h = cell(t(np.concatenate([x, y], axis=1)), t(h)).numpy()
    args = (x, h, y, W_xh, W_hh, W_yh, b_ih + b_hh, W_hy, b_y)
    check_jordan(submission.call("jordan_step", *args), e_h, e_h @ W_hy.T + b_y, *args)


def lstm_params(rng, I, H, scale=0.5):
    return {"W_ih": scale * rng.normal(size=(4 * H, I)), "W_hh": scale * rng.normal(size=(4 * H, H)),
            "b_ih": scale * rng.normal(size=4 * H), "b_hh": scale * rng.normal(size=4 * H)}


def lstm_np(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo", gate=sig, cand=np.tanh, use_b_hh=True, recurrent=True,
            candidate=True, tanh_c=True):
    """The LSTM step in numpy with switches for the mistakes the grader names."""
    pre = x @ W_ih.T + b_ih + (h @ W_hh.T if recurrent else 0.0) + (b_hh if use_b_hh else 0.0)
    blocks = dict(zip(order, np.split(pre, 4, axis=-1)))
    i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), cand(blocks["g"]), gate(blocks["o"])
    c_new = f * c + (i * g if candidate else i)
    return (o * np.tanh(c_new) if tanh_c else o * c_new), c_new


def lstm_mistakes(x, h, c, p, which):
    k = 0 if which == "h" else 1
    wrong = [
        ("the gate blocks in the wrong order (PyTorch stacks the rows as i, f, g, o)", {"order": "ifog"}),
        ("the gate blocks in the wrong order (PyTorch stacks the rows as i, f, g, o)", {"order": "igfo"}),
        ("the gate blocks in the wrong order (PyTorch stacks the rows as i, f, g, o)", {"order": "figo"}),
        ("the recurrent bias b_hh left out (PyTorch adds both b_ih and b_hh)", {"use_b_hh": False}),
        ("a sigmoid for the cell candidate c~_t (it uses tanh)", {"cand": sig}),
        ("tanh and sigmoid swapped (tanh gates, a sigmoid candidate)", {"gate": np.tanh, "cand": sig}),
        ("the recurrent term h_{t-1} W_hh^T left out", {"recurrent": False}),
        ("c_t = f_t c_{t-1} + i_t, without the candidate c~_t", {"candidate": False}),
    ]
    mistakes = [Mistake(name, lstm_np(x, h, c, **p, **kw)[k]) for name, kw in wrong]
    if which == "h":
        mistakes.append(Mistake("h_t = o_t c_t, without the tanh", lstm_np(x, h, c, **p, tanh_c=False)[0], "Use h_t = o_t ∘ tanh(c_t)."))
    return mistakes


def check_lstm(got, e_h, e_c, x, h, c, p):
    got_h, got_c = values(got, 2, "lstm_step (h_t, c_t)")
    assert_close(actual=got_c, expected=e_c, name="c_t", mistakes=lstm_mistakes(x, h, c, p, "c"))
    assert_close(actual=got_h, expected=e_h, name="h_t", mistakes=lstm_mistakes(x, h, c, p, "h"))


@pytest.mark.task("lstm_step")
@pytest.mark.points(1)
def test_lstm_step_on_a_batch(submission, rng):
    """lstm_step: (h_t, c_t) of one LSTM step on a random batch, gate rows (i, f, g, o)"""
    B, I, H = 3, 4, 3
    x, h, c = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = lstm_params(rng, I, H)
    e_h, e_c = ref.lstm_step(t(x), t(h), t(c), **{k: t(v) for k, v in p.items()})
    check_lstm(submission.call("lstm_step", x, h, c, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]), e_h.numpy(), e_c.numpy(), x, h, c, p)


@pytest.mark.task("lstm_step")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_lstm_step_matches_lstm_cell(submission, rng):
    """lstm_step gives nn.LSTMCell's (h_t, c_t) with the same weights"""
    B, I, H = 5, 3, 4
    x, h, c = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = lstm_params(rng, I, H, scale=0.7)
    cell = torch.nn.LSTMCell(I, H).double()
    with torch.no_grad():
        for name in p:
            getattr(cell, {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}[name]).copy_(t(p[name]))
        e_h, e_c = cell(t(x), (t(h), t(c)))
    check_lstm(submission.call("lstm_step", x, h, c, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]), e_h.numpy(), e_c.numpy(), x, h, c, p)


@pytest.mark.task("lstm_step")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_lstm_step_reproduces_the_lecture_example(submission):
    """lstm_step on the lecture's example (one unit, all weights and biases 1, h_0 = c_0 = 0, x_1 = 1): h_1 ≈ 0.7038"""
    one = np.ones((1, 1))
    p = {"W_ih": np.ones((4, 1)), "W_hh": np.ones((4, 1)), "b_ih": np.ones(4), "b_hh": np.ones(4)}
    e_h, e_c = ref.lstm_step(t(one), t(0 * one), t(0 * one), **{k: t(v) for k, v in p.items()})
    assert round(e_h.item(), 4) == 0.7038 and round(e_c.item(), 4) == 0.9479, "grader bug: the lecture's example"
    check_lstm(submission.call("lstm_step", one, 0 * one, 0 * one, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]),
               e_h.numpy(), e_c.numpy(), one, 0 * one, 0 * one, p)


def gru_params(rng, I, H, scale=0.6):
    return {"W_ih": scale * rng.normal(size=(3 * H, I)), "W_hh": scale * rng.normal(size=(3 * H, H)),
            "b_ih": scale * rng.normal(size=3 * H), "b_hh": scale * rng.normal(size=3 * H)}


def gru_np(x, h, W_ih, W_hh, b_ih, b_hh, order="rzn", flip_z=False, bhn_outside=False, cand=np.tanh, use_b_hh=True,
           reset_before=False):
    """The GRU step in numpy with switches for the mistakes the grader names."""
    b_hh = b_hh if use_b_hh else np.zeros_like(b_hh)
    gi = dict(zip(order, np.split(x @ W_ih.T + b_ih, 3, axis=-1)))
    Wh = dict(zip(order, np.split(W_hh, 3, axis=0)))
    bh = dict(zip(order, np.split(b_hh, 3)))
    r = sig(gi["r"] + h @ Wh["r"].T + bh["r"])
    z = sig(gi["z"] + h @ Wh["z"].T + bh["z"])
    if reset_before:
        n = cand(gi["n"] + (r * h) @ Wh["n"].T + bh["n"])
    elif bhn_outside:
        n = cand(gi["n"] + r * (h @ Wh["n"].T) + bh["n"])
    else:
        n = cand(gi["n"] + r * (h @ Wh["n"].T + bh["n"]))
    return z * n + (1 - z) * h if flip_z else (1 - z) * n + z * h


def gru_mistakes(x, h, p):
    wrong = [
        ("the lecture's update convention h_t = z_t n_t + (1 - z_t) h_{t-1} (z flipped)", {"flip_z": True}),
        ("b_hn added outside the reset gate", {"bhn_outside": True}),
        ("the reset gate applied to h_{t-1} before W_hn (Cho et al.'s variant, not PyTorch's)", {"reset_before": True}),
        ("the gate blocks in the wrong order (PyTorch stacks the rows as r, z, n)", {"order": "zrn"}),
        ("the recurrent bias b_hh left out (PyTorch adds both b_ih and b_hh)", {"use_b_hh": False}),
        ("a sigmoid for the candidate n_t (it uses tanh)", {"cand": sig}),
    ]
    return [Mistake(name, gru_np(x, h, **p, **kw),
                    "PyTorch: n_t = tanh(W_in x + b_in + r_t ∘ (W_hn h + b_hn)), h_t = (1 − z_t) ∘ n_t + z_t ∘ h_{t-1}.")
            for name, kw in wrong]


@pytest.mark.task("gru_step")
@pytest.mark.points(1)
def test_gru_step_on_a_batch(submission, rng):
    """gru_step: h_t of one GRU step on a random batch, PyTorch's rows (r, z, n) and update convention"""
    B, I, H = 3, 4, 3
    x, h = rng.normal(size=(B, I)), rng.normal(size=(B, H))
    p = gru_params(rng, I, H)
    expected = ref.gru_step(t(x), t(h), **{k: t(v) for k, v in p.items()}).numpy()
    got = submission.call("gru_step", x, h, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    assert_close(actual=got, expected=expected, name="h_t", mistakes=gru_mistakes(x, h, p))


@pytest.mark.task("gru_step")
@pytest.mark.points(2)
@pytest.mark.hidden
def test_gru_step_matches_gru_cell(submission, rng):
    """gru_step gives nn.GRUCell's new hidden state with the same weights"""
    B, I, H = 6, 5, 4
    x, h = rng.normal(size=(B, I)), rng.normal(size=(B, H))
    p = gru_params(rng, I, H, scale=0.8)
    cell = torch.nn.GRUCell(I, H).double()
    with torch.no_grad():
        for name in p:
            getattr(cell, {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}[name]).copy_(t(p[name]))
        expected = cell(t(x), t(h)).numpy()
    got = submission.call("gru_step", x, h, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    assert_close(actual=got, expected=expected, name="h_t", mistakes=gru_mistakes(x, h, p))


# ================================================================================================ 3. unrolling
def unroll_np(xs, h0, c0, p, reset_h=False, reset_c=False):
    h, c, hs = h0, c0, []
    for step in range(xs.shape[1]):
        h, c = lstm_np(xs[:, step], h0 if reset_h else h, c0 if reset_c else c, **p)
        hs.append(h)
    return np.stack(hs, axis=1), (h, c)


def part_of_unroll(result, which: str):
    """`which` of an unroll's (hs, (h_T, c_T))."""
    return {"hs": result[0], "h": result[1][0], "c": result[1][1]}[which]


def unroll_mistakes(xs, h0, c0, p, which):
    """Mistakes for `which` in ("hs", "h", "c")."""
    mistakes = [
        Mistake("the cell state not carried from step to step (c_0 used at every step)",
                part_of_unroll(unroll_np(xs, h0, c0, p, reset_c=True), which)),
        Mistake("the hidden state reset to h_0 at every step", part_of_unroll(unroll_np(xs, h0, c0, p, reset_h=True), which)),
    ]
    hs, (h, c) = unroll_np(xs, h0, c0, p)
    if which == "hs":
        mistakes += [Mistake("only the last state returned instead of every h_t", h, "Return all h_t stacked as (B, T, H)."),
                     Mistake("the states stacked time-major (T, B, H) instead of batch-first (B, T, H)",
                             np.swapaxes(hs, 0, 1), "Stack along dim=1.")]
    if which in ("h", "c"):
        mistakes.append(Mistake("h_T and c_T swapped", c if which == "h" else h, "Return (hs, (h_T, c_T))."))
    return mistakes


def check_unroll(got, e_hs, e_h, e_c, xs, h0, c0, p, parts=("hs", "h", "c")):
    got_hs, last = values(got, 2, "lstm_unroll (hs, (h_T, c_T))")
    got_h, got_c = values(last, 2, "the final state of lstm_unroll, (h_T, c_T),")
    for which, actual, expected in (("hs", got_hs, e_hs), ("h", got_h, e_h), ("c", got_c, e_c)):
        if which in parts:
            name = {"hs": "hs (all h_t)", "h": "h_T", "c": "c_T"}[which]
            assert_close_or_reshaped(actual=actual, expected=expected, name=name, mistakes=unroll_mistakes(xs, h0, c0, p, which))


def unroll_inputs(rng, B, T, I, H):
    return rng.normal(size=(B, T, I)), 0.5 * rng.normal(size=(B, H)), 0.5 * rng.normal(size=(B, H)), lstm_params(rng, I, H)


@pytest.mark.task("lstm_unroll")
@pytest.mark.points(1)
def test_lstm_unroll_returns_every_hidden_state(submission, rng):
    """lstm_unroll: the hidden states h_1..h_T of every step, shape (B, T, H)"""
    xs, h0, c0, p = unroll_inputs(rng, 2, 5, 3, 4)
    e_hs, (e_h, e_c) = ref.lstm_unroll(t(xs), t(h0), t(c0), **{k: t(v) for k, v in p.items()})
    got = submission.call("lstm_unroll", xs, h0, c0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    check_unroll(got, e_hs.numpy(), e_h.numpy(), e_c.numpy(), xs, h0, c0, p, parts=("hs",))


@pytest.mark.task("lstm_unroll")
@pytest.mark.points(1)
def test_lstm_unroll_returns_the_final_state(submission, rng):
    """lstm_unroll: the final state (h_T, c_T) after the whole sequence"""
    xs, h0, c0, p = unroll_inputs(rng, 3, 4, 2, 3)
    e_hs, (e_h, e_c) = ref.lstm_unroll(t(xs), t(h0), t(c0), **{k: t(v) for k, v in p.items()})
    got = submission.call("lstm_unroll", xs, h0, c0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    check_unroll(got, e_hs.numpy(), e_h.numpy(), e_c.numpy(), xs, h0, c0, p, parts=("h", "c"))


@pytest.mark.task("lstm_unroll")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_lstm_unroll_matches_nn_lstm(submission, rng):
    """lstm_unroll gives nn.LSTM(batch_first=True)'s outputs and final state, for a long and a one-step sequence"""
    for B, T in ((3, 9), (2, 1)):
        xs, h0, c0, p = unroll_inputs(rng, B, T, 4, 3)
        lstm = torch.nn.LSTM(4, 3, batch_first=True).double()
        with torch.no_grad():
            for name in p:
                getattr(lstm, {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}[name]).copy_(t(p[name]))
            e_hs, (e_h, e_c) = lstm(t(xs), (t(h0)[None], t(c0)[None]))
        got = submission.call("lstm_unroll", xs, h0, c0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
        check_unroll(got, e_hs.numpy(), e_h[0].numpy(), e_c[0].numpy(), xs, h0, c0, p)


# ================================================================================================ 4. bidirectional
def bi_mistakes(xs, pf, pb, h0, c0):
    B, H = xs.shape[0], pf["W_hh"].shape[1]
    h0 = np.zeros((2, B, H)) if h0 is None else h0
    c0 = np.zeros((2, B, H)) if c0 is None else c0
    out_f, _ = unroll_np(xs, h0[0], c0[0], pf)
    out_b, _ = unroll_np(xs[:, ::-1], h0[1], c0[1], pb)
    unreversed, _ = unroll_np(xs, h0[1], c0[1], pb)
    same, _ = unroll_np(xs[:, ::-1], h0[1], c0[1], pf)
    hint = "Run the backward LSTM on xs reversed in time, then reverse its outputs back so that step t of both halves is input step t."
    return [
        Mistake("the backward outputs not reversed back in time", np.concatenate([out_f, out_b], -1), hint),
        Mistake("the concatenation order swapped (forward outputs come first)", np.concatenate([out_b[:, ::-1], out_f], -1)),
        Mistake("the backward LSTM run over the unreversed sequence", np.concatenate([out_f, unreversed], -1), hint),
        Mistake("the backward LSTM run over the unreversed sequence", np.concatenate([out_f, unreversed[:, ::-1]], -1), hint),
        Mistake("the forward weights used for the backward direction too", np.concatenate([out_f, same[:, ::-1]], -1)),
    ]


def bi_inputs(rng, B, T, I, H):
    return rng.normal(size=(B, T, I)), lstm_params(rng, I, H, 0.6), lstm_params(rng, I, H, 0.6)


@pytest.mark.task("bidirectional_lstm")
@pytest.mark.points(1)
def test_bidirectional_lstm_on_a_batch(submission, rng):
    """bidirectional_lstm: forward outputs and re-aligned backward outputs concatenated, shape (B, T, 2H)"""
    xs, pf, pb = bi_inputs(rng, 2, 4, 3, 2)
    expected = ref.bidirectional_lstm(t(xs), {k: t(v) for k, v in pf.items()}, {k: t(v) for k, v in pb.items()}).numpy()
    got = submission.call("bidirectional_lstm", xs, pf, pb)
    assert_close(actual=got, expected=expected, name="the Bi-LSTM output", mistakes=bi_mistakes(xs, pf, pb, None, None))


def nn_bilstm(pf, pb, I, H):
    lstm = torch.nn.LSTM(I, H, batch_first=True, bidirectional=True).double()
    names = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
    with torch.no_grad():
        for name, attr in names.items():
            getattr(lstm, attr).copy_(t(pf[name]))
            getattr(lstm, attr + "_reverse").copy_(t(pb[name]))
    return lstm


@pytest.mark.task("bidirectional_lstm")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_bidirectional_lstm_matches_nn_lstm(submission, rng):
    """bidirectional_lstm gives nn.LSTM(bidirectional=True, batch_first=True)'s output with the same weights"""
    B, T, I, H = 3, 6, 4, 3
    xs, pf, pb = bi_inputs(rng, B, T, I, H)
    with torch.no_grad():
        expected = nn_bilstm(pf, pb, I, H)(t(xs))[0].numpy()
    got = submission.call("bidirectional_lstm", xs, pf, pb)
    assert_close(actual=got, expected=expected, name="the Bi-LSTM output", mistakes=bi_mistakes(xs, pf, pb, None, None))


@pytest.mark.task("bidirectional_lstm")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_bidirectional_lstm_with_initial_states(submission, rng):
    """bidirectional_lstm with initial states h0, c0 of shape (2, B, H) (forward, backward) matches nn.LSTM"""
    B, T, I, H = 2, 5, 3, 4
    xs, pf, pb = bi_inputs(rng, B, T, I, H)
    h0, c0 = 0.5 * rng.normal(size=(2, B, H)), 0.5 * rng.normal(size=(2, B, H))
    with torch.no_grad():
        expected = nn_bilstm(pf, pb, I, H)(t(xs), (t(h0), t(c0)))[0].numpy()
    got = submission.call("bidirectional_lstm", xs, pf, pb, h0, c0)
    assert_close(actual=got, expected=expected, name="the Bi-LSTM output", mistakes=bi_mistakes(xs, pf, pb, h0, c0))


# ================================================================================================ 5. BPTT
GRAD_NAMES = ("w_xh", "w_hh", "b_h", "w_hy", "b_y")


def bptt_np(xs, w_xh, w_hh, b_h, w_hy, b_y, h0, truncated=False, no_derivative=False, last_only=False, mean=False):
    """The one-unit BPTT in plain floats, with switches for the mistakes the grader names."""
    T = len(xs)
    hs = [float(h0)]
    for step in range(T - 1):
        hs.append(float(np.tanh(w_hh * hs[-1] + w_xh * xs[step] + b_h)))
    errors = [w_hy * hs[s + 1] + b_y - xs[s + 1] for s in range(T - 1)]
    loss = sum(e * e for e in errors) / ((T - 1) if mean else 1)
    g = dict.fromkeys(GRAD_NAMES, 0.0)
    dh = 0.0
    for step in reversed(range(T - 1)):
        dy = 0.0 if last_only and step != T - 2 else 2 * errors[step] / ((T - 1) if mean else 1)
        g["w_hy"] += dy * hs[step + 1]
        g["b_y"] += dy
        da = (dy * w_hy + dh) * (1.0 if no_derivative else 1 - hs[step + 1] ** 2)
        g["w_xh"] += da * xs[step]
        g["w_hh"] += da * hs[step]
        g["b_h"] += da
        dh = 0.0 if truncated else da * w_hh
    return loss, g


def autograd_bptt(xs, w):
    """Loss and gradients by autograd, through reference.rnn_unroll_elman (itself checked against nn.RNN)."""
    p = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in w.items()}
    _, ys = ref.rnn_unroll_elman(t(xs[:-1]).view(1, -1, 1), p["h0"].view(1, 1), p["w_xh"].view(1, 1), p["w_hh"].view(1, 1),
                                 p["b_h"].view(1), p["w_hy"].view(1, 1), p["b_y"].view(1))
    loss = ((ys.flatten() - t(xs[1:])) ** 2).sum()
    grads = torch.autograd.grad(loss, [p[k] for k in GRAD_NAMES])
    return loss.item(), {k: g.item() for k, g in zip(GRAD_NAMES, grads)}


def check_bptt(got, e_loss, e_grads, xs, w):
    got_loss, got_grads = values(got, 2, "bptt (loss, grads)")
    got_loss = as_scalar(got_loss)
    variants = {
        "truncated": ("the gradient truncated to one step (∂L/∂h_t not carried back through w_hh to h_{t-1})",
                      "Add ∂L/∂a_{t+1}·w_hh to ∂L/∂h_t before multiplying by tanh'."),
        "no_derivative": ("the tanh derivative (1 − h_t²) left out", "For tanh, ∂h_t/∂a_t = 1 − h_t²."),
        "last_only": ("only the last loss term (y_{T-1} − x_T)² differentiated", "Every step's loss contributes: sum them all."),
        "mean": ("the loss averaged over the steps instead of summed", "The lecture's loss is Σ_t (y_t − x_{t+1})²."),
    }
    wrong = {k: bptt_np(xs, **w, **{k: True}) for k in variants}
    assert_close(actual=got_loss, expected=e_loss, name="the loss", mistakes=[
        Mistake("the loss averaged over the steps instead of summed", wrong["mean"][0], variants["mean"][1]),
    ])
    if not isinstance(got_grads, dict):
        raise Mismatch(f"the gradients should be a dict with keys {', '.join(GRAD_NAMES)}, not a {type(got_grads).__name__}")
    missing = [k for k in GRAD_NAMES if k not in got_grads]
    if missing:
        raise Mismatch(f"the gradients dict lacks the key(s) {', '.join(missing)} (expected {', '.join(GRAD_NAMES)})")
    for k in GRAD_NAMES:
        assert_close(actual=as_scalar(got_grads[k]), expected=e_grads[k], name=f"∂Loss/∂{k}", mistakes=[
            Mistake("the gradient truncated to one step", wrong["truncated"][1][k], variants["truncated"][1]),
            Mistake("the tanh derivative (1 − h_t²) left out", wrong["no_derivative"][1][k], variants["no_derivative"][1]),
            Mistake("only the last loss term differentiated", wrong["last_only"][1][k], variants["last_only"][1]),
            Mistake("the loss averaged over the steps instead of summed", wrong["mean"][1][k], variants["mean"][1]),
        ])


def scalars(w: dict) -> dict:
    # Python floats: the channel would turn 0-d arrays into shape-(1,) tensors (see as_scalar)
    return {k: float(v) for k, v in w.items()}


@pytest.mark.task("bptt")
@pytest.mark.points(1)
def test_bptt_on_the_lecture_sequence(submission):
    """bptt on the lecture's sequence (1, 2, 3, 4) with all weights and biases 1 and h_0 = 0: loss and gradients"""
    xs = np.array([1.0, 2.0, 3.0, 4.0])
    w = {"w_xh": 1.0, "w_hh": 1.0, "b_h": 1.0, "w_hy": 1.0, "b_y": 1.0, "h0": 0.0}
    loss, grads = ref.bptt_one_unit(t(xs), **{k: t(v) for k, v in w.items()})
    got = submission.call("bptt", xs, **scalars(w))
    check_bptt(got, loss.item(), {k: grads[k].item() for k in GRAD_NAMES}, xs, w)


@pytest.mark.task("bptt")
@pytest.mark.points(2)
@pytest.mark.hidden
def test_bptt_matches_autograd(submission, rng):
    """bptt on a random sequence of 8 numbers with random weights and h_0: loss and gradients equal autograd's"""
    xs = rng.normal(size=8)
    w = {k: float(0.7 * rng.normal()) for k in (*GRAD_NAMES, "h0")}
    e_loss, e_grads = autograd_bptt(xs, w)
    got = submission.call("bptt", xs, **scalars(w))
    check_bptt(got, e_loss, e_grads, xs, w)


@pytest.mark.task("bptt")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_bptt_on_a_two_number_sequence(submission, rng):
    """bptt on a sequence of 2 numbers (one step, one loss term) equals autograd's"""
    xs = rng.normal(size=2)
    w = {k: float(0.7 * rng.normal()) for k in (*GRAD_NAMES, "h0")}
    e_loss, e_grads = autograd_bptt(xs, w)
    got = submission.call("bptt", xs, **scalars(w))
    check_bptt(got, e_loss, e_grads, xs, w)


# ================================================================================================ 6. concepts
def param_mistakes(I: int, H: int, blocks: int) -> list[Mistake]:
    other = 3 if blocks == 4 else 4
    return [
        Mistake("one bias vector per gate block instead of PyTorch's two (b_ih and b_hh)", blocks * (H * I + H * H + H)),
        Mistake("the biases left out", blocks * (H * I + H * H)),
        Mistake("the other cell's number of gate blocks (LSTM: 4 blocks i, f, g, o; GRU: 3 blocks r, z, n)",
                other * (H * I + H * H + 2 * H)),
        Mistake("one gate block only (multiply by the number of blocks)", H * I + H * H + 2 * H),
    ]


@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_lstm_parameter_count(submission, student_id):
    """q_lstm_params: the number of parameters of nn.LSTM(input_size, hidden_size) with your sizes"""
    n = my("q_param_count", student_id)
    I, H = n["input_size"], n["hidden_size"]
    expected = ref.lstm_param_count(I, H)
    assert expected == sum(p.numel() for p in torch.nn.LSTM(I, H).parameters()), "grader bug: LSTM parameter count"
    assert_close(actual=as_scalar(submission.get("q_lstm_params")), expected=expected, name="q_lstm_params",
                 mistakes=param_mistakes(I, H, 4))


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_gru_parameter_count(submission, student_id):
    """q_gru_params: the number of parameters of nn.GRU(input_size, hidden_size) with your sizes"""
    n = my("q_param_count", student_id)
    I, H = n["input_size"], n["hidden_size"]
    expected = ref.gru_param_count(I, H)
    assert expected == sum(p.numel() for p in torch.nn.GRU(I, H).parameters()), "grader bug: GRU parameter count"
    assert_close(actual=as_scalar(submission.get("q_gru_params")), expected=expected, name="q_gru_params",
                 mistakes=param_mistakes(I, H, 3))


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_what_the_lstm_gates_do(submission):
    """q_lstm_gates: what the forget, input and output gates of an LSTM do"""
    assert_choice(actual=submission.get("q_lstm_gates"), correct="c", name="q_lstm_gates", explanations={
        "a": "the gate that multiplies c_{t-1} is the forget gate f_t; the input gate i_t scales the new candidate c~_t",
        "b": "the forget gate multiplies the old cell state c_{t-1}; the candidate c~_t is scaled by the input gate i_t",
        "d": "the output gate never writes into the cell: c_t = f_t∘c_{t-1} + i_t∘c~_t; it only filters what leaves it, "
             "h_t = o_t∘tanh(c_t)",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_why_lstms_mitigate_vanishing_gradients(submission):
    """q_vanishing: why an LSTM suffers less from vanishing gradients than an Elman RNN"""
    assert_choice(actual=submission.get("q_vanishing"), correct="b", name="q_vanishing", explanations={
        "a": "the sigmoid's derivative is at most 1/4, smaller than tanh's (at most 1): the gates do not help through "
             "their derivatives",
        "c": "more parameters do not make gradients larger; the LSTM helps through the additive path of its cell state",
        "d": "BPTT goes back through every step for an LSTM too; truncating it would lose long-range dependencies, "
             "not keep them",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_what_a_gru_lacks(submission):
    """q_gru_lacks: what a GRU does not have compared with an LSTM"""
    assert_choice(actual=submission.get("q_gru_lacks"), correct="d", name="q_gru_lacks", explanations={
        "a": "the GRU does have a reset gate r_t (and an update gate z_t); it is the LSTM that has no reset gate",
        "b": "every GRU gate has recurrent weights (W_hr, W_hz, W_hn) acting on h_{t-1}",
        "c": "the GRU's candidate n_t (the lecture's h~_t) is a tanh, like the LSTM's c~_t",
    })
