"""bob: classic mistakes, each named in the feedback: a sigmoid in the Elman hand step, h_{t-1} fed back in the
Jordan step, the lecture's z convention in the GRU, backward outputs not re-reversed in the Bi-LSTM, BPTT truncated
to one step, one bias per gate block in the parameter count, and the input gate mistaken for the forget gate."""
import torch

STUDENT_ID = "bob"

elman_h1 = 0.5622
elman_y1 = -0.7811
elman_h2 = 0.5698
jordan_h1 = 0.9051
jordan_y1 = 1.0949
jordan_h2 = -0.0946
lstm_i = 0.7311
lstm_f = 0.5
lstm_g = -0.964
lstm_o = 0.8808
lstm_c = -0.9548
lstm_h = -0.6535
gru_r = 0.5
gru_z = 0.6792
gru_n = -0.2449
gru_h = -0.3268


def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h = torch.tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)
    return h, h @ W_hy.T + b_y


def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    h = torch.tanh(x @ W_xh.T + h_prev @ W_hh.T + h_prev @ W_yh.T + b_h)  # feeds back h, not y
    return h, h @ W_hy.T + b_y


def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return z * n + (1 - z) * h_prev  # the slide's convention


def lstm_unroll(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, hs = h0, c0, []
    for t in range(xs.shape[1]):
        h, c = lstm_step(xs[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs, dim=1), (h, c)


def bidirectional_lstm(xs, params_fwd, params_bwd, h0=None, c0=None):
    B, H = xs.shape[0], params_fwd["W_hh"].shape[1]
    h0 = torch.zeros(2, B, H, dtype=xs.dtype) if h0 is None else h0
    c0 = torch.zeros(2, B, H, dtype=xs.dtype) if c0 is None else c0
    out_f, _ = lstm_unroll(xs, h0[0], c0[0], **params_fwd)
    out_b, _ = lstm_unroll(xs.flip(1), h0[1], c0[1], **params_bwd)
    return torch.cat([out_f, out_b], dim=-1)


def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
    hs = [h0]
    for t in range(len(xs) - 1):
        hs.append(torch.tanh(w_hh * hs[-1] + w_xh * xs[t] + b_h))
    loss = 0.0
    grads = dict.fromkeys(["w_xh", "w_hh", "b_h", "w_hy", "b_y"], 0.0)
    for t in range(len(xs) - 1):  # each step on its own: no gradient through h_(t-1)
        e = w_hy * hs[t + 1] + b_y - xs[t + 1]
        loss = loss + e ** 2
        da = 2 * e * w_hy * (1 - hs[t + 1] ** 2)
        grads["w_hy"] += 2 * e * hs[t + 1]
        grads["b_y"] += 2 * e
        grads["w_xh"] += da * xs[t]
        grads["w_hh"] += da * hs[t]
        grads["b_h"] += da
    return loss, grads


q_lstm_gates = "a"
q_vanishing = "b"
q_gru_lacks = "d"
q_lstm_params = 1280
q_gru_params = 1008
