"""Do the recurrent references match PyTorch's cells and autograd, and reproduce the lecture's worked examples?"""
from __future__ import annotations

import pytest
import torch

from reference import rnn

TOL = {"rtol": 1e-10, "atol": 1e-12}
B, I, H, T = 3, 4, 5, 6


def rand(gen, device, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)


def cell_weights(module):
    return {k: getattr(module, n).detach() for k, n in (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}


def test_elman_step_matches_rnn_cell(gen, device):
    """Is the Elman hidden state nn.RNNCell(tanh), and the output the linear readout?"""
    cell = torch.nn.RNNCell(I, H, nonlinearity="tanh").double().to(device)
    x, h = rand(gen, device, B, I), rand(gen, device, B, H)
    W_hy, b_y = rand(gen, device, 2, H), rand(gen, device, 2)
    h1, y1 = rnn.elman_step(x, h, cell.weight_ih.detach(), cell.weight_hh.detach(), (cell.bias_ih + cell.bias_hh).detach(), W_hy, b_y)
    expected = cell(x, h).detach()
    torch.testing.assert_close(h1, expected, **TOL)
    torch.testing.assert_close(y1, expected @ W_hy.T + b_y, **TOL)


def test_lstm_step_matches_lstm_cell(gen, device):
    """Does lstm_step give nn.LSTMCell's (h, c) with PyTorch's gate order i, f, g, o?"""
    cell = torch.nn.LSTMCell(I, H).double().to(device)
    x, h, c = rand(gen, device, B, I), rand(gen, device, B, H), rand(gen, device, B, H)
    got = rnn.lstm_step(x, h, c, **cell_weights(cell))
    expected = cell(x, (h, c))
    torch.testing.assert_close(got[0], expected[0].detach(), **TOL)
    torch.testing.assert_close(got[1], expected[1].detach(), **TOL)


def test_gru_step_matches_gru_cell(gen, device):
    """Does gru_step give nn.GRUCell's new hidden state (rows r, z, n)?"""
    cell = torch.nn.GRUCell(I, H).double().to(device)
    x, h = rand(gen, device, B, I), rand(gen, device, B, H)
    torch.testing.assert_close(rnn.gru_step(x, h, **cell_weights(cell)), cell(x, h).detach(), **TOL)


def test_lstm_and_gru_unroll_match_the_sequence_modules(gen, device):
    """Does unrolling over a sequence give nn.LSTM / nn.GRU (batch_first) outputs and final states?"""
    xs, h0, c0 = rand(gen, device, B, T, I), rand(gen, device, B, H), rand(gen, device, B, H)
    lstm = torch.nn.LSTM(I, H, batch_first=True).double().to(device)
    w = {"W_ih": lstm.weight_ih_l0.detach(), "W_hh": lstm.weight_hh_l0.detach(), "b_ih": lstm.bias_ih_l0.detach(), "b_hh": lstm.bias_hh_l0.detach()}
    out, (hT, cT) = rnn.lstm_unroll(xs, h0, c0, **w)
    e_out, (e_h, e_c) = lstm(xs, (h0[None], c0[None]))
    torch.testing.assert_close(out, e_out.detach(), **TOL)
    torch.testing.assert_close(cT, e_c[0].detach(), **TOL)
    gru = torch.nn.GRU(I, H, batch_first=True).double().to(device)
    g = {"W_ih": gru.weight_ih_l0.detach(), "W_hh": gru.weight_hh_l0.detach(), "b_ih": gru.bias_ih_l0.detach(), "b_hh": gru.bias_hh_l0.detach()}
    out, hT = rnn.gru_unroll(xs, h0, **g)
    e_out, e_h = gru(xs, h0[None])
    torch.testing.assert_close(out, e_out.detach(), **TOL)
    torch.testing.assert_close(hT, e_h[0].detach(), **TOL)


def test_bidirectional_lstm_matches_pytorch(gen, device):
    """Is the Bi-LSTM output nn.LSTM(bidirectional=True): forward then re-reversed backward outputs?"""
    lstm = torch.nn.LSTM(I, H, batch_first=True, bidirectional=True).double().to(device)
    xs = rand(gen, device, B, T, I)
    directions = [
        {"W_ih": getattr(lstm, f"weight_ih_l0{s}").detach(), "W_hh": getattr(lstm, f"weight_hh_l0{s}").detach(),
         "b_ih": getattr(lstm, f"bias_ih_l0{s}").detach(), "b_hh": getattr(lstm, f"bias_hh_l0{s}").detach()}
        for s in ("", "_reverse")
    ]
    torch.testing.assert_close(rnn.bidirectional_lstm(xs, *directions), lstm(xs)[0].detach(), **TOL)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_bptt_gradients_match_autograd(gen, device, activation):
    """Are the hand-written BPTT gradients of the one-unit RNN those autograd computes, on random and lecture data?"""
    for xs in (rand(gen, device, 7), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)):
        params = {k: (torch.randn((), generator=gen, dtype=torch.float64) * 0.5).to(device).requires_grad_(True)
                  for k in ("w_xh", "w_hh", "b_h", "w_hy", "b_y")}
        loss, grads = rnn.bptt_one_unit(xs, **{k: v.detach() for k, v in params.items()}, activation=activation)
        auto_loss, _ = rnn.bptt_one_unit(xs, **params, activation=activation)  # the forward pass is differentiable too
        auto = torch.autograd.grad(auto_loss, list(params.values()))
        torch.testing.assert_close(loss, auto_loss.detach(), **TOL)
        for (name, g), a in zip(grads.items(), auto):
            torch.testing.assert_close(g, a, **TOL, msg=f"gradient of {name}")


