"""carol: partly done. The hand computations and the Elman and Jordan cells are finished, the LSTM cell is written
but its unrolling and everything after it are not started yet (those tests fail with "not defined")."""
import numpy as np

STUDENT_ID = "carol"

elman_h1 = 0.6351
elman_y1 = -0.6824
elman_h2 = 0.5616
jordan_h1 = -0.964
jordan_y1 = -0.964
jordan_h2 = -0.7763
lstm_i = 0.8808
lstm_f = 0.2689
lstm_g = -0.7616
lstm_o = 0.0759
lstm_c = -0.8053
lstm_h = -0.0506
gru_r = 0.1824
gru_z = 0.8176
gru_n = 0.649
gru_h = -0.6992


def elman_step(x, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    x, h_prev = np.asarray(x), np.asarray(h_prev)
    h = np.tanh(x @ np.asarray(W_xh).T + h_prev @ np.asarray(W_hh).T + np.asarray(b_h))
    return h, h @ np.asarray(W_hy).T + np.asarray(b_y)


def jordan_step(x, h_prev, y_prev, W_xh, W_hh, W_yh, b_h, W_hy, b_y):
    a = np.asarray(x) @ np.asarray(W_xh).T + np.asarray(h_prev) @ np.asarray(W_hh).T + np.asarray(y_prev) @ np.asarray(W_yh).T
    h = np.tanh(a + np.asarray(b_h))
    return h, h @ np.asarray(W_hy).T + np.asarray(b_y)


def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = x @ W_ih.T + b_ih + h_prev @ W_hh.T  # TODO: b_hh?
    i, f, g, o = gates.chunk(4, dim=-1)
    c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    raise NotImplementedError()
