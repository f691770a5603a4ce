"""Do the recurrent references match PyTorch's cells, sequence modules and autograd, and reproduce the lecture's
worked examples?"""
from __future__ import annotations

import pytest
import torch

from reference import rnn

TOL = {"rtol": 1e-10, "atol": 1e-12}
B, I, H, O, T = 3, 4, 5, 2, 6


def rand(gen, device, *shape, scale=1.0):
    return (scale * torch.randn(shape, generator=gen, dtype=torch.float64)).to(device)


def module(cls, gen, device, *args, **kwargs):
    """A float64 PyTorch module on `device` whose parameters (biases included) are drawn from the test's generator."""
    mod = cls(*args, **kwargs).double()
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return mod.to(device)


def weights(mod, suffix=""):
    """The reference's names for a cell's or a sequence module's weights (suffix '_l0' or '_l0_reverse')."""
    names = (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))
    return {k: getattr(mod, n + suffix).detach() for k, n in names}


def test_elman_step_matches_rnn_cell(gen, device):
    """Is the Elman hidden state nn.RNNCell(tanh) (b_h = b_ih + b_hh), and the output the linear readout?"""
    cell = module(torch.nn.RNNCell, gen, device, I, H, nonlinearity="tanh")
    x, h = rand(gen, device, B, I), rand(gen, device, B, H)
    W_hy, b_y = rand(gen, device, O, H), rand(gen, device, O)
    w = weights(cell)
    h1, y1 = rnn.elman_step(x, h, w["W_ih"], w["W_hh"], w["b_ih"] + w["b_hh"], W_hy, b_y)
    expected = cell(x, h).detach()
    torch.testing.assert_close(h1, expected, **TOL)
    torch.testing.assert_close(y1, expected @ W_hy.T + b_y, **TOL)


def test_elman_unroll_matches_rnn_module(gen, device):
    """Does unrolling the Elman step give nn.RNN(batch_first=True)'s hidden states, and the readout at every step?"""
    net = module(torch.nn.RNN, gen, device, I, H, batch_first=True)
    readout = module(torch.nn.Linear, gen, device, H, O)
    xs, h0 = rand(gen, device, B, T, I), rand(gen, device, B, H)
    w = weights(net, "_l0")
    hs, ys = rnn.rnn_unroll_elman(xs, h0, w["W_ih"], w["W_hh"], w["b_ih"] + w["b_hh"],
                                  readout.weight.detach(), readout.bias.detach())
    expected, _ = net(xs, h0[None])
    torch.testing.assert_close(hs, expected.detach(), **TOL)
    torch.testing.assert_close(ys, readout(expected).detach(), **TOL)


@pytest.mark.parametrize("classic", [False, True])
def test_jordan_step_is_an_rnn_cell_fed_the_previous_output(gen, device, classic):
    """Is a Jordan step nn.RNNCell on the input [x_t, y_{t-1}] (with W_hh = 0 for the classic network, W_hh=None)?"""
    cell = module(torch.nn.RNNCell, gen, device, I + O, H, nonlinearity="tanh")
    if classic:
        with torch.no_grad():
            cell.weight_hh.zero_()
    x, h, y_prev = rand(gen, device, B, I), rand(gen, device, B, H), rand(gen, device, B, O)
    W_hy, b_y = rand(gen, device, O, H), rand(gen, device, O)
    w = weights(cell)
    W_xh, W_yh = w["W_ih"][:, :I], w["W_ih"][:, I:]
    h1, y1 = rnn.jordan_step(x, h, y_prev, W_xh, None if classic else w["W_hh"], W_yh, w["b_ih"] + w["b_hh"], W_hy, b_y)
    expected = cell(torch.cat([x, y_prev], dim=-1), h).detach()
    torch.testing.assert_close(h1, expected, **TOL)
    torch.testing.assert_close(y1, expected @ W_hy.T + b_y, **TOL)


def test_lstm_step_matches_lstm_cell(gen, device):
    """Do lstm_step and lstm_gates give nn.LSTMCell's (h, c) with PyTorch's gate order i, f, g, o?"""
    cell = module(torch.nn.LSTMCell, gen, device, I, H)
    x, h, c = rand(gen, device, B, I), rand(gen, device, B, H), rand(gen, device, B, H)
    e_h, e_c = cell(x, (h, c))
    got_h, got_c = rnn.lstm_step(x, h, c, **weights(cell))
    torch.testing.assert_close(got_h, e_h.detach(), **TOL)
    torch.testing.assert_close(got_c, e_c.detach(), **TOL)
    gates = rnn.lstm_gates(x, h, c, **weights(cell))
    torch.testing.assert_close(gates["h"], e_h.detach(), **TOL)
    torch.testing.assert_close(gates["c"], e_c.detach(), **TOL)


def test_gru_step_matches_gru_cell(gen, device):
    """Does gru_step give nn.GRUCell's new hidden state (rows r, z, n)?"""
    cell = module(torch.nn.GRUCell, gen, device, I, H)
    x, h = rand(gen, device, B, I), rand(gen, device, B, H)
    torch.testing.assert_close(rnn.gru_step(x, h, **weights(cell)), cell(x, h).detach(), **TOL)


