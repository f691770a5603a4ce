"""Quality gate for a03_recurrent: one wrong solution per named mistake, and other correct styles."""
from tests.mutants import Mutant, Shortcut, Style

SIGMOID = "(lambda a: 1 / (1 + math.exp(-a)))("

MUTANTS = [
    # ---------------------------------------------------------------------------------------- 1. by hand
    Mutant("elman_hand", "math.tanh(", SIGMOID, "a sigmoid instead of tanh for h_t"),
    Mutant("elman_hand", " + b_", " + 0 * b_", "the biases b_h and b_y left out"),
    Mutant("elman_hand", "w_hh * h_prev + ", "", "the recurrent term w_hh·h_{t-1} left out"),
    Mutant("jordan_hand", "math.tanh(", SIGMOID, "a sigmoid instead of tanh for h_t"),
    Mutant("jordan_hand", " + b_", " + 0 * b_", "the biases b_h and b_y left out"),
    Mutant("jordan_hand", "w_hh * h_prev + ", "", "the recurrent term w_hh·h_{t-1} left out (the lecture's Jordan network keeps it)"),
    Mutant("jordan_hand", "w_yh * y_prev", "w_yh * h_prev", "h_{t-1} fed back where the previous output y_{t-1} belongs"),
    Mutant("lstm_hand", "lstm_g = math.tanh(lstm_pre(2))", "lstm_g = 1 / (1 + math.exp(-lstm_pre(2)))",
           "a sigmoid instead of tanh for the cell candidate c~_t"),
    Mutant("lstm_hand", " + b_ih[k] + b_hh[k]", "", "the biases left out"),
    Mutant("lstm_hand", " + W_hh[k] * h_prev", "", "the recurrent terms W_h*·h_{t-1} left out"),
    Mutant("lstm_hand", "lstm_i * lstm_g", "lstm_i", "c_t = f_t·c_{t-1} + i_t, without the candidate c~_t"),
    Mutant("lstm_hand", "lstm_o * math.tanh(lstm_c)", "lstm_o * lstm_c", "h_t = o_t·c_t, without the tanh"),
    Mutant("gru_hand", "gru_n = math.tanh(", "gru_n = sigma(", "a sigmoid instead of tanh for the candidate n_t"),
    Mutant("gru_hand", "b_ih, b_hh = ", "b_ih, b_hh = [0.0] * 3, [0.0] * 3  # ", "the biases left out"),
    Mutant("gru_hand", "W_hh[", "0 * W_hh[", "the recurrent terms W_h*·h_{t-1} left out"),
    Mutant("gru_hand", "(1 - gru_z) * gru_n + gru_z * h_prev", "gru_z * gru_n + (1 - gru_z) * h_prev",
           "the lecture's update convention h_t = z_t·n_t + (1 - z_t)·h_{t-1}"),
    Mutant("gru_hand", "gru_r * (W_hh[2] * h_prev + b_hh[2])", "gru_r * (W_hh[2] * h_prev) + b_hh[2]",
           "b_hn added outside the reset gate"),
    # ---------------------------------------------------------------------------------------- 2. the cells
    Mutant("elman_step", "torch.tanh(", "torch.sigmoid(", "a sigmoid instead of tanh"),
    Mutant("elman_step", " + b_h)", ")", "the bias b_h left out"),
    Mutant("elman_step", " + h_prev @ W_hh.T", "", "the recurrent term W_hh h_{t-1} left out"),
    Mutant("elman_step", "x @ W_xh.T + h_prev @ W_hh.T", "x @ W_xh + h_prev @ W_hh", "the weights transposed (x @ W instead of x @ W.T)"),
    Mutant("elman_step", "y = h @ W_hy.T + b_y", "y = torch.tanh(h @ W_hy.T + b_y)", "a tanh on the output y_t (the lecture's f2 is linear)"),
    Mutant("elman_step", "h @ W_hy.T + b_y", "h @ W_hy.T", "the output bias b_y left out"),
    Mutant("jordan_step", "torch.tanh(", "torch.sigmoid(", "a sigmoid instead of tanh"),
    Mutant("jordan_step", " + b_h)", ")", "the bias b_h left out"),
    Mutant("jordan_step", " + y_prev @ W_yh.T", "", "the output feedback W_yh y_{t-1} left out (that is an Elman step)"),
    Mutant("jordan_step", " + h_prev @ W_hh.T", "", "the recurrent term W_hh h_{t-1} left out (the lecture's Jordan network keeps it)"),
    Mutant("jordan_step", "y_prev @ W_yh.T", "h_prev @ W_yh.T", "h_{t-1} fed back where the previous output y_{t-1} belongs"),
    Mutant("jordan_step", "x @ W_xh.T + h_prev @ W_hh.T + y_prev @ W_yh.T", "x @ W_xh + h_prev @ W_hh + y_prev @ W_yh",
           "the weights transposed (x @ W instead of x @ W.T)"),
    Mutant("jordan_step", "y = h @ W_hy.T + b_y", "y = torch.tanh(h @ W_hy.T + b_y)", "a tanh on the output y_t (the lecture's f2 is linear)"),
    Mutant("jordan_step", "h @ W_hy.T + b_y", "h @ W_hy.T", "the output bias b_y left out"),
    Mutant("lstm_step", "i, f, g, o = gates.chunk", "i, f, o, g = gates.chunk",
           "the gate blocks in the wrong order (PyTorch stacks the rows as i, f, g, o)"),
    Mutant("lstm_step", " + b_hh", "", "the recurrent bias b_hh left out (PyTorch adds both b_ih and b_hh)"),
    Mutant("lstm_step", "torch.tanh(g)", "torch.sigmoid(g)", "a sigmoid for the cell candidate c~_t (it uses tanh)"),
    Mutant("lstm_step", "torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)",
           "torch.tanh(i), torch.tanh(f), torch.sigmoid(g), torch.tanh(o)", "tanh and sigmoid swapped (tanh gates, a sigmoid candidate)"),
    Mutant("lstm_step", " + h_prev @ W_hh.T", "", "the recurrent term h_{t-1} W_hh^T left out"),
    Mutant("lstm_step", "c = f * c_prev + i * g", "c = f * c_prev + i", "c_t = f_t c_{t-1} + i_t, without the candidate c~_t"),
    Mutant("lstm_step", "h = o * torch.tanh(c)", "h = o * c", "h_t = o_t c_t, without the tanh"),
    Mutant("gru_step", "(1 - z) * n + z * h_prev", "z * n + (1 - z) * h_prev",
           "the lecture's update convention h_t = z_t n_t + (1 - z_t) h_{t-1} (z flipped)"),
    Mutant("gru_step", "n = torch.tanh(i_n + r * h_n)",
           "n = torch.tanh(i_n + r * (h_n - b_hh[-h_prev.shape[-1]:]) + b_hh[-h_prev.shape[-1]:])",
           "b_hn added outside the reset gate"),
    Mutant("gru_step", "r * h_n", "((r * h_prev) @ W_hh[-h_prev.shape[-1]:].T + b_hh[-h_prev.shape[-1]:])",
           "the reset gate applied to h_{t-1} before W_hn (Cho et al.'s variant, not PyTorch's)"),
    Mutant("gru_step", "r = torch.sigmoid(i_r + h_r)\n    z = torch.sigmoid(i_z + h_z)",
           "z = torch.sigmoid(i_r + h_r)\n    r = torch.sigmoid(i_z + h_z)",
           "the gate blocks in the wrong order (PyTorch stacks the rows as r, z, n)"),
    Mutant("gru_step", " + b_hh).chunk", ").chunk", "the recurrent bias b_hh left out (PyTorch adds both b_ih and b_hh)"),
    Mutant("gru_step", "n = torch.tanh(", "n = torch.sigmoid(", "a sigmoid for the candidate n_t (it uses tanh)"),
    # ---------------------------------------------------------------------------------------- 3. unrolling
    Mutant("lstm_unroll", "return torch.stack(hs, dim=1), (h, c)", "return h, (h, c)",
           "only the last state returned instead of every h_t"),
    Mutant("lstm_unroll", "lstm_step(xs[:, t], h, c,", "lstm_step(xs[:, t], h, c0,",
           "the cell state not carried from step to step (c_0 used at every step)"),
    Mutant("lstm_unroll", "lstm_step(xs[:, t], h, c,", "lstm_step(xs[:, t], h0, c,", "the hidden state reset to h_0 at every step"),
    Mutant("lstm_unroll", "torch.stack(hs, dim=1)", "torch.stack(hs, dim=0)",
           "the states stacked time-major (T, B, H) instead of batch-first (B, T, H)"),
    Mutant("lstm_unroll", "dim=1), (h, c)", "dim=1), (c, h)", "h_T and c_T swapped"),
    # ---------------------------------------------------------------------------------------- 4. bidirectional
    Mutant("bidirectional_lstm", "torch.cat([out_f, torch.flip(out_b, dims=[1])], dim=-1)", "torch.cat([out_f, out_b], dim=-1)",
           "the backward outputs not reversed back in time"),
    Mutant("bidirectional_lstm", "torch.cat([out_f, torch.flip(out_b, dims=[1])], dim=-1)",
           "torch.cat([torch.flip(out_b, dims=[1]), out_f], dim=-1)", "the concatenation order swapped"),
    Mutant("bidirectional_lstm", "lstm_unroll(torch.flip(xs, dims=[1]), h0[1]", "lstm_unroll(xs, h0[1]",
           "the backward LSTM run over the unreversed sequence"),
    Mutant("bidirectional_lstm", "**params_bwd", "**params_fwd", "the forward weights used for the backward direction too"),
    # ---------------------------------------------------------------------------------------- 5. BPTT
    Mutant("bptt", "da_next = da\n", "da_next = 0.0 * da\n", "the gradient truncated to one step"),
    Mutant("bptt", "da = dh * (1 - hs[t + 1] ** 2)", "da = dh", "the tanh derivative (1 − h_t²) left out"),
    Mutant("bptt", "dy = 2 * errors[t]", "dy = 2 * errors[t] * (t == T - 2)", "only the last loss term"),
    Mutant("bptt", "return loss, grads", "return loss / (T - 1), grads", "the loss averaged over the steps instead of summed"),
    # ---------------------------------------------------------------------------------------- 6. concepts
    Mutant("concepts", 'q_lstm_gates = "c"', 'q_lstm_gates = "a"', "the gate that multiplies c_{t-1} is the forget gate f_t"),
    Mutant("concepts", 'q_lstm_gates = "c"', 'q_lstm_gates = "d"', "the output gate never writes into the cell"),
    Mutant("concepts", 'q_vanishing = "b"', 'q_vanishing = "a"', "the sigmoid's derivative is at most 1/4"),
    Mutant("concepts", 'q_gru_lacks = "d"', 'q_gru_lacks = "a"', "the GRU does have a reset gate"),
    Mutant("concepts", "q_lstm_params = 4 * (", "q_lstm_params = -4 * H + 4 * (",
           "one bias vector per gate block instead of PyTorch's two (b_ih and b_hh)"),
    Mutant("concepts", " + 2 * H)", ")", "the biases left out"),
    Mutant("concepts", "q_gru_params = 3 * (", "q_gru_params = 4 * (", "the other cell's number of gate blocks"),
    Mutant("concepts", "q_lstm_params = 4 * (", "q_lstm_params = 1 * (", "one gate block only"),
]

