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
]
