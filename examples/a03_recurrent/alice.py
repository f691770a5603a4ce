"""alice: correct, in a different style from the solution (full marks): hand answers typed as rounded numbers,
torch cells written with nn.functional.linear and slicing, BPTT with the gradients kept in lists."""
import torch
import torch.nn.functional as F

STUDENT_ID = "alice"

elman_h1 = -0.9051
elman_y1 = 0.9526
elman_h2 = -0.8644
jordan_h1 = -0.4621
jordan_y1 = -0.4242
jordan_h2 = -0.9516
lstm_i = 0.9241
lstm_f = 0.5622
lstm_g = -0.7616
lstm_o = 0.148
lstm_c = -1.266
lstm_h = -0.1262
gru_r = 0.8176
gru_z = 0.1824
gru_n = 0.8548
gru_h = 0.5164


def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h = torch.tanh(F.linear(x, W_xh) + F.linear(h_prev, W_hh, b_h))
    return h, F.linear(h, W_hy, b_y)


def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    h = torch.tanh(F.linear(torch.cat([x, y_prev, h_prev], dim=1), torch.cat([W_xh, W_yh, W_hh], dim=1), b_h))
    return h, F.linear(h, W_hy, b_y)


def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = F.linear(x, W_ih, b_ih) + F.linear(h_prev, W_hh, b_hh)
    i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi, gh = F.linear(x, W_ih, b_ih), F.linear(h_prev, W_hh, b_hh)
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return z * h_prev + (1 - z) * n


def lstm_unroll(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    state, outputs = (h0, c0), []
    for x_t in xs.unbind(dim=1):
        state = lstm_step(x_t, *state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state


def bidirectional_lstm(xs, params_fwd, params_bwd, h0=None, c0=None):
    B, H = xs.shape[0], params_fwd["W_hh"].shape[1]
    h0 = xs.new_zeros(2, B, H) if h0 is None else h0
    c0 = xs.new_zeros(2, B, H) if c0 is None else c0
    forward, _ = lstm_unroll(xs, h0[0], c0[0], **params_fwd)
    backward, _ = lstm_unroll(xs.flip(1), h0[1], c0[1], **params_bwd)
    return torch.cat([forward, backward.flip(1)], dim=2)


def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
    T = len(xs)
    h = [torch.tensor(float(h0), dtype=xs.dtype)]
    for t in range(T - 1):
        h.append(torch.tanh(w_hh * h[t] + w_xh * xs[t] + b_h))
    y = [w_hy * h[t + 1] + b_y for t in range(T - 1)]
    loss = sum((y[t] - xs[t + 1]) ** 2 for t in range(T - 1))
    d = {"w_xh": [], "w_hh": [], "b_h": [], "w_hy": [], "b_y": []}
    delta = 0.0
    for t in range(T - 2, -1, -1):
        dy = 2 * (y[t] - xs[t + 1])
        delta = (dy * w_hy + delta * w_hh) * (1 - h[t + 1] ** 2)
        d["w_hy"].append(dy * h[t + 1])
        d["b_y"].append(dy)
        d["w_xh"].append(delta * xs[t])
        d["w_hh"].append(delta * h[t])
        d["b_h"].append(delta)
    return loss, {k: sum(v) for k, v in d.items()}


q_lstm_gates = "c"
q_vanishing = "B"
q_gru_lacks = "d"
q_lstm_params = 2784
q_gru_params = 2088
