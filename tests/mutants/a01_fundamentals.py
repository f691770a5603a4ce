"""a01_fundamentals: the solution with one known mistake each, and other correct styles (numpy, float32, loops,
torch built-ins)."""
from tests.mutants import Mutant, Shortcut, Style

MUTANTS = [
    # ---------------------------------------------------------------- 1. activation derivatives
    Mutant("activation_grads", "    return s * (1 - s)\n", "    return s\n", "σ(x) itself, not its derivative"),
    Mutant("activation_grads", "    return s * (1 - s)\n", "    return s * (1 + s)\n", "σ(x)(1 + σ(x))"),
    Mutant("activation_grads", "    return s * (1 - s)\n", "    return x * (1 - x)\n", "x(1 − x): the formula σ(1 − σ) applied to x"),
    Mutant("activation_grads", "    s = torch.sigmoid(x)\n", "    s = torch.exp(x) / (1 + torch.exp(x))\n", "NaN"),
    Mutant("activation_grads", "return 1 - torch.tanh(x) ** 2", "return 1 - x ** 2", "1 − x²: the formula applied to x"),
    Mutant("activation_grads", "return 1 - torch.tanh(x) ** 2", "return 1 + torch.tanh(x) ** 2", "1 + tanh²(x)"),
    Mutant("activation_grads", "return 1 - torch.tanh(x) ** 2", "return 1 - torch.tanh(x)", "1 − tanh(x): the square is missing"),
    Mutant("activation_grads", "return 1 - torch.tanh(x) ** 2", "return torch.tanh(x)", "tanh(x) itself, not its derivative"),
    Mutant("activation_grads", "return (x > 0).to(x.dtype)", "return torch.clamp(x, min=0.0)", "the ReLU max(0, x) itself"),
    Mutant("activation_grads", "return (x > 0).to(x.dtype)", "return (x < 0).to(x.dtype)", "the comparison is the wrong way round"),
    Mutant("activation_grads", "return (x > 0).to(x.dtype)", "return torch.sign(x)", "sign(x): the derivative is 0, not −1"),
    Mutant("activation_grads", "return (x > 0).to(x.dtype)", "return x > 0", "dtype bool"),
    Mutant("activation_grads", "alpha * torch.exp(torch.clamp(x, max=0.0))", "torch.exp(torch.clamp(x, max=0.0))",
           "e^x without the factor α"),
    Mutant("activation_grads", "alpha * torch.exp(torch.clamp(x, max=0.0))", "alpha * torch.expm1(torch.clamp(x, max=0.0))",
           "α(e^x − 1) for x ≤ 0: that is the ELU itself"),
    Mutant("activation_grads", "alpha * torch.exp(torch.clamp(x, max=0.0))", "torch.zeros_like(x)", "0 for x ≤ 0: that is the ReLU's derivative"),
    Mutant("activation_grads", "torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0.0)))",
           "torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0.0)))", "the ELU itself, not its derivative"),
    # ---------------------------------------------------------------- 2. softmax
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values)\n    return e / e.sum(dim=dim, keepdim=True)",
           "x.max(dim=0, keepdim=True).values)\n    return e / e.sum(dim=0, keepdim=True)", "a softmax over the wrong axis"),
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values)\n    return e / e.sum(dim=dim, keepdim=True)",
           "x.max())\n    return e / e.sum()", "normalised over all elements at once"),
    Mutant("softmax", "    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)\n    return e / e.sum(dim=dim, keepdim=True)",
           "    m = x - x.max(dim=dim, keepdim=True).values\n    return m - torch.log(torch.exp(m).sum(dim=dim, keepdim=True))",
           "the log-softmax"),
    Mutant("softmax", "return e / e.sum(dim=dim, keepdim=True)", "return torch.exp(x)", "the exponentials without dividing by their sum"),
    Mutant("softmax", "torch.exp(x - x.max(dim=dim, keepdim=True).values)", "torch.exp(x)", "NaN"),
    # the unstable variants the stability test must break, each named by the slice it breaks
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values", "x.min(dim=dim, keepdim=True).values",
           "subtracting the minimum or the mean still overflows"),
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values", "x.max()", "not the maximum of the whole batch"),
    Mutant("softmax", "    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)\n    return e / e.sum(dim=dim, keepdim=True)",
           "    return torch.exp(x - torch.log(torch.exp(x).sum(dim=dim, keepdim=True)))",
           "logits near +1000 (e^x overflows"),
    Mutant("softmax", "return torch.diag(s) - torch.outer(s, s)", "return torch.diag(s)", "diag(s) only"),
    Mutant("softmax", "return torch.diag(s) - torch.outer(s, s)", "return torch.diag(s * (1 - s))", "diag(s(1 − s)): only the diagonal"),
    Mutant("softmax", "return torch.diag(s) - torch.outer(s, s)", "return torch.outer(s, s) - torch.diag(s)", "s sᵀ − diag(s): the sign is flipped"),
    Mutant("softmax", "return torch.diag(s) - torch.outer(s, s)", "return -torch.outer(s, s)", "− s sᵀ only"),
    # ---------------------------------------------------------------- 3. cross-entropy
    Mutant("cross_entropy", "    shifted = logits - logits.max(dim=1, keepdim=True).values\n    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))",
           "    shifted = logits - logits.max(dim=0, keepdim=True).values\n    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=0, keepdim=True))",
           "the log-softmax over the wrong axis"),
    Mutant("cross_entropy", "return -log_probs[torch.arange(len(y)), y].mean()", "return -log_probs[torch.arange(len(y)), y].sum()",
           "the sum over the batch instead of the mean"),
    Mutant("cross_entropy", "return -log_probs[torch.arange(len(y)), y].mean()", "return log_probs[torch.arange(len(y)), y].mean()",
           "the minus sign missing"),
    Mutant("cross_entropy", "return -log_probs[torch.arange(len(y)), y].mean()",
           "return -(F.one_hot(y, logits.shape[1]) * log_probs).mean()", "the mean over all N·K entries"),
    Mutant("cross_entropy", "return -log_probs[torch.arange(len(y)), y].mean()", "return -logits[torch.arange(len(y)), y].mean()",
           "the logits used as log-probabilities"),
    Mutant("cross_entropy", "    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))",
           "    log_probs = torch.log(torch.exp(shifted) / torch.exp(shifted).sum(dim=1, keepdim=True))", "infinite"),
    # ---------------------------------------------------------------- 4. forward
    Mutant("mlp_forward", 'z = x @ params[f"A{i}"].T + params[f"b{i}"]', 'z = x @ params[f"A{i}"].T', "the bias b_i left out"),
    Mutant("mlp_forward", "else torch.clamp(z, min=0.0)", "else z", "no ReLU on the hidden layers"),
    Mutant("mlp_forward", "else torch.clamp(z, min=0.0)", "else torch.sigmoid(z)", "a sigmoid instead of the ReLU"),
    Mutant("mlp_forward", "softmax(z, dim=-1) if i == 3", "softmax(z, dim=0) if i == 3", "the final softmax over the wrong axis"),
    Mutant("mlp_forward", "softmax(z, dim=-1) if i == 3", "z if i == 3", "the logits z_3 returned instead of the probabilities"),
    Mutant("mlp_forward", 'z = x @ params[f"A{i}"].T + params[f"b{i}"]', 'z = x @ params[f"A{i}"] + params[f"b{i}"]',
           "X A_i instead of X A_iᵀ: the weights are transposed"),
    Mutant("mlp_forward", 'cache[f"z{i}"], cache[f"x{i}"] = z, x', 'cache[f"z{i}"], cache[f"x{i}"] = x, z', "stored as"),
    Mutant("mlp_forward", '    cache = {"x0": X}\n', "    cache = {}\n", "the cache has no entry x0"),
    Mutant("mlp_forward", "    return x, cache\n", "    return x\n", "should return a pair (probs, cache)"),
    # ---------------------------------------------------------------- 5. backward
    Mutant("mlp_backward", "F.one_hot(y, k).to(x3.dtype)) / n", "F.one_hot(y, k).to(x3.dtype))", "the gradient of the summed loss"),
    Mutant("mlp_backward", '            dz = dx * (cache[f"z{i - 1}"] > 0).to(dx.dtype)', "            dz = dx",
           "the ReLU derivative σ'(z_i) left out"),
    Mutant("mlp_backward", "dz = (x3 - F.one_hot(y, k).to(x3.dtype)) / n", "dz = (F.one_hot(y, k).to(x3.dtype) - x3) / n",
           "the sign of ∂l/∂z_3 flipped"),
    Mutant("mlp_backward", 'grads[f"b{i}"] = dz.sum(dim=0)', 'grads[f"b{i}"] = dz.mean(dim=0)', "∂l/∂b_i averaged over the batch"),
    Mutant("mlp_backward", "dz = (x3 - F.one_hot(y, k).to(x3.dtype)) / n",
           "dz = -F.one_hot(y, k).to(x3.dtype) / x3 / n * x3 * (1 - x3)", "the slide's σ'_3(z_3) ⊙ l'(x_3)"),
    Mutant("mlp_backward", 'grads[f"A{i}"] = dz.T @ cache[f"x{i - 1}"]', 'grads[f"A{i}"] = cache[f"x{i - 1}"].T @ dz',
           "∂l/∂A_i transposed"),
    Mutant("mlp_backward", 'dx = dz @ params[f"A{i}"]', 'dx = dz @ params[f"A{i}"].T', "back-propagated with A_iᵀ"),
    Mutant("mlp_backward", "    return grads\n", "    return {k: v for k, v in grads.items() if k != 'b1'}\n", "no entry b1"),
    # ---------------------------------------------------------------- 6. gradient check
    Mutant("grad_check", "return torch.linalg.norm(g_a - g_n) / denom", "return torch.linalg.norm(g_a - g_n)",
           "the absolute error ‖g_a − g_n‖, not divided"),
    Mutant("grad_check", "denom = max(torch.linalg.norm(g_a), torch.linalg.norm(g_n))",
           "denom = torch.linalg.norm(g_a) + torch.linalg.norm(g_n)", "‖g_a − g_n‖ / (‖g_a‖ + ‖g_n‖)"),
    Mutant("grad_check", "denom = max(torch.linalg.norm(g_a), torch.linalg.norm(g_n))",
           "denom = min(torch.linalg.norm(g_a), torch.linalg.norm(g_n))", "divided by the smaller of the two norms"),
    Mutant("grad_check", "return torch.linalg.norm(g_a - g_n) / denom", "return torch.linalg.norm(g_a - g_n) ** 2 / denom ** 2",
           "squared norms"),
    Mutant("grad_check", "denom = max(torch.linalg.norm(g_a), torch.linalg.norm(g_n))", "denom = torch.linalg.norm(g_a)",
           "divided by the smaller of the two norms"),
    Mutant("grad_check", "    if denom == 0:\n        return 0.0\n", "", "NaN"),
    Mutant("grad_check", "        flat[i] = old - h\n        f_minus = float(f(x))\n        flat[i] = old\n        gflat[i] = (f_plus - f_minus) / (2 * h)",
           "        flat[i] = old\n        f_minus = float(f(x))\n        gflat[i] = (f_plus - f_minus) / h", "a forward difference"),
    Mutant("grad_check", "gflat[i] = (f_plus - f_minus) / (2 * h)", "gflat[i] = (f_plus - f_minus) / h", "divided by h instead of 2h"),
    Mutant("grad_check", "        flat[i] = old\n", "", "x_i not restored after perturbing it"),
    Mutant("grad_check", "        flat[i] = old + h\n        f_plus = float(f(x))\n        flat[i] = old - h\n        f_minus = float(f(x))\n        flat[i] = old\n",
           "        f_plus = float(f(x + h))\n        f_minus = float(f(x - h))\n", "every coordinate perturbed at once"),
    # ---------------------------------------------------------------- 7. SGD and mini-batches
    Mutant("sgd", "p - lr * grads[name]", "p + lr * grads[name]", "gradient ascent"),
    Mutant("sgd", "p - lr * grads[name]", "p - grads[name]", "the learning rate left out"),
    Mutant("sgd", "p - lr * grads[name]", "-lr * grads[name]", "the step −λ∇l returned"),
    Mutant("sgd", "    return {name: p - lr * grads[name] for name, p in params.items()}",
           "    for name in params:\n        params[name] -= lr * grads[name]\n    return params", "in place"),
    Mutant("sgd", "stop = (N // batch_size) * batch_size if drop_last else N", "stop = (N // batch_size) * batch_size",
           "the last, smaller batch"),
    Mutant("sgd", "stop = (N // batch_size) * batch_size if drop_last else N", "stop = N", "with drop_last=True the"),
    Mutant("sgd", "order = torch.randperm(N)", "order = torch.randint(0, N, (N,))", "some samples appear twice"),
    Mutant("sgd", "order = torch.randperm(N)", "order = torch.arange(N)", "in the order 0, 1, 2"),
    Mutant("sgd", "order = torch.randperm(N)", "order = torch.randperm(N, generator=torch.Generator().manual_seed(0))",
           "two epochs gave the same order"),
    Mutant("sgd", "for start in range(0, stop, batch_size)]", "for start in range(0, (stop // batch_size + 1) * batch_size, batch_size)]",
           "empty batch"),
    # ---------------------------------------------------------------- 8. L2 and L1
    Mutant("regularization", "return w - lr * (grad + 2 * lam * w)", "return w - lr * (grad + lam * w)", "λw instead of 2λw"),
    Mutant("regularization", "return w - lr * (grad + 2 * lam * w)", "return w - lr * (grad - 2 * lam * w)",
           "regularised with the wrong sign: the penalty pulls"),
    Mutant("regularization", "return w - lr * (grad + 2 * lam * w)", "return w - lr * grad - 2 * lam * w",
           "the penalty term not multiplied by η"),
    Mutant("regularization", "return w - lr * (grad + 2 * lam * w)", "return w - lr * grad", "no regularisation"),
    Mutant("regularization", "return w - lr * (grad + lam * torch.sign(w))", "return w - lr * (grad + lam * w)",
           "λw instead of λ·sign(w)"),
    Mutant("regularization", "return w - lr * (grad + lam * torch.sign(w))", "return w - lr * (grad - lam * torch.sign(w))",
           "regularised with the wrong sign: w − η(∂L/∂w + λ sign(w))"),
    Mutant("regularization", "return w - lr * (grad + lam * torch.sign(w))", "return w - lr * (grad + 2 * lam * torch.sign(w))",
           "2λ·sign(w)"),
    Mutant("regularization", "return w - lr * (grad + lam * torch.sign(w))", "return w - lr * (grad + lam * torch.abs(w))",
           "λ|w| instead of λ·sign(w)"),
    Mutant("regularization", "torch.sign(w)", "(w / torch.abs(w))", "NaN"),
    # ---------------------------------------------------------------- 9. dropout
    Mutant("dropout", "return x * mask / (1 - p)", "return x * mask", "dropout without rescaling"),
    Mutant("dropout", "return x * mask / (1 - p)", "return x * mask / p", "divided by p instead of 1 − p"),
    Mutant("dropout", "return x * mask / (1 - p)", "return x * mask * (1 - p)", "multiplied by 1 − p instead of divided"),
    Mutant("dropout", "return x * mask / (1 - p)", "return x * (1 - 1.0 * mask) / (1 - p)", "the mask inverted"),
    Mutant("dropout", "    if not training:\n        return x\n", "", "dropout applied at evaluation"),
    Mutant("dropout", "    if not training:\n        return x\n", "    if not training and mask is not None:\n        return x * mask\n",
           "the mask applied at evaluation without rescaling"),
    Mutant("dropout", "    if not training:\n        return x\n", "    if not training:\n        return x * (1 - p)\n",
           "x multiplied by 1 − p at evaluation"),
    Mutant("dropout", "    if not training:\n        return x\n", "    if not training:\n        return x / (1 - p)\n",
           "x divided by 1 − p at evaluation"),
    Mutant("dropout", "mask = torch.rand_like(x) >= p", "mask = torch.rand_like(x) < p", "with probability p instead of 1 − p"),
    Mutant("dropout", "mask = torch.rand_like(x) >= p", "mask = torch.ones_like(x)", "dropped no unit at all"),
    Mutant("dropout", "mask = torch.rand_like(x) >= p", "mask = torch.rand_like(x) >= p / 2", "should be dropped"),
    # ---------------------------------------------------------------- 10. batch norm
    Mutant("batch_norm", "var = ((x - mean) ** 2).mean(dim=0)", "var = x.var(dim=0)", "the unbiased variance"),
    Mutant("batch_norm", "    mean = x.mean(dim=0)\n    var = ((x - mean) ** 2).mean(dim=0)",
           "    mean = x.mean(dim=1, keepdim=True)\n    var = ((x - mean) ** 2).mean(dim=1, keepdim=True)",
           "normalised over the wrong axis"),
    Mutant("batch_norm", "torch.sqrt(var + eps)", "(torch.sqrt(var) + eps)", "ε outside the square root"),
    Mutant("batch_norm", "return gamma * (x - mean) / torch.sqrt(var + eps) + beta", "return beta * (x - mean) / torch.sqrt(var + eps) + gamma",
           "γ and β swapped"),
    Mutant("batch_norm", "return gamma * (x - mean) / torch.sqrt(var + eps) + beta", "return (x - mean) / torch.sqrt(var + eps)",
           "x̄ returned without the scale γ and shift β"),
    Mutant("batch_norm", "torch.sqrt(var + eps)", "torch.sqrt(var)", "NaN"),
    # ---------------------------------------------------------------- 11. MNIST
    Mutant("mnist_mlp", "return self.net(x.reshape(len(x), -1))", "return self.net(torch.zeros_like(x).reshape(len(x), -1))",
           "for every test image"),
    Mutant("mnist_mlp", "            opt.step()\n", "", "no update was applied. Is optimizer.step() called"),
    # under-trained but complete (all three calls): the measurement, never a missing optimizer.step()
    Mutant("mnist_mlp", "max_lr=3e-3", "max_lr=1e-7", "although the weights changed", names_no_mistake=True),
    Mutant("mnist_mlp", "loss = F.cross_entropy(model(X[idx]), y[idx])",
           "loss = F.cross_entropy(model(X[idx]), y[idx][torch.randperm(len(idx))])", "although the weights changed"),
    Mutant("mnist_mlp", "nn.Linear(64, 10))", "nn.Linear(64, 10), nn.Softmax(dim=1), nn.Linear(10, 5))", "logits of shape (3, 10)"),
    Mutant("mnist_mlp", "    return MLP()\n", "    return MLP\n", "should return a torch.nn.Module"),
    Mutant("mnist_mlp", "epochs, batch_size = 5, 64", "epochs, batch_size = 1, 2000", "is below the required 0.90",
           names_no_mistake=True),
    # ---------------------------------------------------------------- 12. concepts
    Mutant("concepts", 'q_dropout = "b"', 'q_dropout = "a"', "does not speed up training"),
    Mutant("concepts", 'q_softmax_max = "c"', 'q_softmax_max = "b"', "the probabilities do not change"),
    Mutant("concepts", 'q_sigmoid_saturation = "a"', 'q_sigmoid_saturation = "b"', "largest at x = 0"),
    Mutant("concepts", 'q_dropout_eval = "d"', 'q_dropout_eval = "b"', "original (non-inverted) dropout"),
    Mutant("concepts", 'q_dropout_eval = "d"', 'q_dropout_eval = "e"', "is not one of the options"),
]