NUMPY_CELLS = {
    "elman_step": '''
import numpy as np


def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    x, h_prev, W_xh, W_hh, b_h, W_hy, b_y = map(np.asarray, (x, h_prev, W_xh, W_hh, b_h, W_hy, b_y))
    h = np.tanh(np.einsum("bi,hi->bh", x, W_xh) + np.einsum("bk,hk->bh", h_prev, W_hh) + b_h)
    return h, np.einsum("bh,oh->bo", h, W_hy) + b_y
''',
    "jordan_step": '''
def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    x, h_prev, y_prev = np.asarray(x), np.asarray(h_prev), np.asarray(y_prev)
    pre = x @ np.asarray(W_xh).T + h_prev @ np.asarray(W_hh).T + y_prev @ np.asarray(W_yh).T + np.asarray(b_h)
    h = np.tanh(pre)
    return h, h @ np.asarray(W_hy).T + np.asarray(b_y)
''',
    "lstm_step": '''
def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # the same function, written without exp


def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = map(np.asarray, (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh))
    H = h_prev.shape[1]
    out_h, out_c = np.empty_like(h_prev), np.empty_like(c_prev)
    for b in range(x.shape[0]):  # one sample at a time, gate by gate, as column vectors like the slides
        pre = W_ih @ x[b] + b_ih + W_hh @ h_prev[b] + b_hh
        i, f, g, o = (pre[k * H:(k + 1) * H] for k in range(4))
        c = _sigmoid(f) * c_prev[b] + _sigmoid(i) * np.tanh(g)
        out_c[b], out_h[b] = c, _sigmoid(o) * np.tanh(c)
    return out_h, out_c
''',
    "gru_step": '''
def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    x, h_prev, W_ih, W_hh, b_ih, b_hh = map(np.asarray, (x, h_prev, W_ih, W_hh, b_ih, b_hh))
    H = h_prev.shape[1]
    W_ir, W_iz, W_in = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    b_ir, b_iz, b_in = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
    b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    r = 1 / (1 + np.exp(-(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)))
    z = 1 / (1 + np.exp(-(x @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)))
    n = np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))
    return h_prev + (1 - z) * (n - h_prev)
''',
    "lstm_unroll": '''
def lstm_unroll(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xs = np.asarray(xs)
    B, T, _ = xs.shape
    hs = np.zeros((B, T, np.asarray(h0).shape[1]))
    h, c = np.asarray(h0), np.asarray(c0)
    for t in range(T):
        h, c = lstm_step(xs[:, t, :], h, c, W_ih, W_hh, b_ih, b_hh)
        hs[:, t, :] = h
    return hs, (h, c)
''',
    "bidirectional_lstm": '''
def bidirectional_lstm(xs, params_fwd, params_bwd, h0=None, c0=None):
    xs = np.asarray(xs)
    B, T, _ = xs.shape
    H = np.asarray(params_fwd["W_hh"]).shape[1]
    h0 = np.zeros((2, B, H)) if h0 is None else np.asarray(h0)
    c0 = np.zeros((2, B, H)) if c0 is None else np.asarray(c0)
    forward, _ = lstm_unroll(xs, h0[0], c0[0], **params_fwd)
    backward, _ = lstm_unroll(xs[:, ::-1], h0[1], c0[1], **params_bwd)
    out = np.empty((B, T, 2 * H))
    for t in range(T):
        out[:, t, :H] = forward[:, t]
        out[:, t, H:] = backward[:, T - 1 - t]  # the backward LSTM saw x_t at its step T-1-t
    return out
''',
    "bptt": '''
def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
    xs = [float(v) for v in np.asarray(xs)]
    w_xh, w_hh, b_h, w_hy, b_y, h = (float(np.asarray(v)) for v in (w_xh, w_hh, b_h, w_hy, b_y, h0))
    hs, loss = [h], 0.0
    for t in range(len(xs) - 1):  # forward, keeping every h_t
        hs.append(math.tanh(w_hh * hs[-1] + w_xh * xs[t] + b_h))
        loss += (w_hy * hs[-1] + b_y - xs[t + 1]) ** 2
    g = {"w_xh": 0.0, "w_hh": 0.0, "b_h": 0.0, "w_hy": 0.0, "b_y": 0.0}
    carry = 0.0  # dL/dh_t arriving from step t+1
    for t in range(len(xs) - 2, -1, -1):
        dy = 2 * (w_hy * hs[t + 1] + b_y - xs[t + 1])
        g["w_hy"] += dy * hs[t + 1]
        g["b_y"] += dy
        da = (dy * w_hy + carry) * (1 - hs[t + 1] ** 2)
        g["w_xh"] += da * xs[t]
        g["w_hh"] += da * hs[t]
        g["b_h"] += da
        carry = da * w_hh
    return loss, g
''',
}

