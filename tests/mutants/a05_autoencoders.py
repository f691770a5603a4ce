"""a05_autoencoders: one mutant per named mistake (and per cheat the harness must reject), and other correct styles."""
from tests.mutants import Mutant, Style

_ENCODE_DECODE = '''        return self.encoder(x)
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) → (N, input_dim), values in [0, 1]"""
        ### BEGIN SOLUTION
        return self.decoder(z)'''

# cheat: encode stores its input, decode returns the stored input whatever code it is given
_STASH = '''        self._stash = x
        return self.encoder(x)
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) → (N, input_dim), values in [0, 1]"""
        ### BEGIN SOLUTION
        out = self.decoder(z)
        return out if self.training else self._stash + 0 * out.sum()'''

# cheat: memorise the training batches, then "encode" a test image as the index of its nearest training image
_MEMORISE = '''        if self.training:
            self.memory = torch.cat([getattr(self, "memory", x[:0]).detach(), x.detach()])[-4000:]
            return self.encoder(x)
        z = torch.zeros(len(x), self.encoder[0].out_features, dtype=x.dtype, device=x.device)
        z[:, 0] = torch.cdist(x, self.memory).argmin(dim=1).to(x.dtype)
        return z
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) → (N, input_dim), values in [0, 1]"""
        ### BEGIN SOLUTION
        if self.training:
            return self.decoder(z)
        return self.memory[z[:, 0].long()]'''

_LOOP = '''    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
    model.train()
    losses = []
    start = time.perf_counter()
    for step in range(steps):'''