STYLES = [
    Style("numpy, loops and float32 where it is safe", {
        "activation_grads": '''import numpy as np

def sigmoid_grad(x):
    a = np.asarray(x, dtype=np.float64)
    s = 0.5 * (1 + np.tanh(0.5 * a))
    return s * (1 - s)

def tanh_grad(x):
    return (1 / np.cosh(np.clip(np.asarray(x), -300, 300)) ** 2).astype(np.float32)

def relu_grad(x):
    a = np.asarray(x)
    return np.where(a > 0, 1.0, 0.0)

def elu_grad(x, alpha=1.0):
    a = np.asarray(x)
    return np.where(a > 0, 1.0, alpha * np.exp(np.minimum(a, 0.0)))
''',
        "softmax": '''import numpy as np

def softmax(x, dim=-1):
    a = np.asarray(x)
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)

def softmax_jacobian(s):
    s = np.asarray(s)
    K = len(s)
    J = np.zeros((K, K))
    for k in range(K):
        for j in range(K):
            J[k, j] = s[k] * ((1.0 if k == j else 0.0) - s[j])
    return J
''',
        "cross_entropy": '''import numpy as np

def cross_entropy(logits, y):
    z = np.asarray(logits)
    y = np.asarray(y)
    total = 0.0
    for n in range(len(y)):
        m = z[n].max()
        total += -(z[n, y[n]] - m - np.log(np.exp(z[n] - m).sum()))
    return total / len(y)
''',
        "mlp_forward": '''import numpy as np

def mlp3_forward(X, params):
    P = {k: np.asarray(v) for k, v in params.items()}
    x0 = np.asarray(X)
    z1 = x0 @ P["A1"].T + P["b1"]
    x1 = np.maximum(z1, 0)
    z2 = x1 @ P["A2"].T + P["b2"]
    x2 = np.maximum(z2, 0)
    z3 = x2 @ P["A3"].T + P["b3"]
    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
    x3 = e / e.sum(axis=1, keepdims=True)
    return x3, dict(x0=x0, z1=z1, x1=x1, z2=z2, x2=x2, z3=z3, x3=x3)
''',
        "mlp_backward": '''import numpy as np

def mlp3_backward(cache, params, y):
    c = {k: np.asarray(v) for k, v in cache.items()}
    y = np.asarray(y)
    n, k = c["x3"].shape
    Y = np.zeros((n, k))
    Y[np.arange(n), y] = 1.0
    d3 = (c["x3"] - Y) / n
    d2 = (d3 @ np.asarray(params["A3"])) * (c["z2"] > 0)
    d1 = (d2 @ np.asarray(params["A2"])) * (c["z1"] > 0)
    return {"A3": d3.T @ c["x2"], "b3": d3.sum(0), "A2": d2.T @ c["x1"], "b2": d2.sum(0),
            "A1": d1.T @ c["x0"], "b1": d1.sum(0)}
''',
        "grad_check": '''import numpy as np

def relative_error(g_a, g_n):
    a, b = np.asarray(g_a).ravel(), np.asarray(g_n).ravel()
    den = max(np.sqrt((a ** 2).sum()), np.sqrt((b ** 2).sum()))
    return 0.0 if den == 0 else float(np.sqrt(((a - b) ** 2).sum()) / den)

def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad
''',
        "sgd": '''import numpy as np

def sgd_step(params, grads, lr):
    new = {}
    for name in params:
        new[name] = np.asarray(params[name]) - lr * np.asarray(grads[name])
    return new

def minibatches(N, batch_size, drop_last=False):
    order = np.random.permutation(N)
    n_batches = N // batch_size if drop_last else (N + batch_size - 1) // batch_size
    for i in range(n_batches):
        yield order[i * batch_size:(i + 1) * batch_size]
''',
        "regularization": '''import numpy as np

def l2_update(w, grad, lr, lam):
    w = np.asarray(w)
    return w - lr * (np.asarray(grad) + 2 * lam * w)

def l1_update(w, grad, lr, lam):
    w = np.asarray(w)
    return w - lr * (np.asarray(grad) + lam * np.sign(w))
''',
        "dropout": '''import numpy as np

def dropout(x, p, mask=None, training=True):
    x = np.asarray(x)
    if not training:
        return x
    if mask is None:
        mask = np.random.uniform(size=x.shape) > p
    return np.where(np.asarray(mask) > 0, x / (1 - p), 0.0)
''',
        "batch_norm": '''import numpy as np

def batch_norm_train(x, gamma, beta, eps=1e-5):
    x = np.asarray(x)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    return np.asarray(gamma) * (x - mu) / np.sqrt(var + eps) + np.asarray(beta)
''',
        "mnist_mlp": '''import torch
import torch.nn as nn
import torch.nn.functional as F

def build_mlp():
    return nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))

def train(model, X, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(8):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 50):
            idx = perm[i:i + 50]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
''',
        "concepts": 'q_dropout = "B"\nq_softmax_max = " c "\nq_sigmoid_saturation = "(a)"\nq_dropout_eval = "d"\n',
    }),
    Style("torch built-ins and float32", {
        "activation_grads": '''import torch

def sigmoid_grad(x):
    xr = x.detach().clone().requires_grad_(True)
    torch.sigmoid(xr).sum().backward()
    return xr.grad

def tanh_grad(x):
    return 1 - torch.tanh(x) ** 2

def relu_grad(x):
    return torch.heaviside(x, torch.zeros((), dtype=x.dtype))

def elu_grad(x, alpha=1.0):
    xr = x.detach().clone().requires_grad_(True)
    torch.nn.functional.elu(xr, alpha=alpha).sum().backward()
    return xr.grad
''',
        "softmax": '''import torch

def softmax(x, dim=-1):
    return torch.softmax(x.float(), dim=dim)

def softmax_jacobian(s):
    return torch.diag_embed(s) - s[:, None] * s[None, :]
''',
        "cross_entropy": '''import torch

def cross_entropy(logits, y):
    return (torch.logsumexp(logits, dim=1) - logits.gather(1, y.long()[:, None]).squeeze(1)).mean()
''',
        "mlp_forward": '''import torch

def mlp3_forward(X, params):
    z1 = torch.nn.functional.linear(X, params["A1"], params["b1"])
    x1 = torch.relu(z1)
    z2 = torch.nn.functional.linear(x1, params["A2"], params["b2"])
    x2 = torch.relu(z2)
    z3 = torch.nn.functional.linear(x2, params["A3"], params["b3"])
    x3 = torch.softmax(z3, dim=1)
    return x3, {"x0": X, "z1": z1, "x1": x1, "z2": z2, "x2": x2, "z3": z3, "x3": x3}
''',
        "mlp_backward": '''import torch

def mlp3_backward(cache, params, y):
    n = len(y)
    delta = cache["x3"].clone()
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    grads = {}
    for i in (3, 2, 1):
        grads["A%d" % i] = torch.einsum("nk,nl->kl", delta, cache["x%d" % (i - 1)])
        grads["b%d" % i] = delta.sum(0)
        if i > 1:
            delta = (delta @ params["A%d" % i]) * torch.relu(torch.sign(cache["z%d" % (i - 1)]))
    return grads
''',
        "grad_check": '''import torch

def relative_error(g_a, g_n):
    den = torch.maximum(g_a.norm(), g_n.norm())
    return torch.where(den > 0, (g_a - g_n).norm() / den.clamp_min(1e-300), torch.zeros(()))

def numerical_gradient(f, x, h=1e-5):
    grad = torch.empty_like(x)
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=x.dtype)
        e[i] = h
        e = e.view(x.shape)
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad
''',
        "sgd": '''import torch

def sgd_step(params, grads, lr):
    return {k: torch.add(v, grads[k], alpha=-lr) for k, v in params.items()}

def minibatches(N, batch_size, drop_last=False):
    batches = list(torch.randperm(N).split(batch_size))
    if drop_last and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    return batches
''',
        "regularization": '''import torch

def l2_update(w, grad, lr, lam):
    return (w - lr * (grad + 2 * lam * w)).float()

def l1_update(w, grad, lr, lam):
    return torch.addcmul(w - lr * grad, torch.sign(w), torch.ones_like(w), value=-lr * lam)
''',
        "dropout": '''import torch

def dropout(x, p, mask=None, training=True):
    if not training or p == 0:
        return x
    if mask is None:
        mask = torch.bernoulli(torch.full_like(x, 1 - p))
    return x * mask.to(x.dtype) / (1 - p)
''',
        "batch_norm": '''import torch

def batch_norm_train(x, gamma, beta, eps=1e-5):
    return torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
''',
        "mnist_mlp": '''import torch
import torch.nn as nn
import torch.nn.functional as F

def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))

def train(model, X, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True)
    model.train()
    for epoch in range(6):
        for xb, yb in data:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model
''',
        "concepts": 'q_dropout = "b"\nq_softmax_max = "c"\nq_sigmoid_saturation = "a"\nq_dropout_eval = "d"\n',
    }),
]


