"""Recurrent cells by hand: Elman, Jordan, LSTM and GRU steps, unrolling, bidirectional LSTM, and BPTT
(lecture: CE6146 "RNN – Elman/Jordan network", "LSTM", "GRU", "Bidirectional LSTM", "Backpropagation Through Time").

Batch-first, with vectors as rows: a weight W of shape (out, in) acts as x @ W.T, as in PyTorch's nn.Linear.
Gate weights follow PyTorch's layout so answers can be checked against nn.LSTMCell / nn.GRUCell:
LSTM rows are the blocks (i, f, g, o); GRU rows are (r, z, n); each cell has two biases b_ih and b_hh.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

Tensor = torch.Tensor
Activation = Callable[[Tensor], Tensor]


def _identity(x: Tensor) -> Tensor:
    return x


def elman_step(x: Tensor, h_prev: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor,
               f1: Activation = torch.tanh, f2: Activation = _identity) -> tuple[Tensor, Tensor]:
    """One Elman step: h_t = f1(W_hh h_{t-1} + W_xh x_t + b_h),  y_t = f2(W_hy h_t + b_y).

    Inputs: x (B, I), h_prev (B, H), W_xh (H, I), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,).
    Returns: h (B, H), y (B, O).
    """
    h = f1(h_prev @ W_hh.T + x @ W_xh.T + b_h)  # (B, H)
    return h, f2(h @ W_hy.T + b_y)


def jordan_step(x: Tensor, h_prev: Tensor, y_prev: Tensor, W_xh: Tensor, W_hh: Tensor | None, W_yh: Tensor,
                b_h: Tensor, W_hy: Tensor, b_y: Tensor, f1: Activation = torch.tanh,
                f2: Activation = _identity) -> tuple[Tensor, Tensor]:
    """One Jordan step: h_t = f1(W_hh h_{t-1} + W_xh x_t + W_yh y_{t-1} + b_h),  y_t = f2(W_hy h_t + b_y).

    The slide writes W_yh h_t inside h_t's own definition, which is circular; its worked example (and Jordan's
    network) feeds back the previous *output* y_{t-1}, which is what this does. The classic Jordan network has no
    W_hh h_{t-1} term: pass W_hh=None for it (the slide keeps both).
    In the slide's worked example the second step is tanh(0.9640 + 2 + 1.9640 + 1) = tanh(5.928) = 0.999986, which
    rounds to 1.0000 at 4 decimals (and y_2 to 2.0000); the slide truncates them to 0.9999 and 1.9999.

    Inputs: x (B, I), h_prev (B, H), y_prev (B, O), W_xh (H, I), W_hh (H, H) or None, W_yh (H, O), b_h (H,),
            W_hy (O, H), b_y (O,).
    Returns: h (B, H), y (B, O).
    """
    pre = x @ W_xh.T + y_prev @ W_yh.T + b_h  # (B, H)
    if W_hh is not None:
        pre = pre + h_prev @ W_hh.T
    h = f1(pre)
    return h, f2(h @ W_hy.T + b_y)


def lstm_gates(x: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor,
               b_hh: Tensor) -> dict[str, Tensor]:
    """Every quantity of one LSTM step, as on the slide:

        i_t = σ(W_hi h_{t-1} + b_hi + W_ii x_t + b_ii)      input gate
        f_t = σ(W_hf h_{t-1} + b_hf + W_if x_t + b_if)      forget gate
        c̃_t = tanh(W_hg h_{t-1} + b_hg + W_ig x_t + b_ig)   cell candidate
        o_t = σ(W_ho h_{t-1} + b_ho + W_io x_t + b_io)      output gate
        c_t = f_t ∘ c_{t-1} + i_t ∘ c̃_t,   h_t = o_t ∘ tanh(c_t)

    Inputs: x (B, I), h_prev (B, H), c_prev (B, H), W_ih (4H, I), W_hh (4H, H), b_ih (4H,), b_hh (4H,);
            the rows of W_ih, W_hh, b_ih, b_hh are the blocks (i, f, g, o), e.g. W_ih = [W_ii; W_if; W_ig; W_io].
    Returns: dict with i, f, g (= c̃), o, c, h, each (B, H).
    """
    pre = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, 4H)
    zi, zf, zg, zo = pre.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c = f * c_prev + i * g
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": o * torch.tanh(c)}


def lstm_step(x: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor,
              b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step, c_t = f_t ∘ c_{t-1} + i_t ∘ c̃_t and h_t = o_t ∘ tanh(c_t) (gates: see lstm_gates).

    Inputs: x (B, I), h_prev (B, H), c_prev (B, H), W_ih (4H, I), W_hh (4H, H), b_ih (4H,), b_hh (4H,), rows (i, f, g, o).
    Returns: h (B, H), c (B, H), like nn.LSTMCell.
    """
    gates = lstm_gates(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return gates["h"], gates["c"]


def gru_step(x: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step with PyTorch's conventions (rows r, z, n):

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t ∘ (W_hn h_{t-1} + b_hn))  candidate h̃_t
        h_t = (1 − z_t) ∘ n_t + z_t ∘ h_{t-1}

    The lecture writes h_t = (1 − z_t) ∘ h_{t-1} + z_t ∘ h̃_t, which swaps the roles of z: there z says how much to
    renew, here how much to keep. Both describe the same family of cells, because σ(−a) = 1 − σ(a): the lecture's
    gate with weights (W_z, b_z) is exactly 1 − (PyTorch's gate with weights (−W_z, −b_z)). We follow PyTorch so an
    answer can be checked against nn.GRUCell.

    Inputs: x (B, I), h_prev (B, H), W_ih (3H, I), W_hh (3H, H), b_ih (3H,), b_hh (3H,), rows (r, z, n).
    Returns: h (B, H).
    """
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)  # each (B, H)
    h_r, h_z, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate scales only the recurrent part, bias b_hn included
    return (1 - z) * n + z * h_prev


def rnn_unroll_elman(xs: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor,
                     f1: Activation = torch.tanh, f2: Activation = _identity) -> tuple[Tensor, Tensor]:
    """Elman steps over a sequence, the same weights at every step (see elman_step).

    Inputs: xs (B, T, I), h0 (B, H), W_xh (H, I), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,).
    Returns: hs (B, T, H), ys (B, T, O).
    """
    h, hs, ys = h0, [], []
    for t in range(xs.shape[1]):
        h, y = elman_step(xs[:, t], h, W_xh, W_hh, b_h, W_hy, b_y, f1, f2)
        hs.append(h)
        ys.append(y)
    return torch.stack(hs, dim=1), torch.stack(ys, dim=1)


def lstm_unroll(xs: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor,
                b_hh: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """LSTM steps over a sequence, like nn.LSTM(batch_first=True) with one layer.

    Inputs: xs (B, T, I), h0 (B, H), c0 (B, H), W_ih (4H, I), W_hh (4H, H), b_ih (4H,), b_hh (4H,).
    Returns: hs (B, T, H) and the last state (h_T (B, H), c_T (B, H)).
    """
    h, c, hs = h0, c0, []
    for t in range(xs.shape[1]):
        h, c = lstm_step(xs[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs, dim=1), (h, c)


def gru_unroll(xs: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """GRU steps over a sequence, like nn.GRU(batch_first=True) with one layer.

    Inputs: xs (B, T, I), h0 (B, H), W_ih (3H, I), W_hh (3H, H), b_ih (3H,), b_hh (3H,).
    Returns: hs (B, T, H), h_T (B, H).
    """
    h, hs = h0, []
    for t in range(xs.shape[1]):
        h = gru_step(xs[:, t], h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs, dim=1), h


def bidirectional_lstm(xs: Tensor, params_fwd: dict[str, Tensor], params_bwd: dict[str, Tensor],
                       h0: Tensor | None = None, c0: Tensor | None = None) -> Tensor:
    """A Bi-LSTM: one LSTM reads the sequence forwards, another backwards; their outputs are concatenated per step,
    so the output at step t sees the past (forward LSTM) and the future (backward LSTM).

    Inputs: xs (B, T, I); params_fwd and params_bwd each hold W_ih (4H, I), W_hh (4H, H), b_ih (4H,), b_hh (4H,);
            h0, c0 (2, B, H) (forward, backward) or None for zeros.
    Returns: (B, T, 2H), forward outputs then backward outputs, as nn.LSTM(bidirectional=True, batch_first=True).
    """
    B, H = xs.shape[0], params_fwd["W_hh"].shape[1]
    zeros = xs.new_zeros(2, B, H)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    out_f, _ = lstm_unroll(xs, h0[0], c0[0], **params_fwd)  # (B, T, H)
    out_b, _ = lstm_unroll(xs.flip(1), h0[1], c0[1], **params_bwd)  # (B, T, H), in reversed time
    return torch.cat([out_f, out_b.flip(1)], dim=-1)  # re-reverse so step t of both halves is input step t


_ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    # (f, f' written in terms of h = f(a)), so the backward pass reuses the stored hidden states
    "tanh": (torch.tanh, lambda h: 1 - h**2),
    "sigmoid": (torch.sigmoid, lambda h: h * (1 - h)),
}


def bptt_one_unit(xs: Tensor, w_xh: Tensor, w_hh: Tensor, b_h: Tensor, w_hy: Tensor, b_y: Tensor,
                  h0: float | Tensor = 0.0, activation: str = "tanh") -> tuple[Tensor, dict[str, Tensor]]:
    """Back-propagation through time for the lecture's one-unit RNN that predicts the next number:

        h_t = f(w_hh h_{t-1} + w_xh x_t + b_h),  y_t = w_hy h_t + b_y,  Loss = Σ_{t=1}^{T-1} (y_t − x_{t+1})²

    The slide writes W_h for both the recurrent and the input weight; the standard RNN (and the lecture's own Elman
    slides) has two, so they are separate here (w_hh and w_xh). The slide's example uses f = σ; "tanh" is the default
    to match the Elman examples. Backward, from the last step to the first, with a_t the pre-activation:

        ∂L/∂h_t = 2(y_t − x_{t+1}) w_hy + ∂L/∂a_{t+1} w_hh,   ∂L/∂a_t = ∂L/∂h_t · f'(a_t),

    and each weight's gradient is accumulated over all steps (e.g. ∂L/∂w_hh = Σ_t ∂L/∂a_t h_{t-1}).

    Inputs: xs (T,) the sequence, T ≥ 2; 0-d weights w_xh, w_hh, b_h, w_hy, b_y; h0 the initial state (float or 0-d);
            activation "tanh" or "sigmoid".
    Returns: the loss (0-d) and the gradients {w_xh, w_hh, b_h, w_hy, b_y, h0} (0-d each).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if xs.dim() != 1 or xs.shape[0] < 2:
        raise ValueError("xs must be a 1-d sequence of at least 2 numbers (one to read, one to predict), "
                         f"got shape {tuple(xs.shape)}")
    f, fprime = _ACTIVATIONS[activation]
    T = xs.shape[0]
    hs = [torch.as_tensor(h0, dtype=xs.dtype, device=xs.device)]
    for t in range(T - 1):  # the last number has no successor to predict
        hs.append(f(w_hh * hs[-1] + w_xh * xs[t] + b_h))
    errors = [w_hy * hs[t + 1] + b_y - xs[t + 1] for t in range(T - 1)]  # y_t − x_{t+1}
    loss = torch.stack([e**2 for e in errors]).sum()

    grads = {k: torch.zeros_like(xs[0]) for k in ("w_xh", "w_hh", "b_h", "w_hy", "b_y")}
    dh = torch.zeros_like(xs[0])  # ∂L/∂h_t reaching step t from later steps through the recurrence
    for t in reversed(range(T - 1)):
        h, h_prev = hs[t + 1], hs[t]
        dy = 2 * errors[t]
        grads["w_hy"] += dy * h
        grads["b_y"] += dy
        da = (dy * w_hy + dh) * fprime(h)
        grads["w_xh"] += da * xs[t]
        grads["w_hh"] += da * h_prev
        grads["b_h"] += da
        dh = da * w_hh
    grads["h0"] = dh
    return loss, grads


def lstm_param_count(input_size: int, hidden_size: int, bias: bool = True) -> int:
    """4 gate blocks (i, f, g, o), each H×I + H×H weights and, with bias, two H biases (PyTorch keeps b_ih and b_hh):
    4(H·I + H·H + 2H)."""
    return 4 * (hidden_size * input_size + hidden_size * hidden_size + (2 * hidden_size if bias else 0))


def gru_param_count(input_size: int, hidden_size: int, bias: bool = True) -> int:
    """3 gate blocks (r, z, n), each H×I + H×H weights and, with bias, two H biases: 3(H·I + H·H + 2H)."""
    return 3 * (hidden_size * input_size + hidden_size * hidden_size + (2 * hidden_size if bias else 0))
