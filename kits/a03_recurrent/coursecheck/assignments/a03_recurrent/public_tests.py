"""Public checks of a03_recurrent, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import functools
import json
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mismatch, Mistake, assert_close, matches
numbers = reference_module('grader.numbers.a03_recurrent')
from coursecheck.variants import variant_numbers
ref = reference_module('reference.rnn')


ID = 'a03_recurrent'


HAND = {'rtol': 0.0, 'atol': 0.0005}


@functools.lru_cache(maxsize=None)
def _numbers(task: str, student_id: str) -> str:
    return json.dumps(variant_numbers(ID, task, student_id))


def my(task: str, student_id: str) -> dict:
    """The graded student's numbers for `task`, as their notebook printed them."""
    return json.loads(_numbers(task, student_id))


def t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def as_scalar(value):
    """A one-element array as a 0-d array: the channel currently sends a 0-d tensor back with shape (1,) (see the
    report: np.ascontiguousarray promotes 0-d arrays to 1-d), and a (1,)-shaped loss is a reasonable answer too."""
    if isinstance(value, np.ndarray) and value.size == 1 and (value.ndim <= 1):
        return value.reshape(())
    return value


def values(got, count: int, what: str) -> tuple:
    """The student's return value as a tuple of `count` values, or a Mismatch that says what was expected."""
    if not isinstance(got, (tuple, list)) or len(got) != count:
        kind = f'a {type(got).__name__}' + (f' of {len(got)} values' if isinstance(got, (tuple, list)) else '')
        raise Mismatch(f'{what} should return {count} values, but it returned {kind}')
    return tuple(got)


def assert_close_or_reshaped(*, actual, expected, name, mistakes):
    """assert_close, plus mistakes whose value has another shape (only the last state returned, time-major, ...)."""
    other = [m for m in mistakes if np.shape(m.value) != np.shape(expected)]
    if isinstance(actual, np.ndarray) and actual.shape != np.shape(expected):
        for m in other:
            if matches(actual, m.value):
                raise Mismatch(f"`{name}` is wrong: it looks like {m.name}.{(' ' + m.hint if m.hint else '')}")
    assert_close(actual=actual, expected=expected, name=name, mistakes=[m for m in mistakes if m not in other])


def check_hand(submission, expected: dict, wrong: dict, prefix: str, keys: str | list[str], mistakes) -> None:
    for key in [keys] if isinstance(keys, str) else keys:
        name = f'{prefix}_{key}'
        assert_close(actual=as_scalar(submission.get(name)), expected=recorded_value('check_hand#1', None, expected, key), name=name, **HAND, mistakes=[Mistake(m.name, recorded_value('check_hand#2', None, key, m, wrong), m.hint) for m in mistakes])


ELMAN_MISTAKES = [Mistake('a sigmoid instead of tanh for h_t', 'sigmoid', "The lecture's f1 is tanh."), Mistake('the biases b_h and b_y left out', 'no_bias'), Mistake('the recurrent term w_hh·h_{t-1} left out', 'no_recurrent', 'h_2 depends on h_1 through w_hh.')]


@pytest.mark.task('elman_hand')
@pytest.mark.points(1)
def test_elman_by_hand_first_step(submission, student_id):
    """Elman by hand, t = 1: h_1 = tanh(w_hh h_0 + w_xh x_1 + b_h) and y_1 = w_hy h_1 + b_y with your numbers"""
    n = my('elman_hand', student_id)
    wrong = {m.value: numbers.answers('elman_hand', n, m.value) for m in ELMAN_MISTAKES}
    check_hand(submission, recorded_call('test_elman_by_hand_first_step#1', None, n), wrong, 'elman', ['h1', 'y1'], ELMAN_MISTAKES)


JORDAN_MISTAKES = [Mistake('a sigmoid instead of tanh for h_t', 'sigmoid', "The lecture's f1 is tanh."), Mistake('the biases b_h and b_y left out', 'no_bias'), Mistake("the recurrent term w_hh·h_{t-1} left out (the lecture's Jordan network keeps it)", 'no_recurrent'), Mistake('h_{t-1} fed back where the previous output y_{t-1} belongs', 'fed_back_h', "A Jordan network feeds back the output: w_yh·y_{t-1} (the slide's formula writes h_t there by mistake).")]