FLOAT32_CELLS = {
    "elman_step": '''
def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    f = lambda a: a.float()
    h = torch.tanh(torch.nn.functional.linear(f(x), f(W_xh), f(b_h)) + torch.nn.functional.linear(f(h_prev), f(W_hh)))
    return h, torch.nn.functional.linear(h, f(W_hy), f(b_y))
''',
    "lstm_step": '''
def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = torch.addmm(b_ih + b_hh, x, W_ih.T) + h_prev @ W_hh.T
    H = h_prev.shape[-1]
    i, f = torch.sigmoid(gates[:, :H]), torch.sigmoid(gates[:, H:2 * H])
    g, o = torch.tanh(gates[:, 2 * H:3 * H]), torch.sigmoid(gates[:, 3 * H:])
    c = torch.addcmul(f * c_prev, i, g)
    return o * torch.tanh(c), c
''',
    "gru_step": '''
def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    x, h_prev, W_ih, W_hh, b_ih, b_hh = (v.float() for v in (x, h_prev, W_ih, W_hh, b_ih, b_hh))
    gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    H = h_prev.shape[-1]
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return torch.lerp(n, h_prev, z)
''',
    "bidirectional_lstm": '''
def bidirectional_lstm(xs, params_fwd, params_bwd, h0=None, c0=None):
    B, H = xs.shape[0], params_fwd["W_hh"].shape[1]
    zeros = xs.new_zeros(2, B, H)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    fwd, _ = lstm_unroll(xs, h0[0], c0[0], **params_fwd)
    rev = torch.arange(xs.shape[1] - 1, -1, -1)
    bwd, _ = lstm_unroll(xs[:, rev], h0[1], c0[1], **params_bwd)
    return torch.cat((fwd, bwd[:, rev]), dim=2)
''',
    "bptt": '''
def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
    T = len(xs)
    h = [torch.as_tensor(h0, dtype=xs.dtype)]
    for t in range(1, T):
        h.append(torch.tanh(w_hh * h[t - 1] + w_xh * xs[t - 1] + b_h))
    e = torch.stack([w_hy * h[t] + b_y - xs[t] for t in range(1, T)])  # e[t-1] = y_t - x_{t+1}
    loss = (e ** 2).sum()
    hs = torch.stack(h)
    dy = 2 * e
    da = torch.zeros(T - 1, dtype=xs.dtype)
    running = torch.zeros((), dtype=xs.dtype)
    for t in range(T - 2, -1, -1):
        running = (dy[t] * w_hy + running * w_hh) * (1 - hs[t + 1] ** 2)
        da[t] = running
    grads = {"w_hy": (dy * hs[1:]).sum(), "b_y": dy.sum(), "w_xh": (da * xs[:-1]).sum(), "w_hh": (da * hs[:-1]).sum(),
             "b_h": da.sum()}
    return loss, grads
''',
}