MUTANTS = [
    # 1. undercomplete: the model and the cheats
    Mutant("autoencoder", "self.encoder = nn.Sequential(nn.Linear(input_dim, code_dim), act)\n        "
           "self.decoder = nn.Sequential(nn.Linear(code_dim, input_dim), nn.Sigmoid())",
           "self.encoder = nn.Sequential(nn.Linear(input_dim, input_dim), act)\n        "
           "self.decoder = nn.Sequential(nn.Linear(input_dim, input_dim), nn.Sigmoid())", "the bottleneck of code_dim"),
    Mutant("autoencoder", _ENCODE_DECODE, _STASH, "decode(z) must depend only on the code"),
    Mutant("autoencoder", _ENCODE_DECODE, _MEMORISE, "copies of training images"),
    Mutant("autoencoder", "return self.encoder(x)", "return self.encoder(x * 0)", "barely depend on the input"),
    Mutant("autoencoder", "nn.Linear(code_dim, input_dim), nn.Sigmoid())", "nn.Linear(code_dim, input_dim))",
           "end the decoder with a sigmoid"),
    Mutant("train", "        opt.step()\n", "", "is the model trained"),
    Mutant("train", _LOOP, _LOOP.replace("total_steps=steps", "total_steps=2 * steps").replace("range(steps)", "range(2 * steps)"),
           "more than the budget"),
    # 2. denoising
    Mutant("train", "loss = F.binary_cross_entropy(out, batch)", "loss = F.binary_cross_entropy(out, inputs)",
           "compares the output with the noisy input"),
    # correct but under-trained (a learning rate 1000 times too small): told the measurement, not the noisy target
    Mutant("train", "max_lr=2e-2", "max_lr=2e-5", "so they do not show a noisy target", names_no_mistake=True),
    Mutant("noise", "return (x + std * torch.randn_like(x)).clamp(0.0, 1.0)", "return x + std * torch.randn_like(x)",
           "the noisy image not clipped to"),
    Mutant("noise", "std * torch.randn_like(x)", "std**2 * torch.randn_like(x)", "std² used as the standard deviation"),
    Mutant("noise", "std * torch.randn_like(x)", "std**0.5 * torch.randn_like(x)", "the square root of std"),
    Mutant("noise", "std * torch.randn_like(x)", "std * (2 * torch.rand_like(x) - 1)", "uniform noise"),
    Mutant("noise", "    return (x + std", "    torch.manual_seed(0)\n    return (x + std", "the same noise on every call"),
    Mutant("noise", "keep = torch.rand_like(x) >= p", "keep = torch.rand_like(x) < p", "kept with probability p instead of 1 − p"),
    Mutant("noise", "return x * keep", "return x * keep / (1 - p)", "rescaled by 1/(1 − p)"),
    Mutant("noise", "    keep = torch.rand_like(x) >= p", "    torch.manual_seed(0)\n    keep = torch.rand_like(x) >= p",
           "the same mask on every call"),
    # 3. sparse
    Mutant("sparse", "kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))",
           "kl = rho_hat * torch.log(rho_hat / rho) + (1 - rho_hat) * torch.log((1 - rho_hat) / (1 - rho))",
           "the arguments of the KL are swapped"),
    Mutant("sparse", "activations.mean(dim=0)", "activations.mean(dim=1)", "averaged over the hidden units instead of over the batch"),
    Mutant("sparse", "return beta * kl.sum()", "return kl.sum()", "the weight β left out"),
    Mutant("sparse", "return beta * kl.sum()", "return beta * kl.mean()", "the KL averaged over the units instead of summed"),
    Mutant("sparse", ".clamp(eps, 1 - eps)", "", "log of 0"),
    Mutant("sparse", "activations.abs().sum(dim=1).mean()", "(activations ** 2).sum(dim=1).mean()", "the L2 penalty"),
    Mutant("sparse", "activations.abs().sum(dim=1).mean()", "activations.abs().sum()", "summed over the batch instead of averaged"),
    Mutant("sparse", "activations.abs().sum(dim=1).mean()", "activations.abs().mean()", "averaged over the units instead of summed"),
    Mutant("sparse", "return lam * activations.abs()", "return activations.abs()", "the weight λ left out"),
    Mutant("sparse", "activations.abs().sum(dim=1).mean()", "activations.sum(dim=1).mean()", "without the absolute value"),
    Mutant("train", "            loss = loss + penalty(code)", "            pass", "is the penalty added to the loss"),
    # 4. anomaly detection
    Mutant("anomaly", "return X[y != anomaly_class]", "return X[y == anomaly_class]", "only the anomaly class kept"),
    Mutant("anomaly", "return X[y != anomaly_class]", "return X", "the training set includes the anomaly class"),
    Mutant("anomaly", "return X[y != anomaly_class]", "return X[y != anomaly_class + 1]", "the wrong class removed (off by one)"),
    Mutant("anomaly", "return ((X - x_hat) ** 2).mean(dim=1)", "return -((X - x_hat) ** 2).mean(dim=1)", "negative error"),
    Mutant("anomaly", "return ((X - x_hat) ** 2).mean(dim=1)", "return ((X - x_hat) ** 2).sum(dim=1)", "summed over the pixels"),
    Mutant("anomaly", "return ((X - x_hat) ** 2).mean(dim=1)", "return ((X - x_hat) ** 2).sum(dim=1).sqrt()", "(a square root)"),
    Mutant("anomaly", "return ((X - x_hat) ** 2).mean(dim=1)", "return (X - x_hat).abs().mean(dim=1)", "the absolute error"),
    # 5. PCA
    Mutant("pca", "mu = X_train.mean(dim=0)", "mu = 0 * X_train.mean(dim=0)", "not centred"),
    Mutant("pca", "V = Vh[:k].T", "V = Vh[:, :k]", "the columns of Vh used instead of its rows"),
    Mutant("pca", "V = Vh[:k].T", "V = Vh[:k + 1].T", "k + 1 components instead of k"),
    Mutant("pca", "V = Vh[:k].T", "V = Vh[:k - 1].T", "k − 1 components instead of k"),
    Mutant("q_pca_vs_ae", 'q_pca_vs_ae = "b"', 'q_pca_vs_ae = "c"', "not limited to linear maps"),
    # 6. convolutional AE
    Mutant("conv", "nn.Conv2d(16, 8, 3, stride=2, padding=1)", "nn.Conv2d(16, 8, 3, stride=1, padding=1)", "two stride-2 convolutions"),
    Mutant("conv", "nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1)",
           "nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1)", "needs output_padding=1"),
    Mutant("conv", "return self.encoder(x)", "return self.encoder(x * 0)", "nearly the same image for every input"),
    # 7. concepts
    Mutant("concepts", 'q_bottleneck = "c"', 'q_bottleneck = "a"', "does not make training faster"),
    Mutant("concepts", 'q_denoise_target = "a"', 'q_denoise_target = "b"', "reproduce the noise"),
    Mutant("concepts", 'q_rho_hat = "d"', 'q_rho_hat = "b"', "averaging over the units of one sample"),
    Mutant("concepts", 'q_anomaly = "b"', 'q_anomaly = "a"', "never sees labels"),
]