@pytest.mark.task('jordan_hand')
@pytest.mark.points(1)
def test_jordan_by_hand_first_step(submission, student_id):
    """Jordan by hand, t = 1: h_1 = tanh(w_hh h_0 + w_xh x_1 + w_yh y_0 + b_h) and y_1 with your numbers"""
    n = my('jordan_hand', student_id)
    wrong = {m.value: numbers.answers('jordan_hand', n, m.value) for m in JORDAN_MISTAKES}
    check_hand(submission, recorded_call('test_jordan_by_hand_first_step#1', None, n), wrong, 'jordan', ['h1', 'y1'], JORDAN_MISTAKES)


LSTM_MISTAKES = [Mistake('a sigmoid instead of tanh for the cell candidate c~_t', 'sigmoid_candidate'), Mistake('the biases left out', 'no_bias', 'Each gate adds both b_i* and b_h*.'), Mistake('the recurrent terms W_h*·h_{t-1} left out', 'no_recurrent'), Mistake('c_t = f_t·c_{t-1} + i_t, without the candidate c~_t', 'c_without_candidate', 'The input gate scales the candidate: c_t = f_t·c_{t-1} + i_t·c~_t.'), Mistake('h_t = o_t·c_t, without the tanh', 'h_without_tanh', 'Use h_t = o_t·tanh(c_t).')]


@pytest.mark.task('lstm_hand')
@pytest.mark.points(1)
def test_lstm_by_hand_gates(submission, student_id):
    """LSTM by hand: the gates i_t, f_t, o_t and the candidate c~_t with your numbers"""
    n = my('lstm_hand', student_id)
    wrong = {m.value: numbers.answers('lstm_hand', n, m.value) for m in LSTM_MISTAKES}
    check_hand(submission, recorded_call('test_lstm_by_hand_gates#1', None, n), wrong, 'lstm', ['i', 'f', 'g', 'o'], LSTM_MISTAKES)


@pytest.mark.task('lstm_hand')
@pytest.mark.points(1)
def test_lstm_by_hand_cell_state(submission, student_id):
    """LSTM by hand: the new cell state c_t = f_t c_{t-1} + i_t c~_t with your numbers"""
    n = my('lstm_hand', student_id)
    wrong = {m.value: numbers.answers('lstm_hand', n, m.value) for m in LSTM_MISTAKES}
    check_hand(submission, recorded_call('test_lstm_by_hand_cell_state#1', None, n), wrong, 'lstm', 'c', LSTM_MISTAKES)


GRU_MISTAKES = [Mistake('a sigmoid instead of tanh for the candidate n_t', 'sigmoid_candidate'), Mistake('the biases left out', 'no_bias'), Mistake('the recurrent terms W_h*·h_{t-1} left out', 'no_recurrent'), Mistake("the lecture's update convention h_t = z_t·n_t + (1 - z_t)·h_{t-1}", 'z_flipped', 'This notebook follows PyTorch: h_t = (1 - z_t)·n_t + z_t·h_{t-1}.'), Mistake('b_hn added outside the reset gate', 'b_hn_outside', 'PyTorch: n_t = tanh(W_in x + b_in + r_t·(W_hn h + b_hn)).')]


@pytest.mark.task('gru_hand')
@pytest.mark.points(1)
def test_gru_by_hand_gates(submission, student_id):
    """GRU by hand: the reset gate r_t and the update gate z_t with your numbers"""
    n = my('gru_hand', student_id)
    wrong = {m.value: numbers.answers('gru_hand', n, m.value) for m in GRU_MISTAKES}
    check_hand(submission, recorded_call('test_gru_by_hand_gates#1', None, n), wrong, 'gru', ['r', 'z'], GRU_MISTAKES)


def elman_inputs(rng, B, I, H, O):
    return (rng.normal(size=(B, I)), rng.normal(size=(B, H)), 0.6 * rng.normal(size=(H, I)), 0.6 * rng.normal(size=(H, H)), 0.5 * rng.normal(size=H), 0.6 * rng.normal(size=(O, H)), 0.5 * rng.normal(size=O))