CONCEPTS = '''
q_lstm_gates = " C "
q_vanishing = "(b)"
q_gru_lacks = "D"
q_lstm_params = float(__LSTM__)
q_gru_params = __GRU__
'''


STYLES = [
    Style("numpy, loops over the batch and over time", NUMPY_CELLS),
    Style("torch float32, addmm, lerp, vectorised BPTT", FLOAT32_CELLS),
]


# -------------------------------------------------------------------------------------------- hand answers as literals
# A student types rounded numbers, computing later steps from earlier *rounded* values; this style checks that the
# 5e-4 tolerance accepts that. The solution notebook's answers are for its declared STUDENT_ID, "self-learner".
def _hand_literals(student: str) -> dict[str, str]:
    import math

    from grader.variants import variant_numbers

    def r4(v: float) -> float:
        return round(v, 4)

    def sig(a: float) -> float:
        return 1 / (1 + math.exp(-a))

    e = variant_numbers("a03_recurrent", "elman_hand", student)
    h1 = r4(math.tanh(e["w_hh"] * e["h0"] + e["w_xh"] * e["x1"] + e["b_h"]))
    y1 = r4(e["w_hy"] * h1 + e["b_y"])
    h2 = r4(math.tanh(e["w_hh"] * h1 + e["w_xh"] * e["x2"] + e["b_h"]))
    cells = {"elman_hand": f"elman_h1 = {h1}\nelman_y1 = {y1}\nelman_h2 = {h2}\n"}
    j = variant_numbers("a03_recurrent", "jordan_hand", student)
    h1 = r4(math.tanh(j["w_hh"] * j["h0"] + j["w_xh"] * j["x1"] + j["w_yh"] * j["y0"] + j["b_h"]))
    y1 = r4(j["w_hy"] * h1 + j["b_y"])
    h2 = r4(math.tanh(j["w_hh"] * h1 + j["w_xh"] * j["x2"] + j["w_yh"] * y1 + j["b_h"]))
    cells["jordan_hand"] = f"jordan_h1 = {h1}\njordan_y1 = {y1}\njordan_h2 = {h2}\n"
    n = variant_numbers("a03_recurrent", "lstm_hand", student)
    pre = [n["W_ih"][k] * n["x"] + n["W_hh"][k] * n["h_prev"] + n["b_ih"][k] + n["b_hh"][k] for k in range(4)]
    i, f, g, o = r4(sig(pre[0])), r4(sig(pre[1])), r4(math.tanh(pre[2])), r4(sig(pre[3]))
    c = r4(f * n["c_prev"] + i * g)
    h = r4(o * r4(math.tanh(c)))
    cells["lstm_hand"] = f"lstm_i = {i}\nlstm_f = {f}\nlstm_g = {g}\nlstm_o = {o}\nlstm_c = {c}\nlstm_h = {h}\n"
    q = variant_numbers("a03_recurrent", "gru_hand", student)
    W_ih, W_hh, b_ih, b_hh, x, hp = q["W_ih"], q["W_hh"], q["b_ih"], q["b_hh"], q["x"], q["h_prev"]
    r = r4(sig(W_ih[0] * x + b_ih[0] + W_hh[0] * hp + b_hh[0]))
    z = r4(sig(W_ih[1] * x + b_ih[1] + W_hh[1] * hp + b_hh[1]))
    cand = r4(math.tanh(W_ih[2] * x + b_ih[2] + r * (W_hh[2] * hp + b_hh[2])))
    h = r4((1 - z) * cand + z * hp)
    cells["gru_hand"] = f"gru_r = {r}\ngru_z = {z}\ngru_n = {cand}\ngru_h = {h}\n"
    p = variant_numbers("a03_recurrent", "q_param_count", student)
    I, H = p["input_size"], p["hidden_size"]
    cells["concepts"] = CONCEPTS.replace("__LSTM__", str(4 * (H * I + H * H + 2 * H))).replace(
        "__GRU__", str(3 * (H * I + H * H + 2 * H)))
    return cells