def ones(*shape, device):
    return torch.ones(*shape, dtype=torch.float64, device=device)


def test_elman_worked_example(device):
    """Lecture, Elman example (all weights 1, h0 = 0, x = 1, 2): h1 ≈ 0.9640, y1 ≈ 1.9640, h2 ≈ 0.9993, y2 ≈ 1.9993?"""
    w = dict(W_xh=ones(1, 1, device=device), W_hh=ones(1, 1, device=device), b_h=ones(1, device=device),
             W_hy=ones(1, 1, device=device), b_y=ones(1, device=device))
    h1, y1 = rnn.elman_step(ones(1, 1, device=device), torch.zeros(1, 1, dtype=torch.float64, device=device), **w)
    h2, y2 = rnn.elman_step(2 * ones(1, 1, device=device), h1, **w)
    assert [round(v.item(), 4) for v in (h1, y1, h2, y2)] == [0.9640, 1.9640, 0.9993, 1.9993]


def test_jordan_worked_example(device):
    """Lecture, Jordan example (all 1, h0 = y0 = 0): h1 ≈ 0.9640, y1 ≈ 1.9640; h2 = tanh(5.928) ≈ 1.0000 (slide: 0.9999)?"""
    one = ones(1, 1, device=device)
    w = dict(W_xh=one, W_hh=one, W_yh=one, b_h=ones(1, device=device), W_hy=one, b_y=ones(1, device=device))
    zero = torch.zeros(1, 1, dtype=torch.float64, device=device)
    h1, y1 = rnn.jordan_step(one, zero, zero, **w)
    h2, y2 = rnn.jordan_step(2 * one, h1, y1, **w)
    assert [round(v.item(), 4) for v in (h1, y1)] == [0.9640, 1.9640]
    assert round(h2.item(), 4) == 1.0000 and 0.9999 < h2.item() < 1.0 and round(y2.item(), 4) == 2.0000


def test_lstm_worked_example(device):
    """Lecture, LSTM example (all weights and biases 1, h0 = c0 = 0, x1 = 1): i1 ≈ 0.9526, c̃1 ≈ 0.9951, c1 ≈ 0.9479, h1 ≈ 0.7038?"""
    gates = rnn.lstm_gates(ones(1, 1, device=device), torch.zeros(1, 1, dtype=torch.float64, device=device),
                           torch.zeros(1, 1, dtype=torch.float64, device=device),
                           ones(4, 1, device=device), ones(4, 1, device=device), ones(4, device=device), ones(4, device=device))
    rounded = {k: round(v.item(), 4) for k, v in gates.items()}
    assert rounded == {"i": 0.9526, "f": 0.9526, "g": 0.9951, "o": 0.9526, "c": 0.9479, "h": 0.7038}


def test_parameter_counts_match_pytorch():
    """Do the LSTM and GRU parameter formulas equal the number of parameters of nn.LSTM and nn.GRU?"""
    for i, h in ((10, 20), (1, 1), (128, 64)):
        assert rnn.lstm_param_count(i, h) == sum(p.numel() for p in torch.nn.LSTM(i, h).parameters())
        assert rnn.gru_param_count(i, h) == sum(p.numel() for p in torch.nn.GRU(i, h).parameters())
    assert rnn.lstm_param_count(10, 20) > rnn.gru_param_count(10, 20)