def check_elman(got, expected_h, expected_y, x, h, W_xh, W_hh, b_h, W_hy, b_y):
    got_h, got_y = values(got, 2, 'elman_step')
    pre = x @ W_xh.T + h @ W_hh.T + b_h
    mistakes = [Mistake('a sigmoid instead of tanh', recorded_value('check_elman#1', None, pre), "The lecture's f1 is tanh."), Mistake('the bias b_h left out', recorded_value('check_elman#2', None, b_h, pre)), Mistake('the recurrent term W_hh h_{t-1} left out', recorded_value('check_elman#3', None, W_xh, b_h, x))]
    if W_xh.shape[0] == W_xh.shape[1]:
        mistakes += [Mistake('the weights transposed (x @ W instead of x @ W.T)', recorded_value('check_elman#4', None, W_hh, W_xh, b_h, h, x), 'A weight of shape (out, in) acts on a batch of row vectors as x @ W.T.'), Mistake('the weights transposed (x @ W instead of x @ W.T)', recorded_value('check_elman#5', None, W_hh, W_xh, b_h, h, x))]
    assert_close(actual=got_h, expected=expected_h, name='h_t', mistakes=mistakes)
    hh = np.asarray(expected_h)
    assert_close(actual=got_y, expected=expected_y, name='y_t', mistakes=[Mistake("a tanh on the output y_t (the lecture's f2 is linear)", recorded_value('check_elman#6', None, W_hy, b_y, hh)), Mistake('the output bias b_y left out', recorded_value('check_elman#7', None, W_hy, hh))])


@pytest.mark.task('elman_step')
@pytest.mark.points(1)
def test_elman_step_on_a_batch(submission, rng):
    """elman_step: h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + b_h) and y_t = h_t W_hy^T + b_y on a random batch"""
    args = elman_inputs(rng, 4, 3, 3, 3)
    e_h, e_y = ref.elman_step(*map(t, args))
    check_elman(submission.call('elman_step', *args), e_h.numpy(), e_y.numpy(), *args)


def jordan_inputs(rng, B, I, H, O):
    return (rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, O)), 0.6 * rng.normal(size=(H, I)), 0.6 * rng.normal(size=(H, H)), 0.6 * rng.normal(size=(H, O)), 0.5 * rng.normal(size=H), 0.6 * rng.normal(size=(O, H)), 0.5 * rng.normal(size=O))