STYLES.append(Style("hand answers typed as rounded numbers, letters with spaces and capitals", _hand_literals("self-learner")))


# Colah's and CS231n's arrangement: one matrix product on the concatenation [x, h] (weights side by side), gates
# sliced by rows; the sequence written into a preallocated tensor, the backward direction by reversed indices.
CONCATENATED = {
    "elman_step": '''import torch

def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h = torch.tanh(torch.cat([x, h_prev], dim=1) @ torch.cat([W_xh, W_hh], dim=1).T + b_h)
    return h, torch.nn.functional.linear(h, W_hy, b_y)
''',
    "jordan_step": '''import torch

def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    stacked = torch.cat([x, h_prev, y_prev], dim=1)
    h = torch.tanh(stacked @ torch.cat([W_xh, W_hh, W_yh], dim=1).T + b_h)
    return h, h @ W_hy.T + b_y
''',
    "lstm_step": '''import torch

def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = torch.cat([x, h_prev], dim=1) @ torch.cat([W_ih, W_hh], dim=1).T + (b_ih + b_hh)
    i = torch.sigmoid(a[:, :H])
    f = torch.sigmoid(a[:, H:2 * H])
    g = torch.tanh(a[:, 2 * H:3 * H])
    o = torch.sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    return o * torch.tanh(c), c
''',
    "gru_step": '''import torch

def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return n + z * (h_prev - n)
''',
    "lstm_unroll": '''import torch

def lstm_unroll(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    B, T, _ = xs.shape
    hs = xs.new_empty(B, T, h0.shape[1])
    h, c = h0, c0
    for t in range(T):
        h, c = lstm_step(xs[:, t, :], h, c, W_ih, W_hh, b_ih, b_hh)
        hs[:, t, :] = h
    return hs, (h, c)
''',
    "bidirectional_lstm": '''import torch

def bidirectional_lstm(xs, params_fwd, params_bwd, h0=None, c0=None):
    B, T, _ = xs.shape
    H = params_fwd["W_hh"].shape[1]
    zeros = torch.zeros(2, B, H, dtype=xs.dtype, device=xs.device)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    backwards = torch.arange(T - 1, -1, -1, device=xs.device)
    fwd, _ = lstm_unroll(xs, h0[0], c0[0], params_fwd["W_ih"], params_fwd["W_hh"], params_fwd["b_ih"], params_fwd["b_hh"])
    bwd, _ = lstm_unroll(xs[:, backwards], h0[1], c0[1], params_bwd["W_ih"], params_bwd["W_hh"], params_bwd["b_ih"],
                         params_bwd["b_hh"])
    return torch.cat([fwd, bwd[:, backwards]], dim=2)
''',
}