STYLES = [
    Style("numpy functions, explicit layers, the BCE by hand, a while loop", {
        "autoencoder": '''class Autoencoder(nn.Module):
    def __init__(self, input_dim=784, code_dim=32, code_activation="relu"):
        super().__init__()
        self.enc = nn.Linear(input_dim, code_dim)
        self.dec = nn.Linear(code_dim, input_dim)
        self.code_activation = code_activation

    def encode(self, x):
        h = self.enc(x)
        return torch.sigmoid(h) if self.code_activation == "sigmoid" else torch.relu(h)

    def decode(self, z):
        return torch.sigmoid(self.dec(z))

    def forward(self, x):
        return self.decode(self.encode(x))
''',
        "train": '''def train_autoencoder(model, X, steps=300, seconds=20.0, corrupt=None, penalty=None):
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
    deadline = time.monotonic() + seconds
    losses = []
    step = 0
    while step < steps and time.monotonic() < deadline:
        perm = torch.randperm(X.shape[0], device=X.device)[:128]
        clean = X[perm]
        noisy = clean if corrupt is None else corrupt(clean)
        z = model.encode(noisy)
        x_hat = model.decode(z).clamp(1e-7, 1 - 1e-7)
        loss = -(clean * torch.log(x_hat) + (1 - clean) * torch.log(1 - x_hat)).mean()  # the BCE, by hand
        if penalty is not None:
            loss = loss + penalty(z)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
        step += 1
    return losses
''',
        "noise": '''import numpy as np

def gaussian_noise(x, std):
    a = np.asarray(x)
    return np.clip(a + np.random.normal(0.0, std, size=a.shape), 0, 1)

def masking_noise(x, p):
    a = np.asarray(x)
    return np.where(np.random.random(a.shape) < p, 0.0, a)
''',
        "sparse": '''import numpy as np

def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    m, S = activations.shape
    total = 0.0
    for j in range(S):  # torch operations: the penalty is differentiated in training
        r = torch.clamp(activations[:, j].sum() / m, eps, 1 - eps)
        total = total + rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))
    return beta * total

def l1_activity_penalty(activations, lam):
    a = np.asarray(activations.detach() if hasattr(activations, "detach") else activations)
    return lam * np.abs(a).sum() / a.shape[0]
''',
        "anomaly": '''def select_normal(X, y, anomaly_class):
    keep = [i for i in range(len(y)) if int(y[i]) != anomaly_class]
    return X[keep]

def anomaly_scores(model, X):
    with torch.no_grad():
        diff = X - model(X)
    return (diff * diff).sum(dim=1) / X.shape[1]
''',
        "pca": '''import numpy as np

def pca_reconstruct(X_train, X_test, k):
    A, B = np.asarray(X_train, np.float64), np.asarray(X_test, np.float64)
    mu = A.mean(axis=0)
    C = (A - mu).T @ (A - mu)
    w, V = np.linalg.eigh(C)
    Vk = V[:, np.argsort(w)[::-1][:k]]
    return mu + (B - mu) @ Vk @ Vk.T
''',
        "conv": '''class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3, 2, 1), nn.Conv2d(32, 8, 3, 2, 1)
        self.d1 = nn.ConvTranspose2d(8, 32, 3, 2, 1, output_padding=1)
        self.d2 = nn.ConvTranspose2d(32, 1, 3, 2, 1, output_padding=1)

    def encode(self, x):
        return torch.relu(self.c2(torch.relu(self.c1(x))))

    def decode(self, z):
        return torch.sigmoid(self.d2(torch.relu(self.d1(z))))

    def forward(self, x):
        return self.decode(self.encode(x))
''',
        "q_pca_vs_ae": 'q_pca_vs_ae = "B"\n',
        "concepts": 'q_bottleneck, q_denoise_target = "c", " a "\nq_rho_hat = "(d)"\nq_anomaly = "b"\n',
    }),
    Style("float32 torch functions", {
        "noise": '''def gaussian_noise(x, std):
    x = x.float()
    return torch.clamp(x + torch.normal(0.0, std, size=x.shape), min=0.0, max=1.0)

def masking_noise(x, p):
    mask = torch.bernoulli(torch.full_like(x, 1 - p))
    return (x * mask).float()
''',
        "sparse": '''def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    q = torch.clamp(activations.float().mean(0), eps, 1 - eps)
    p = torch.full_like(q, rho)
    return beta * (p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()).sum()

def l1_activity_penalty(activations, lam):
    return lam * torch.linalg.vector_norm(activations.float(), ord=1, dim=1).mean()
''',
        "pca": '''def pca_reconstruct(X_train, X_test, k):
    mu = X_train.mean(0, keepdim=True)
    U, S, V = torch.svd(X_train - mu)
    P = V[:, :k]
    return (X_test - mu) @ P @ P.T + mu
''',
    }),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only; the model and the
# training loop are used by every trained task).
CELL_TASKS = {"noise": ("denoising",), "q_pca_vs_ae": ("pca",)}


# torch.where and torch.normal for the corruptions, the KL written as ρ log ρ − ρ log ρ̂ + …, the L1 through
# vector norms, the anomaly score as a squared norm over the pixel count
OTHER_FORMULAS = {
    "noise": '''import torch

def gaussian_noise(x, std):
    noise = torch.normal(0.0, std, size=x.shape, dtype=x.dtype, device=x.device)
    return torch.clip(x + noise, min=0.0, max=1.0)

def masking_noise(x, p):
    return torch.where(torch.rand(x.shape, device=x.device) < p, torch.zeros_like(x), x)
''',
    "sparse": '''import torch

def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    rho_hat = torch.clamp(activations.mean(0), eps, 1 - eps)
    kl = (rho * torch.log(torch.tensor(rho)) - rho * torch.log(rho_hat)
          + (1 - rho) * torch.log(torch.tensor(1 - rho)) - (1 - rho) * torch.log1p(-rho_hat))
    return beta * torch.sum(kl)

def l1_activity_penalty(activations, lam):
    return lam * torch.linalg.vector_norm(activations, ord=1, dim=1).mean()
''',
    "anomaly": '''import torch

def select_normal(X, y, anomaly_class):
    keep = torch.nonzero(y != anomaly_class).squeeze(1)
    return X.index_select(0, keep)

def anomaly_scores(model, X):
    model.eval()
    with torch.no_grad():
        error = X - model.decode(model.encode(X))
    return torch.linalg.vector_norm(error, dim=1) ** 2 / X.shape[1]
''',
}

# PCA by the eigen-decomposition of the covariance matrix, in numpy (the textbook derivation, not the SVD)
PCA_BY_EIGH = {
    "pca": '''import numpy as np
import torch

def pca_reconstruct(X_train, X_test, k):
    A = np.asarray(X_train, dtype=np.float64)
    B = np.asarray(X_test, dtype=np.float64)
    mu = A.mean(axis=0)
    cov = (A - mu).T @ (A - mu) / (len(A) - 1)
    values, vectors = np.linalg.eigh(cov)  # ascending eigenvalues
    V = vectors[:, np.argsort(values)[::-1][:k]]
    return torch.from_numpy(mu + (B - mu) @ V @ V.T)
''',
}

# float32 throughout the corruptions and penalties, the KL through xlogy-style terms
FLOAT32_PENALTIES = {
    "noise": '''import torch

def gaussian_noise(x, std):
    x = x.float()
    return (x + torch.randn_like(x) * std).clamp_(0, 1)

def masking_noise(x, p):
    x = x.float()
    return x * torch.bernoulli(torch.full_like(x, 1 - p))
''',
    "sparse": '''import torch

def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    rho_hat = activations.float().mean(dim=0).clamp(eps, 1 - eps)
    return beta * (rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()).sum()

def l1_activity_penalty(activations, lam):
    return lam * activations.float().abs().sum() / activations.shape[0]
''',
}

STYLES += [
    Style("torch.where and torch.normal corruptions, the KL expanded, norms for L1 and anomaly scores", OTHER_FORMULAS),
    Style("PCA by the eigen-decomposition of the covariance, in numpy", PCA_BY_EIGH),
    Style("float32 corruptions and penalties", FLOAT32_PENALTIES),
]