def test_lecture_gru_is_pytorch_gru_with_the_update_gate_negated(gen, device):
    """Is the lecture's h_t = (1 − z)∘h_{t-1} + z∘h̃ the same cell as PyTorch's once z's weights change sign?"""
    cell = module(torch.nn.GRUCell, gen, device, I, H)
    x, h = rand(gen, device, B, I), rand(gen, device, B, H)
    w = weights(cell)
    flip = torch.ones(3 * H, 1, dtype=torch.float64, device=device)
    flip[H:2 * H] = -1  # the z rows
    lecture_w = {"W_ih": w["W_ih"] * flip, "W_hh": w["W_hh"] * flip, "b_ih": w["b_ih"] * flip[:, 0], "b_hh": w["b_hh"] * flip[:, 0]}
    i_r, i_z, i_n = (x @ lecture_w["W_ih"].T + lecture_w["b_ih"]).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ lecture_w["W_hh"].T + lecture_w["b_hh"]).chunk(3, dim=-1)
    z = torch.sigmoid(i_z + h_z)  # the lecture's update gate
    h_tilde = torch.tanh(i_n + torch.sigmoid(i_r + h_r) * h_n)
    torch.testing.assert_close(rnn.gru_step(x, h, **w), (1 - z) * h + z * h_tilde, **TOL)


def test_lstm_and_gru_unroll_match_the_sequence_modules(gen, device):
    """Does unrolling over a sequence give nn.LSTM / nn.GRU (batch_first) outputs and final states?"""
    xs, h0, c0 = rand(gen, device, B, T, I), rand(gen, device, B, H), rand(gen, device, B, H)
    lstm = module(torch.nn.LSTM, gen, device, I, H, batch_first=True)
    out, (h_T, c_T) = rnn.lstm_unroll(xs, h0, c0, **weights(lstm, "_l0"))
    e_out, (e_h, e_c) = lstm(xs, (h0[None], c0[None]))
    torch.testing.assert_close(out, e_out.detach(), **TOL)
    torch.testing.assert_close(h_T, e_h[0].detach(), **TOL)
    torch.testing.assert_close(c_T, e_c[0].detach(), **TOL)
    gru = module(torch.nn.GRU, gen, device, I, H, batch_first=True)
    out, h_T = rnn.gru_unroll(xs, h0, **weights(gru, "_l0"))
    e_out, e_h = gru(xs, h0[None])
    torch.testing.assert_close(out, e_out.detach(), **TOL)
    torch.testing.assert_close(h_T, e_h[0].detach(), **TOL)


@pytest.mark.parametrize("initial_state", [False, True])
def test_bidirectional_lstm_matches_pytorch(gen, device, initial_state):
    """Is the Bi-LSTM output nn.LSTM(bidirectional=True, batch_first=True): forward then re-reversed backward outputs?"""
    lstm = module(torch.nn.LSTM, gen, device, I, H, batch_first=True, bidirectional=True)
    xs = rand(gen, device, B, T, I)
    fwd, bwd = weights(lstm, "_l0"), weights(lstm, "_l0_reverse")
    if initial_state:
        h0, c0 = rand(gen, device, 2, B, H), rand(gen, device, 2, B, H)
        got, expected = rnn.bidirectional_lstm(xs, fwd, bwd, h0, c0), lstm(xs, (h0, c0))[0]
    else:
        got, expected = rnn.bidirectional_lstm(xs, fwd, bwd), lstm(xs)[0]
    assert got.shape == (B, T, 2 * H)
    torch.testing.assert_close(got, expected.detach(), **TOL)


def autograd_one_unit(xs, params, activation):
    """The one-unit RNN's loss through rnn_unroll_elman (itself checked against nn.RNN) and its autograd gradients."""
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    f1 = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    w = {k: v.view(1, 1) for k, v in p.items()}  # scalars as 1×1 weights and 1-wide batches
    _, ys = rnn.rnn_unroll_elman(xs[:-1].view(1, -1, 1), w["h0"], w["w_xh"], w["w_hh"], p["b_h"].view(1),
                                 w["w_hy"], p["b_y"].view(1), f1=f1)
    loss = ((ys.flatten() - xs[1:]) ** 2).sum()
    return loss.detach(), dict(zip(p, torch.autograd.grad(loss, list(p.values()))))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_bptt_gradients_match_autograd(gen, device, activation):
    """Are the hand-written BPTT loss and gradients (h0's too) those of autograd, on random and lecture sequences?"""
    names = ("w_xh", "w_hh", "b_h", "w_hy", "b_y", "h0")
    lecture = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)
    cases = [
        (rand(gen, device, 9), {k: rand(gen, device, scale=0.7) for k in names}),
        (lecture, {k: rand(gen, device, scale=0.7) for k in names}),
        (lecture, {**{k: torch.ones((), dtype=torch.float64, device=device) for k in names[:-1]},
                   "h0": torch.zeros((), dtype=torch.float64, device=device)}),  # the slide's initialisation
    ]
    for xs, params in cases:
        loss, grads = rnn.bptt_one_unit(xs, **params, activation=activation)
        e_loss, e_grads = autograd_one_unit(xs, params, activation)
        torch.testing.assert_close(loss, e_loss, **TOL)
        assert set(grads) == set(names)
        for name in names:
            assert grads[name].shape == ()
            torch.testing.assert_close(grads[name], e_grads[name], **TOL, msg=lambda m, name=name: f"gradient of {name}: {m}")


