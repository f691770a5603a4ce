"""a06_vae: wrong solutions (one per named mistake, plus the cheats a trained-model grader must catch) and other
correct styles that must get full marks."""
from tests.mutants import Mutant, Style

REPARAM = "sigma = torch.exp(0.5 * logvar)\n    return mu + sigma * eps"
KL = "return -0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar), dim=1)"
RECON = 'recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)  # (N,)'
LOSS = "return (recon + beta * kl).mean(), recon.mean(), kl.mean()"
HEADS = "return self.mu_head(h), self.logvar_head(h)"
INTERP = "return (1 - t) * z0[None, :] + t * z1[None, :]"
# encode and decode together, for the cheats that need both (a look-up table, a replay of the last input)
SPAN = ('h = self.body(x)\n        return self.mu_head(h), self.logvar_head(h)\n        ### END SOLUTION\n\n'
        '    def decode(self, z: torch.Tensor) -> torch.Tensor:\n'
        '        """z (N, latent_dim) -> logits of the pixels (N, input_dim); no sigmoid here."""\n'
        '        ### BEGIN SOLUTION\n        return self.decoder(z)')
LINSPACE = "t = torch.linspace(0.0, 1.0, steps, dtype=z0.dtype, device=z0.device)[:, None]"

MUTANTS = [
    # 1. reparameterize
    Mutant("reparameterize", REPARAM, "return mu + torch.exp(logvar) * eps", "the variance σ² used as the standard deviation"),
    Mutant("reparameterize", REPARAM, "return mu + logvar * eps", "logvar used directly as σ"),
    Mutant("reparameterize", REPARAM, "return mu + 0 * eps", "eps ignored (z = mu)"),
    Mutant("reparameterize", REPARAM, "return torch.exp(0.5 * logvar) * eps", "mu left out"),
    Mutant("reparameterize", REPARAM, "return mu + eps / torch.exp(0.5 * logvar)", "σ divided by instead of multiplied"),
    Mutant("reparameterize", REPARAM, "return (mu + torch.exp(0.5 * logvar) * eps).detach()", "autograd cannot differentiate"),
    # 2. kl
    Mutant("kl", KL, KL.replace("-0.5 *", "0.5 *"), "the sign flipped"),
    Mutant("kl", KL, KL.replace("-0.5 *", "-1.0 *"), "the factor ½ missing"),
    Mutant("kl", KL, KL.replace("torch.exp(logvar)", "logvar"), "logvar instead of exp(logvar)"),
    Mutant("kl", KL, KL.replace("torch.sum(", "torch.mean("), "the mean over the latent dimensions instead of the sum"),
    Mutant("kl", KL, KL.replace(", dim=1)", ", dim=1).mean()"), "over the batch. Return one KL per sample"),
    # 3. elbo
    Mutant("elbo", RECON, RECON.replace("(logits, x", "(torch.sigmoid(logits), x"), "the sigmoid applied twice"),
    Mutant("elbo", RECON, RECON.replace("binary_cross_entropy_with_logits", "binary_cross_entropy"),
           "the logits were used as probabilities"),
    Mutant("elbo", RECON, RECON.replace(".sum(dim=1)", ".mean(dim=1)"), "the mean over the pixels instead of the sum"),
    Mutant("elbo", LOSS, "return F.binary_cross_entropy_with_logits(logits, x) + beta * kl.mean(), recon.mean(), kl.mean()",
           "the mean over the pixels instead of the sum"),  # F.binary_cross_entropy_with_logits' default reduction
    Mutant("elbo", LOSS, "return (recon + beta * kl).sum(), recon.mean(), kl.mean()", "the loss summed over the batch instead of averaged"),
    Mutant("elbo", LOSS, "return recon.mean(), recon.mean(), kl.mean()", "the KL term left out"),
    Mutant("elbo", LOSS, "return (recon - beta * kl).mean(), recon.mean(), kl.mean()", "the KL subtracted instead of added"),
    Mutant("elbo", RECON, "recon = ((torch.sigmoid(logits) - x) ** 2).sum(dim=1)", "a squared error instead of the Bernoulli cross-entropy"),
    Mutant("elbo", LOSS, "return (recon + beta * kl).mean(), recon.mean(), kl.sum()", "the KL summed over the batch instead of averaged"),
    Mutant("elbo", LOSS, "return (recon + kl).mean(), recon.mean(), kl.mean()", "beta ignored"),
    Mutant("elbo", LOSS, "return (beta * recon + kl).mean(), recon.mean(), kl.mean()", "beta multiplying the reconstruction"),
    Mutant("elbo", RECON, "p = torch.sigmoid(logits).clamp(1e-12, 1.0)\n    q = (1 - torch.sigmoid(logits)).clamp(1e-12, 1.0)\n"
           "    recon = -(x * torch.log(p) + (1 - x) * torch.log(q)).sum(dim=1)",
           "probabilities clipped before the log instead of a BCE on logits"),
    Mutant("elbo", RECON, "p = torch.sigmoid(logits)\n    recon = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=1)",
           "NaN or infinite for confident logits"),
    # correct on moderate logits: only the stability test's logits beyond ±100 tell it apart
    Mutant("elbo", RECON, RECON.replace("binary_cross_entropy_with_logits(logits", "binary_cross_entropy(torch.sigmoid(logits)"),
           "a BCE on probabilities"),
    # 4. the model
    Mutant("vae", HEADS, "return self.mu_head(h), self.mu_head(h)", "one head for both mu and logvar"),
    Mutant("vae", HEADS, "return self.mu_head(h), torch.exp(0.5 * self.logvar_head(h))", "(always positive) returned instead of log σ²"),
    Mutant("vae", HEADS, "return self.mu_head(h), F.softplus(self.logvar_head(h))", "(always positive) returned instead of log σ²"),
    Mutant("vae", "return torch.sigmoid(self.decode(z))", "return self.decode(z)", "It looks like the logits were returned"),
    Mutant("vae", "z = torch.randn(n, self.latent_dim,", "z = torch.rand(n, self.latent_dim,", "not distributed like decode(z)"),
    # cheats: a decoder that ignores z, one that looks training digits up, one that replays the last encoded input
    Mutant("vae", "return self.decoder(z)", "return self.decoder(0 * z)", "the decoder ignores z"),
    Mutant("vae", SPAN, SPAN.replace("h = self.body(x)", "if self.training:\n            self.bank = x.detach()\n        h = self.body(x)")
           .replace("        return self.decoder(z)", "        if not self.training:\n"
                    "            idx = (z.abs().sum(dim=1) * 1e4).long() % len(self.bank)\n"
                    "            return torch.logit(self.bank[idx].clamp(1e-3, 1 - 1e-3))\n"
                    "        return self.decoder(z)"), "copies of training images"),
    Mutant("vae", SPAN, SPAN.replace("h = self.body(x)", "self.last_x = x\n        h = self.body(x)")
           .replace("        return self.decoder(z)", "        if not self.training:\n"
                    "            return torch.logit(self.last_x.clamp(1e-3, 1 - 1e-3))\n"
                    "        return self.decoder(z)"), "held-out negative ELBO"),
    # 5. training
    Mutant("train", "loss = negative_elbo(xb, logits, mu, logvar)[0]", "loss = negative_elbo(xb, logits, mu, logvar, beta=0.0)[0]",
           "The KL is large"),
    Mutant("train", "        optimizer.step()\n", "", "did not change any weight"),
    # correct but under-trained (a learning rate 1000 times too small): told the measurements, not a mistake
    Mutant("train", "lr=3e-3", "lr=3e-6", "the model learnt little in the budget", names_no_mistake=True),
    # 6. interpolation
    Mutant("interpolate", LINSPACE, "t = torch.linspace(0.0, 1.0, steps + 2, dtype=z0.dtype)[1:-1, None]", "the endpoints excluded"),
    Mutant("interpolate", LINSPACE, "t = torch.linspace(0.0, 1.0, steps + 1, dtype=z0.dtype)[:, None]", "steps off by +1"),
    Mutant("interpolate", LINSPACE, "t = torch.linspace(0.0, 1.0, steps - 1, dtype=z0.dtype)[:, None]", "steps off by -1"),
    Mutant("interpolate", INTERP, "return (1 - t) * z1[None, :] + t * z0[None, :]", "the direction reversed"),
    Mutant("interpolate", INTERP, "return z0[None, :] + t * z1[None, :]", "the (1 − t) weight of z0 missing"),
    Mutant("interpolate", LINSPACE, "t = (torch.arange(steps, dtype=z0.dtype) / steps)[:, None]", "z1 never reached"),
]