# numpy in float32, vectorised over the batch: the cells only (their tests accept float32's tolerance)
NUMPY_FLOAT32 = {
    name: "import numpy as np\n\n\ndef _f32(*arrays):\n    return [np.asarray(a, dtype=np.float32) for a in arrays]\n\n\n"
          "def _sigmoid(a):\n    return 1.0 / (1.0 + np.exp(-a))\n\n\n" + body
    for name, body in {
        "elman_step": '''def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    x, h_prev, W_xh, W_hh, b_h, W_hy, b_y = _f32(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y)
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)
    return h, h @ W_hy.T + b_y
''',
        "jordan_step": '''def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y = _f32(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y)
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + y_prev @ W_yh.T + b_h)
    return h, h @ W_hy.T + b_y
''',
        "lstm_step": '''def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = _f32(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    i, f, g, o = np.split(x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh, 4, axis=1)
    c = _sigmoid(f) * c_prev + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c
''',
        "gru_step": '''def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    x, h_prev, W_ih, W_hh, b_ih, b_hh = _f32(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    i_r, i_z, i_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1.0 - z) * n + z * h_prev
''',
    }.items()
}

# BPTT by forward-mode sensitivities (real-time recurrent learning): dh_t/dθ carried forward with h_t, the loss's
# gradient summed as the errors appear; the same gradients as back-propagation through time, in the other order.
FORWARD_MODE_BPTT = {
    "bptt": '''import torch

def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
    h = torch.as_tensor(h0, dtype=xs.dtype)
    dh = {"w_xh": 0.0, "w_hh": 0.0, "b_h": 0.0}  # dh_t / dθ for the recurrent parameters
    grads = {"w_xh": 0.0, "w_hh": 0.0, "b_h": 0.0, "w_hy": 0.0, "b_y": 0.0}
    loss = 0.0
    for t in range(len(xs) - 1):
        h_new = torch.tanh(w_hh * h + w_xh * xs[t] + b_h)
        local = 1 - h_new ** 2
        dh = {"w_xh": local * (xs[t] + w_hh * dh["w_xh"]),
              "w_hh": local * (h + w_hh * dh["w_hh"]),
              "b_h": local * (1 + w_hh * dh["b_h"])}
        h = h_new
        error = w_hy * h + b_y - xs[t + 1]
        loss = loss + error ** 2
        grads["w_hy"] = grads["w_hy"] + 2 * error * h
        grads["b_y"] = grads["b_y"] + 2 * error
        for name in dh:
            grads[name] = grads[name] + 2 * error * w_hy * dh[name]
    return loss, grads
''',
}