# CS231n's layer-by-layer conventions: each affine and ReLU written out with its own cache, the softmax loss's
# gradient (probs - onehot) / N, batch norm through x̂, dropout's mask scaled when drawn, the numerical gradient
# with np.nditer over a numpy copy
CS231N_LAYERS = {
    "mlp_forward": '''import torch

def mlp3_forward(X, params):
    z1 = X.mm(params["A1"].t()) + params["b1"]
    x1 = z1 * (z1 > 0)
    z2 = x1.mm(params["A2"].t()) + params["b2"]
    x2 = z2 * (z2 > 0)
    z3 = x2.mm(params["A3"].t()) + params["b3"]
    shifted = z3 - z3.max(dim=1, keepdim=True).values
    x3 = torch.exp(shifted - torch.logsumexp(shifted, dim=1, keepdim=True))
    return x3, {"x0": X, "z1": z1, "x1": x1, "z2": z2, "x2": x2, "z3": z3, "x3": x3}
''',
    "mlp_backward": '''import torch

def mlp3_backward(cache, params, y):
    probs = cache["x3"]
    N = probs.shape[0]
    dz3 = probs.clone()
    dz3[torch.arange(N), y] -= 1
    dz3 /= N
    dx2 = dz3.mm(params["A3"])
    dz2 = dx2.clone()
    dz2[cache["z2"] <= 0] = 0
    dx1 = dz2.mm(params["A2"])
    dz1 = dx1.clone()
    dz1[cache["z1"] <= 0] = 0
    return {"A3": dz3.t().mm(cache["x2"]), "b3": dz3.sum(0),
            "A2": dz2.t().mm(cache["x1"]), "b2": dz2.sum(0),
            "A1": dz1.t().mm(cache["x0"]), "b1": dz1.sum(0)}
''',
    "grad_check": '''import numpy as np

def relative_error(g_a, g_n):
    a, b = np.asarray(g_a, dtype=np.float64), np.asarray(g_n, dtype=np.float64)
    num = np.sqrt(np.sum((a - b) ** 2))
    den = max(np.sqrt(np.sum(a ** 2)), np.sqrt(np.sum(b ** 2)))
    return 0.0 if den == 0 else float(num / den)

def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad
''',
    "regularization": '''import torch

def l2_update(w, grad, lr, lam):
    return (1 - 2 * lr * lam) * w - lr * grad

def l1_update(w, grad, lr, lam):
    return w - lr * grad - lr * lam * torch.sign(w)
''',
    "dropout": '''import torch

def dropout(x, p, mask=None, training=True):
    if not training:
        return x
    keep = 1.0 - p
    if mask is None:
        mask = torch.rand(x.shape, device=x.device) < keep
    return x * (mask.to(x.dtype) / keep)
''',
    "batch_norm": '''import torch

def batch_norm_train(x, gamma, beta, eps=1e-5):
    mu = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    x_hat = (x - mu) * torch.rsqrt(var + eps)
    return gamma * x_hat + beta
''',
}