STYLES = [
    Style("other torch forms, one encoder layer split in two, an epoch loop", {
        "reparameterize": "def reparameterize(mu, logvar, eps):\n    return eps * torch.sqrt(torch.exp(logvar)) + mu\n",
        "kl": "def kl_to_standard_normal(mu, logvar):\n"
              "    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)\n",
        "elbo": "def negative_elbo(x, logits, mu, logvar, beta=1.0):\n"
                "    recon = (F.softplus(logits) - x * logits).sum(-1)\n"
                "    kl = kl_to_standard_normal(mu, logvar)\n"
                "    return recon.mean() + beta * kl.mean(), recon.mean(), kl.mean()\n",
        "vae": '''class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=200, latent_dim=8):
        super().__init__()
        self.latent_dim = latent_dim
        self.enc = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, 2 * latent_dim))
        self.dec = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, input_dim))

    def encode(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, torch.randn_like(mu))), mu, logvar

    def sample(self, n):
        with torch.no_grad():
            return torch.sigmoid(self.decode(torch.randn(n, self.latent_dim)))
''',
        "train": '''def train(model, X, steps=600, max_seconds=30.0):
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    start = time.time()
    while len(losses) < steps:
        for idx in torch.randperm(len(X)).split(80):
            logits, mu, logvar = model(X[idx])
            loss, _, _ = negative_elbo(X[idx], logits, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            if len(losses) >= steps or time.time() - start > max_seconds:
                return losses
    return losses
''',
        "interpolate": "def interpolate(z0, z1, steps):\n"
                       "    return torch.stack([torch.lerp(z0, z1, k / (steps - 1)) for k in range(steps)])\n",
    }),
    Style("numpy interpolation, float32 arithmetic, binary_cross_entropy on probabilities", {
        "reparameterize": "def reparameterize(mu, logvar, eps):\n"
                          "    std = (0.5 * logvar.float()).exp()\n"
                          "    return mu.float() + std * eps.float()\n",
        "kl": "def kl_to_standard_normal(mu, logvar):\n"
              "    total = 0\n"
              "    for j in range(mu.shape[1]):\n"
              "        total = total - 0.5 * (1 + logvar[:, j] - mu[:, j] ** 2 - torch.exp(logvar[:, j]))\n"
              "    return total\n",
        "elbo": "def negative_elbo(x, logits, mu, logvar, beta=1.0):\n"
                "    x32, l32 = x.float(), logits.float()\n"
                "    recon = F.binary_cross_entropy_with_logits(l32, x32, reduction='sum') / x.shape[0]\n"
                "    kl = kl_to_standard_normal(mu.float(), logvar.float()).mean()\n"
                "    return recon + beta * kl, recon, kl\n",
        "interpolate": "import numpy as np\n\n"
                       "def interpolate(z0, z1, steps):\n"
                       "    a, b = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)\n"
                       "    return np.stack([a + (b - a) * k / (steps - 1) for k in range(steps)])\n",
    }),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only; `vae` is used by all).