STYLES += [
    Style("one product on the concatenation [x, h], gates sliced by rows, reversed indices", CONCATENATED),
    Style("numpy float32 cells", NUMPY_FLOAT32),
    Style("BPTT by forward-mode sensitivities", FORWARD_MODE_BPTT),
]


# The library calls course.yaml forbids, each used instead of the student's work (tests/test_shortcuts.py).
SHORTCUTS = [
    Shortcut('bptt', {
        'bptt': """
            import torch
            def bptt(xs, w_xh, w_hh, b_h, w_hy, b_y, h0=0.0):
                w = {k: torch.tensor(float(v), dtype=xs.dtype, requires_grad=True)
                     for k, v in dict(w_xh=w_xh, w_hh=w_hh, b_h=b_h, w_hy=w_hy, b_y=b_y).items()}
                h, loss = torch.tensor(float(h0), dtype=xs.dtype), 0.0
                for t in range(len(xs) - 1):
                    h = torch.tanh(w["w_hh"] * h + w["w_xh"] * xs[t] + w["b_h"])
                    loss = loss + (w["w_hy"] * h + w["b_y"] - xs[t + 1]) ** 2
                loss.backward()
                return loss.detach(), {k: v.grad for k, v in w.items()}
            """,
    }, 'torch.Tensor.backward'),
]