# d2l's conventions: softmax as exp / sum with keepdim after a max shift (d2l adds the shift), cross-entropy by
# picking log-probabilities with gather, SGD updating copies in place, mini-batches from a shuffled index list
D2L_BASICS = {
    "softmax": '''import torch

def softmax(x, dim=-1):
    X_exp = torch.exp(x - torch.amax(x, dim=dim, keepdim=True))
    partition = X_exp.sum(dim, keepdim=True)
    return X_exp / partition

def softmax_jacobian(s):
    return torch.diag(s) - s.unsqueeze(1) @ s.unsqueeze(0)
''',
    "cross_entropy": '''import torch

def cross_entropy(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    log_probs = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    return -log_probs.gather(1, y.reshape(-1, 1).long()).mean()
''',
    "sgd": '''import random
import torch

def sgd_step(params, grads, lr):
    new = {}
    for name, param in params.items():
        p = param.clone()
        p -= lr * grads[name]
        new[name] = p
    return new

def minibatches(N, batch_size, drop_last=False):
    indices = list(range(N))
    random.shuffle(indices)
    batches = []
    for i in range(0, N, batch_size):
        batch = indices[i:min(i + batch_size, N)]
        if drop_last and len(batch) < batch_size:
            break
        batches.append(torch.tensor(batch, dtype=torch.int64))
    return batches
''',
}

