"""a00_warmup: the sigmoid, ReLU and softmax with one known mistake each, and other correct styles."""
from tests.mutants import Mutant, Style

MUTANTS = [
    Mutant("sigmoid", "torch.exp(-x)", "torch.exp(x)", "the sign in the exponent is flipped"),
    Mutant("sigmoid", "return 1.0 / (1.0 + torch.exp(-x))", "return torch.tanh(x)", "tanh(x) instead of the sigmoid"),
    Mutant("sigmoid", "return 1.0 / (1.0 + torch.exp(-x))", "return 1.0 + torch.exp(-x)", "the reciprocal is missing"),
    Mutant("relu", "torch.clamp(x, min=0.0)", "torch.clamp(x, max=0.0)", "the negative part instead of the positive part"),
    Mutant("relu", "torch.clamp(x, min=0.0)", "torch.abs(x)", "negative inputs must become 0"),
    Mutant("relu", "torch.clamp(x, min=0.0)", "torch.where(x > 0, x, 0.01 * x)", "a leaky ReLU"),
    Mutant("softmax", "dim=dim", "dim=0", "a softmax over the wrong axis"),
    Mutant("softmax", """shifted = x - x.max(dim=dim, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)""", "shifted = x - x.max()\n    e = torch.exp(shifted)\n    return e / e.sum()",
           "normalised over all elements at once"),
    Mutant("softmax", "return e / e.sum(dim=dim, keepdim=True)", "return shifted - torch.log(e.sum(dim=dim, keepdim=True))",
           "the log-softmax"),
    Mutant("softmax", "return e / e.sum(dim=dim, keepdim=True)", "return torch.exp(x)", "the exponentials without dividing by their sum"),
    Mutant("softmax", "shifted = x - x.max(dim=dim, keepdim=True).values", "shifted = x", "NaN"),
    # the unstable variants the stability test must break, each named by the row it breaks
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values", "x.min(dim=dim, keepdim=True).values",
           "subtracting the minimum or the mean still overflows"),
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values", "x.mean(dim=dim, keepdim=True)",
           "subtracting the minimum or the mean still overflows"),
    Mutant("softmax", "x.max(dim=dim, keepdim=True).values", "x.max()", "not the maximum of the whole batch"),
    Mutant("softmax", """shifted = x - x.max(dim=dim, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)""",
           "return torch.exp(x - torch.log(torch.exp(x).sum(dim=dim, keepdim=True)))",
           "logits near +1000 (e^x overflows"),
    Mutant("sigmoid", "return 1.0 / (1.0 + torch.exp(-x))", "return torch.exp(x) / (1.0 + torch.exp(x))", "NaN"),
]

STYLES = [
    Style("numpy, float32 and loops", {
        "sigmoid": "import numpy as np\n\ndef sigmoid(x):\n    a = np.asarray(x, dtype=np.float32)\n    return 0.5 * (1 + np.tanh(0.5 * a))\n",
        "relu": "def relu(x):\n    out = x.clone()\n    flat = out.view(-1)\n    for i in range(flat.numel()):\n        if flat[i] < 0:\n            flat[i] = 0.0\n    return out\n",
        "softmax": "import torch\n\ndef softmax(x, dim=-1):\n    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))\n",
    }),
    Style("torch built-ins", {
        "sigmoid": "import torch\n\ndef sigmoid(x):\n    return torch.sigmoid(x)\n",
        "relu": "import torch\n\ndef relu(x):\n    return torch.relu(x)\n",
        "softmax": "import torch\n\ndef softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n",
    }),
    # CS231n's convention: numpy, the shift by the row maximum written with np.max, the sigmoid split by sign
    Style("numpy with the sign-split sigmoid", {
        "sigmoid": """import numpy as np

def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    z = np.exp(x[~pos])
    out[~pos] = z / (1.0 + z)
    return out
""",
        "relu": "import numpy as np\n\ndef relu(x):\n    x = np.asarray(x)\n    return x * (x > 0)\n",
        "softmax": """import numpy as np

def softmax(x, dim=-1):
    x = np.asarray(x)
    z = x - np.max(x, axis=dim, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=dim, keepdims=True)
""",
    }),
    # d2l's convention: torch, the softmax as exp of the log-softmax, the sigmoid through tanh
    Style("torch log-softmax and tanh", {
        "sigmoid": "import torch\n\ndef sigmoid(x):\n    return (torch.tanh(x / 2) + 1) / 2\n",
        "relu": "import torch\n\ndef relu(x):\n    return torch.maximum(x, torch.zeros_like(x))\n",
        "softmax": """import torch

def softmax(x, dim=-1):
    m = torch.amax(x, dim=dim, keepdim=True)
    log_p = x - m - torch.log(torch.sum(torch.exp(x - m), dim=dim, keepdim=True))
    return log_p.exp()
""",
    }),
    # float32 throughout, loops over the rows (a student who moves the axis to the end first)
    Style("float32 loops over rows", {
        "sigmoid": "import torch\n\ndef sigmoid(x):\n    return torch.special.expit(x.float())\n",
        "relu": "import torch\n\ndef relu(x):\n    return torch.where(x > 0, x, 0.0).float()\n",
        "softmax": """import torch

def softmax(x, dim=-1):
    moved = x.float().movedim(dim, -1)
    out = torch.empty_like(moved)
    flat_in, flat_out = moved.reshape(-1, moved.shape[-1]), out.view(-1, moved.shape[-1])
    for i in range(flat_in.shape[0]):
        row = flat_in[i]
        e = torch.exp(row - row.max())
        flat_out[i] = e / e.sum()
    return out.movedim(-1, dim)
""",
    }),
]
