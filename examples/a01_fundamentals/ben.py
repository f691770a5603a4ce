# Classic mistakes; the grader names each one in its feedback.
import torch
import torch.nn as nn
import torch.nn.functional as F


def sigmoid_grad(x):
    return torch.sigmoid(x)  # mistake: σ itself, not σ(1 − σ)


def tanh_grad(x):
    return 1 - torch.tanh(x) ** 2


def relu_grad(x):
    return (x > 0).double()


def elu_grad(x, alpha=1.0):
    return torch.where(x > 0, torch.ones_like(x), torch.exp(x))  # mistake: the factor α is missing


def softmax(x, dim=-1):
    e = torch.exp(x)  # mistake: no max subtracted, overflows for large logits
    return e / e.sum(dim=dim, keepdim=True)


def softmax_jacobian(s):
    return torch.diag(s) - torch.outer(s, s)


def cross_entropy(logits, y):
    log_probs = torch.log_softmax(logits, dim=1)
    return -log_probs[torch.arange(len(y)), y].sum()  # mistake: the sum instead of the mean


def mlp3_forward(X, params):
    cache = {"x0": X}
    x = X
    for i in (1, 2, 3):
        z = x @ params[f"A{i}"] + params[f"b{i}"]  # mistake: A_i, not A_iᵀ (fails with a shape error, or silently)
        x = torch.softmax(z, dim=1) if i == 3 else torch.relu(z)
        cache[f"z{i}"], cache[f"x{i}"] = z, x
    return x, cache


def mlp3_backward(cache, params, y):
    x3 = cache["x3"]
    dz = x3 - F.one_hot(y, x3.shape[1]).to(x3.dtype)  # mistake: no division by N
    grads = {}
    for i in (3, 2, 1):
        grads[f"A{i}"] = dz.T @ cache[f"x{i - 1}"]
        grads[f"b{i}"] = dz.sum(0)
        if i > 1:
            dz = (dz @ params[f"A{i}"]) * (cache[f"z{i - 1}"] > 0)
    return grads


def relative_error(g_a, g_n):
    return torch.linalg.norm(g_a - g_n) / max(torch.linalg.norm(g_a), torch.linalg.norm(g_n))


def numerical_gradient(f, x, h=1e-5):
    x = x.clone()
    grad = torch.zeros_like(x)
    f0 = float(f(x))
    for i in range(x.numel()):
        x.view(-1)[i] += h
        grad.view(-1)[i] = (float(f(x)) - f0) / h  # mistake: a forward difference
        x.view(-1)[i] -= h
    return grad


def sgd_step(params, grads, lr):
    return {k: p - lr * grads[k] for k, p in params.items()}


def minibatches(N, batch_size, drop_last=False):
    order = torch.randperm(N)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(N // batch_size)]  # mistake: last batch dropped


def l2_update(w, grad, lr, lam):
    return w - lr * (grad + lam * w)  # mistake: λ instead of 2λ


def l1_update(w, grad, lr, lam):
    return w - lr * (grad + lam * torch.sign(w))


def dropout(x, p, mask=None, training=True):
    if not training:
        return x
    if mask is None:
        mask = torch.rand_like(x) >= p
    return x * mask  # mistake: no rescaling by 1 / (1 − p)


def batch_norm_train(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / torch.sqrt(x.var(0) + eps) + beta  # mistake: x.var is the unbiased variance


def build_mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def train(model, X, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(8):
        for idx in torch.randperm(len(X)).split(64):
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    return model


q_dropout = "a"  # mistake: dropout does not speed up training
q_softmax_max = "c"
q_sigmoid_saturation = "a"
q_dropout_eval = "b"  # mistake: that is the non-inverted dropout