# float32 arithmetic where its precision is enough: the activation derivatives by other formulas
FLOAT32_ACTIVATIONS = {
    "activation_grads": '''import torch

def sigmoid_grad(x):
    e = torch.exp(-x.abs().float())  # e^{-|x|} never overflows; σ(x)(1 − σ(x)) = e^{-|x|} / (1 + e^{-|x|})²
    return e / (1 + e) ** 2

def tanh_grad(x):
    return 1 / torch.cosh(x.float().clamp(-40, 40)) ** 2

def relu_grad(x):
    return torch.where(x > 0, 1.0, 0.0).float()

def elu_grad(x, alpha=1.0):
    x = x.float()
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.minimum(x, torch.zeros_like(x))))
''',
}

STYLES += [
    Style("CS231n layers: explicit caches, (probs − onehot)/N, x̂ batch norm, np.nditer gradient check", CS231N_LAYERS),
    Style("d2l basics: softmax by partition, gather cross-entropy, in-place SGD on copies, list mini-batches", D2L_BASICS),
    Style("float32 activation derivatives by other formulas", FLOAT32_ACTIVATIONS),
]


# The library calls course.yaml forbids, each used instead of the student's work (tests/test_shortcuts.py).
SHORTCUTS = [
    Shortcut('cross_entropy', {
        'cross_entropy': """
            import torch.nn.functional as F
            def cross_entropy(logits, y):
                return F.cross_entropy(logits, y)
            """,
    }, 'torch.nn.functional.cross_entropy'),
    Shortcut('mlp_backward', {
        'mlp_backward': """
            import torch
            def mlp3_backward(cache, params, y):
                p = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
                x = cache["x0"]
                for i in (1, 2):
                    x = torch.relu(x @ p[f"A{i}"].T + p[f"b{i}"])
                loss = torch.nn.functional.cross_entropy(x @ p["A3"].T + p["b3"], y)
                names = list(p)
                return dict(zip(names, torch.autograd.grad(loss, [p[k] for k in names])))
            """,
    }, 'torch.autograd.grad'),
]