def check_jordan(got, expected_h, expected_y, x, h, y, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    got_h, got_y = values(got, 2, 'jordan_step')
    pre = x @ W_xh.T + h @ W_hh.T + y @ W_yh.T + b_h
    mistakes = [Mistake('a sigmoid instead of tanh', recorded_value('check_jordan#1', None, pre), "The lecture's f1 is tanh."), Mistake('the bias b_h left out', recorded_value('check_jordan#2', None, b_h, pre)), Mistake('the output feedback W_yh y_{t-1} left out (that is an Elman step)', recorded_value('check_jordan#3', None, W_yh, pre, y)), Mistake("the recurrent term W_hh h_{t-1} left out (the lecture's Jordan network keeps it)", recorded_value('check_jordan#4', None, W_hh, h, pre))]
    if W_yh.shape[0] == W_yh.shape[1]:
        mistakes.append(Mistake('h_{t-1} fed back where the previous output y_{t-1} belongs', recorded_value('check_jordan#5', None, W_hh, W_xh, W_yh, b_h, h, x), "A Jordan network feeds back the output (the slide's formula writes h_t there by mistake)."))
    if W_xh.shape[0] == W_xh.shape[1]:
        mistakes.append(Mistake('the weights transposed (x @ W instead of x @ W.T)', recorded_value('check_jordan#6', None, W_hh, W_xh, W_yh, b_h, h, x, y), 'A weight of shape (out, in) acts on a batch of row vectors as x @ W.T.'))
    assert_close(actual=got_h, expected=expected_h, name='h_t', mistakes=mistakes)
    hh = np.asarray(expected_h)
    assert_close(actual=got_y, expected=expected_y, name='y_t', mistakes=[Mistake("a tanh on the output y_t (the lecture's f2 is linear)", recorded_value('check_jordan#7', None, W_hy, b_y, hh)), Mistake('the output bias b_y left out', recorded_value('check_jordan#8', None, W_hy, hh))])


@pytest.mark.task('jordan_step')
@pytest.mark.points(1)
def test_jordan_step_on_a_batch(submission, rng):
    """jordan_step: h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + y_{t-1} W_yh^T + b_h), y_t = h_t W_hy^T + b_y"""
    args = jordan_inputs(rng, 4, 3, 3, 3)
    e_h, e_y = ref.jordan_step(*map(t, args))
    check_jordan(submission.call('jordan_step', *args), e_h.numpy(), e_y.numpy(), *args)


def lstm_params(rng, I, H, scale=0.5):
    return {'W_ih': scale * rng.normal(size=(4 * H, I)), 'W_hh': scale * rng.normal(size=(4 * H, H)), 'b_ih': scale * rng.normal(size=4 * H), 'b_hh': scale * rng.normal(size=4 * H)}


def check_lstm(got, e_h, e_c, x, h, c, p):
    got_h, got_c = values(got, 2, 'lstm_step (h_t, c_t)')
    assert_close(actual=got_c, expected=e_c, name='c_t', mistakes=recorded_call('check_lstm#1', None, x, h, c, p, 'c'))
    assert_close(actual=got_h, expected=e_h, name='h_t', mistakes=recorded_call('check_lstm#2', None, x, h, c, p, 'h'))


@pytest.mark.task('lstm_step')
@pytest.mark.points(1)
def test_lstm_step_on_a_batch(submission, rng):
    """lstm_step: (h_t, c_t) of one LSTM step on a random batch, gate rows (i, f, g, o)"""
    B, I, H = (3, 4, 3)
    x, h, c = (rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    p = lstm_params(rng, I, H)
    e_h, e_c = ref.lstm_step(recorded_call('test_lstm_step_on_a_batch#1', None, x), recorded_call('test_lstm_step_on_a_batch#2', None, h), recorded_call('test_lstm_step_on_a_batch#3', None, c), **{k: recorded_call('test_lstm_step_on_a_batch#4', None, v) for k, v in p.items()})
    check_lstm(submission.call('lstm_step', x, h, c, p['W_ih'], p['W_hh'], p['b_ih'], p['b_hh']), e_h.numpy(), e_c.numpy(), x, h, c, p)


def gru_params(rng, I, H, scale=0.6):
    return {'W_ih': scale * rng.normal(size=(3 * H, I)), 'W_hh': scale * rng.normal(size=(3 * H, H)), 'b_ih': scale * rng.normal(size=3 * H), 'b_hh': scale * rng.normal(size=3 * H)}


@pytest.mark.task('gru_step')
@pytest.mark.points(1)
def test_gru_step_on_a_batch(submission, rng):
    """gru_step: h_t of one GRU step on a random batch, PyTorch's rows (r, z, n) and update convention"""
    B, I, H = (3, 4, 3)
    x, h = (rng.normal(size=(B, I)), rng.normal(size=(B, H)))
    p = gru_params(rng, I, H)
    expected = ref.gru_step(recorded_call('test_gru_step_on_a_batch#1', None, x), recorded_call('test_gru_step_on_a_batch#2', None, h), **{k: recorded_call('test_gru_step_on_a_batch#3', None, v) for k, v in p.items()}).numpy()
    got = submission.call('gru_step', x, h, p['W_ih'], p['W_hh'], p['b_ih'], p['b_hh'])
    assert_close(actual=got, expected=expected, name='h_t', mistakes=recorded_call('test_gru_step_on_a_batch#4', None, x, h, p))


def unroll_mistakes(xs, h0, c0, p, which):
    """Mistakes for `which` in ("hs", "h", "c")."""
    mistakes = [Mistake('the cell state not carried from step to step (c_0 used at every step)', recorded_value('unroll_mistakes#1', None, c0, h0, p, which, xs)), Mistake('the hidden state reset to h_0 at every step', recorded_value('unroll_mistakes#2', None, c0, h0, p, which, xs))]
    hs, (h, c) = recorded_call('unroll_mistakes#3', None, xs, h0, c0, p)
    if which == 'hs':
        mistakes += [Mistake('only the last state returned instead of every h_t', h, 'Return all h_t stacked as (B, T, H).'), Mistake('the states stacked time-major (T, B, H) instead of batch-first (B, T, H)', recorded_value('unroll_mistakes#4', None, hs), 'Stack along dim=1.')]
    if which in ('h', 'c'):
        mistakes.append(Mistake('h_T and c_T swapped', recorded_value('unroll_mistakes#5', None, c, h, which), 'Return (hs, (h_T, c_T)).'))
    return mistakes


def check_unroll(got, e_hs, e_h, e_c, xs, h0, c0, p, parts=('hs', 'h', 'c')):
    got_hs, last = values(got, 2, 'lstm_unroll (hs, (h_T, c_T))')
    got_h, got_c = values(last, 2, 'the final state of lstm_unroll, (h_T, c_T),')
    for which, actual, expected in (('hs', got_hs, e_hs), ('h', got_h, e_h), ('c', got_c, e_c)):
        if which in parts:
            name = {'hs': 'hs (all h_t)', 'h': 'h_T', 'c': 'c_T'}[which]
            assert_close_or_reshaped(actual=actual, expected=expected, name=name, mistakes=unroll_mistakes(xs, h0, c0, p, which))


def unroll_inputs(rng, B, T, I, H):
    return (rng.normal(size=(B, T, I)), 0.5 * rng.normal(size=(B, H)), 0.5 * rng.normal(size=(B, H)), lstm_params(rng, I, H))


@pytest.mark.task('lstm_unroll')
@pytest.mark.points(1)
def test_lstm_unroll_returns_every_hidden_state(submission, rng):
    """lstm_unroll: the hidden states h_1..h_T of every step, shape (B, T, H)"""
    xs, h0, c0, p = unroll_inputs(rng, 2, 5, 3, 4)
    e_hs, (e_h, e_c) = ref.lstm_unroll(recorded_call('test_lstm_unroll_returns_every_hidden_state#1', None, xs), recorded_call('test_lstm_unroll_returns_every_hidden_state#2', None, h0), recorded_call('test_lstm_unroll_returns_every_hidden_state#3', None, c0), **{k: recorded_call('test_lstm_unroll_returns_every_hidden_state#4', None, v) for k, v in p.items()})
    got = submission.call('lstm_unroll', xs, h0, c0, p['W_ih'], p['W_hh'], p['b_ih'], p['b_hh'])
    check_unroll(got, e_hs.numpy(), e_h.numpy(), e_c.numpy(), xs, h0, c0, p, parts=('hs',))


@pytest.mark.task('lstm_unroll')
@pytest.mark.points(1)
def test_lstm_unroll_returns_the_final_state(submission, rng):
    """lstm_unroll: the final state (h_T, c_T) after the whole sequence"""
    xs, h0, c0, p = unroll_inputs(rng, 3, 4, 2, 3)
    e_hs, (e_h, e_c) = ref.lstm_unroll(recorded_call('test_lstm_unroll_returns_the_final_state#1', None, xs), recorded_call('test_lstm_unroll_returns_the_final_state#2', None, h0), recorded_call('test_lstm_unroll_returns_the_final_state#3', None, c0), **{k: recorded_call('test_lstm_unroll_returns_the_final_state#4', None, v) for k, v in p.items()})
    got = submission.call('lstm_unroll', xs, h0, c0, p['W_ih'], p['W_hh'], p['b_ih'], p['b_hh'])
    check_unroll(got, e_hs.numpy(), e_h.numpy(), e_c.numpy(), xs, h0, c0, p, parts=('h', 'c'))


def bi_inputs(rng, B, T, I, H):
    return (rng.normal(size=(B, T, I)), lstm_params(rng, I, H, 0.6), lstm_params(rng, I, H, 0.6))


@pytest.mark.task('bidirectional_lstm')
@pytest.mark.points(1)
def test_bidirectional_lstm_on_a_batch(submission, rng):
    """bidirectional_lstm: forward outputs and re-aligned backward outputs concatenated, shape (B, T, 2H)"""
    xs, pf, pb = bi_inputs(rng, 2, 4, 3, 2)
    expected = ref.bidirectional_lstm(recorded_call('test_bidirectional_lstm_on_a_batch#1', None, xs), {k: recorded_call('test_bidirectional_lstm_on_a_batch#2', None, v) for k, v in pf.items()}, {k: recorded_call('test_bidirectional_lstm_on_a_batch#3', None, v) for k, v in pb.items()}).numpy()
    got = submission.call('bidirectional_lstm', xs, pf, pb)
    assert_close(actual=got, expected=expected, name='the Bi-LSTM output', mistakes=recorded_call('test_bidirectional_lstm_on_a_batch#4', None, xs, pf, pb, None, None))


GRAD_NAMES = ('w_xh', 'w_hh', 'b_h', 'w_hy', 'b_y')


def check_bptt(got, e_loss, e_grads, xs, w):
    got_loss, got_grads = values(got, 2, 'bptt (loss, grads)')
    got_loss = as_scalar(got_loss)
    variants = {'truncated': ('the gradient truncated to one step (∂L/∂h_t not carried back through w_hh to h_{t-1})', "Add ∂L/∂a_{t+1}·w_hh to ∂L/∂h_t before multiplying by tanh'."), 'no_derivative': ('the tanh derivative (1 − h_t²) left out', 'For tanh, ∂h_t/∂a_t = 1 − h_t².'), 'last_only': ('only the last loss term (y_{T-1} − x_T)² differentiated', "Every step's loss contributes: sum them all."), 'mean': ('the loss averaged over the steps instead of summed', "The lecture's loss is Σ_t (y_t − x_{t+1})².")}
    wrong = {k: recorded_call('check_bptt#1', None, xs, **w, **{k: True}) for k in variants}
    assert_close(actual=got_loss, expected=e_loss, name='the loss', mistakes=[Mistake('the loss averaged over the steps instead of summed', recorded_value('check_bptt#2', None, wrong), variants['mean'][1])])
    if not isinstance(got_grads, dict):
        raise Mismatch(f"the gradients should be a dict with keys {', '.join(GRAD_NAMES)}, not a {type(got_grads).__name__}")
    missing = [k for k in GRAD_NAMES if k not in got_grads]
    if missing:
        raise Mismatch(f"the gradients dict lacks the key(s) {', '.join(missing)} (expected {', '.join(GRAD_NAMES)})")
    for k in GRAD_NAMES:
        assert_close(actual=as_scalar(got_grads[k]), expected=recorded_value('check_bptt#3', None, e_grads, k), name=f'∂Loss/∂{k}', mistakes=[Mistake('the gradient truncated to one step', recorded_value('check_bptt#4', None, k, wrong), variants['truncated'][1]), Mistake('the tanh derivative (1 − h_t²) left out', recorded_value('check_bptt#5', None, k, wrong), variants['no_derivative'][1]), Mistake('only the last loss term differentiated', recorded_value('check_bptt#6', None, k, wrong), variants['last_only'][1]), Mistake('the loss averaged over the steps instead of summed', recorded_value('check_bptt#7', None, k, wrong), variants['mean'][1])])


def scalars(w: dict) -> dict:
    return {k: float(v) for k, v in w.items()}


@pytest.mark.task('bptt')
@pytest.mark.points(1)
def test_bptt_on_the_lecture_sequence(submission):
    """bptt on the lecture's sequence (1, 2, 3, 4) with all weights and biases 1 and h_0 = 0: loss and gradients"""
    xs = np.array([1.0, 2.0, 3.0, 4.0])
    w = {'w_xh': 1.0, 'w_hh': 1.0, 'b_h': 1.0, 'w_hy': 1.0, 'b_y': 1.0, 'h0': 0.0}
    loss, grads = ref.bptt_one_unit(recorded_call('test_bptt_on_the_lecture_sequence#1', None, xs), **{k: recorded_call('test_bptt_on_the_lecture_sequence#2', None, v) for k, v in w.items()})
    got = submission.call('bptt', xs, **scalars(w))
    check_bptt(got, loss.item(), {k: grads[k].item() for k in GRAD_NAMES}, xs, w)


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_lstm_parameter_count(submission, student_id):
    """q_lstm_params: the number of parameters of nn.LSTM(input_size, hidden_size) with your sizes"""
    n = my('q_param_count', student_id)
    I, H = (n['input_size'], n['hidden_size'])
    expected = ref.lstm_param_count(I, H)
    assert expected == sum((p.numel() for p in torch.nn.LSTM(I, H).parameters())), 'grader bug: LSTM parameter count'
    assert_close(actual=as_scalar(submission.get('q_lstm_params')), expected=expected, name='q_lstm_params', mistakes=recorded_call('test_lstm_parameter_count#1', None, I, H, 4))