def test_bptt_rejects_bad_arguments(device):
    """Does BPTT refuse an unknown activation and a sequence with nothing to predict, saying what is expected?"""
    one = torch.ones((), dtype=torch.float64, device=device)
    w = {"w_xh": one, "w_hh": one, "b_h": one, "w_hy": one, "b_y": one}
    with pytest.raises(ValueError, match="activation must be one of"):
        rnn.bptt_one_unit(torch.ones(3, dtype=torch.float64, device=device), **w, activation="relu")
    with pytest.raises(ValueError, match="at least 2 numbers"):
        rnn.bptt_one_unit(torch.ones(1, dtype=torch.float64, device=device), **w)


def ones(*shape, device):
    return torch.ones(*shape, dtype=torch.float64, device=device)


def zeros(*shape, device):
    return torch.zeros(*shape, dtype=torch.float64, device=device)


def test_elman_worked_example(device):
    """Lecture, Elman example (all weights 1, h0 = 0, x = 1, 2): h1 ≈ 0.9640, y1 ≈ 1.9640, h2 ≈ 0.9993, y2 ≈ 1.9993?"""
    one = ones(1, 1, device=device)
    w = {"W_xh": one, "W_hh": one, "b_h": ones(1, device=device), "W_hy": one, "b_y": ones(1, device=device)}
    h1, y1 = rnn.elman_step(one, zeros(1, 1, device=device), **w)
    h2, y2 = rnn.elman_step(2 * one, h1, **w)
    assert [round(v.item(), 4) for v in (h1, y1, h2, y2)] == [0.9640, 1.9640, 0.9993, 1.9993]
    hs, ys = rnn.rnn_unroll_elman(torch.tensor([[[1.0], [2.0]]], dtype=torch.float64, device=device), zeros(1, 1, device=device), **w)
    assert [round(v, 4) for v in hs.flatten().tolist() + ys.flatten().tolist()] == [0.9640, 0.9993, 1.9640, 1.9993]


def test_jordan_worked_example(device):
    """Lecture, Jordan example (all 1, h0 = y0 = 0): h1 ≈ 0.9640, y1 ≈ 1.9640; h2 = tanh(5.928) ≈ 1.0000 (slide: 0.9999)?"""
    one = ones(1, 1, device=device)
    w = {"W_xh": one, "W_hh": one, "W_yh": one, "b_h": ones(1, device=device), "W_hy": one, "b_y": ones(1, device=device)}
    h1, y1 = rnn.jordan_step(one, zeros(1, 1, device=device), zeros(1, 1, device=device), **w)
    h2, y2 = rnn.jordan_step(2 * one, h1, y1, **w)
    assert [round(v.item(), 4) for v in (h1, y1)] == [0.9640, 1.9640]
    assert 0.99998 < h2.item() < 0.99999  # tanh(5.928): the slide truncates to 0.9999, rounding gives 1.0000
    assert [round(v.item(), 4) for v in (h2, y2)] == [1.0000, 2.0000]


def test_lstm_worked_example(device):
    """Lecture, LSTM example (all 1, h0 = c0 = 0, x1 = 1): i1 = f1 = o1 ≈ 0.9526, c̃1 ≈ 0.9951, c1 ≈ 0.9479, h1 ≈ 0.7038?"""
    gates = rnn.lstm_gates(ones(1, 1, device=device), zeros(1, 1, device=device), zeros(1, 1, device=device),
                           ones(4, 1, device=device), ones(4, 1, device=device), ones(4, device=device), ones(4, device=device))
    rounded = {k: round(v.item(), 4) for k, v in gates.items()}
    assert rounded == {"i": 0.9526, "f": 0.9526, "g": 0.9951, "o": 0.9526, "c": 0.9479, "h": 0.7038}


@pytest.mark.parametrize("bias", [True, False])
def test_parameter_counts_match_pytorch(bias):
    """Do the LSTM (4 blocks) and GRU (3 blocks) parameter formulas equal nn.LSTM's and nn.GRU's parameter counts?"""
    for i, h in ((10, 20), (1, 1), (128, 64), (3, 7)):
        assert rnn.lstm_param_count(i, h, bias) == sum(p.numel() for p in torch.nn.LSTM(i, h, bias=bias).parameters())
        assert rnn.gru_param_count(i, h, bias) == sum(p.numel() for p in torch.nn.GRU(i, h, bias=bias).parameters())