CELL_TASKS = {"interpolate": ("sampling",), "train": ("encoder", "trained_vae", "sampling")}


# The KL written per dimension as ½(μ² + σ² − log σ² − 1), the BCE from logits as softplus(l) − x·l (the form
# F.binary_cross_entropy_with_logits computes), the interpolation with torch.lerp
SOFTPLUS_FORMS = {
    "reparameterize": '''import torch

def reparameterize(mu, logvar, eps):
    return torch.addcmul(mu, logvar.mul(0.5).exp(), eps)
''',
    "kl": '''def kl_to_standard_normal(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=-1)
''',
    "elbo": '''import torch.nn.functional as F

def negative_elbo(x, logits, mu, logvar, beta=1.0):
    recon = (F.softplus(logits) - x * logits).sum(dim=1)
    kl = kl_to_standard_normal(mu, logvar)
    return recon.mean() + beta * kl.mean(), recon.mean(), kl.mean()
''',
    "interpolate": '''import torch

def interpolate(z0, z1, steps):
    weights = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)
    return torch.stack([torch.lerp(z0, z1, w) for w in weights])
''',
}

# torch.distributions, as in Pyro-style VAE code: the KL of two Normals and a Bernoulli likelihood on logits
# (validate_args off: the pixels are grey levels in [0, 1], the continuous relaxation the lecture uses)
DISTRIBUTIONS = {
    "reparameterize": '''import torch

def reparameterize(mu, logvar, eps):
    std = torch.sqrt(torch.exp(logvar))
    return mu + std * eps
''',
    "kl": '''import torch
from torch.distributions import Normal, kl_divergence

def kl_to_standard_normal(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(q, p).sum(dim=1)
''',
    "elbo": '''from torch.distributions import Bernoulli

def negative_elbo(x, logits, mu, logvar, beta=1.0):
    recon = -Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(dim=1)
    kl = kl_to_standard_normal(mu, logvar)
    loss = (recon + beta * kl).mean()
    return loss, recon.mean(), kl.mean()
''',
}

# float32 arithmetic, log-sigmoids for both halves of the BCE
FLOAT32_LOSSES = {
    "reparameterize": '''import torch

def reparameterize(mu, logvar, eps):
    mu, logvar, eps = mu.float(), logvar.float(), eps.float()
    return mu + torch.exp(logvar / 2) * eps
''',
    "kl": '''import torch

def kl_to_standard_normal(mu, logvar):
    mu, logvar = mu.float(), logvar.float()
    return -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)
''',
    "elbo": '''import torch
import torch.nn.functional as F

def negative_elbo(x, logits, mu, logvar, beta=1.0):
    x, logits = x.float(), logits.float()
    recon = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(1)
    kl = kl_to_standard_normal(mu, logvar)
    return (recon + beta * kl).mean(), recon.mean(), kl.mean()
''',
}

STYLES += [
    Style("addcmul, KL per dimension, softplus BCE, lerp interpolation", SOFTPLUS_FORMS),
    Style("torch.distributions: Normal KL, Bernoulli likelihood on logits", DISTRIBUTIONS),
    Style("float32 with log-sigmoid BCE", FLOAT32_LOSSES),
]
