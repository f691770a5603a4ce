"""a07_gan: GAN modules, losses, the alternating step and training, with known mistakes and cheats, and other styles."""
from tests.mutants import Mutant, Style

MUTANTS = [
    # 1. modules
    Mutant("modules", "return self.net(x).squeeze(-1)", "return torch.sigmoid(self.net(x).squeeze(-1))", "D returns probabilities, not logits"),
    Mutant("modules", "return self.net(x).squeeze(-1)", "return self.net(x)", "squeeze the last axis"),
    Mutant("modules", "        if bounded:\n            layers.append(nn.Tanh())\n", "", "with bounded=True the last layer is followed by tanh"),
    # 2. the discriminator loss
    Mutant("discriminator_loss", "torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))",
           "torch.zeros_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))",
           "the labels swapped"),
    Mutant("discriminator_loss", "F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits,",
           "F.binary_cross_entropy(d_real_logits, torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy(d_fake_logits,", "the sigmoid is missing"),
    Mutant("discriminator_loss", "F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits,",
           "F.binary_cross_entropy_with_logits(torch.sigmoid(d_real_logits), torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(torch.sigmoid(d_fake_logits),", "the sigmoid applied twice"),
    Mutant("discriminator_loss", "torch.ones_like(d_real_logits))\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))",
           "torch.ones_like(d_real_logits), reduction=\"sum\")\n    fake_term = F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits), reduction=\"sum\")",
           "a sum instead of a mean"),
    Mutant("discriminator_loss", "return real_term + fake_term", "return real_term", "only the real term"),
    Mutant("discriminator_loss", "return real_term + fake_term", "return fake_term", "only the fake term"),
    Mutant("discriminator_loss", "return real_term + fake_term", "return (real_term + fake_term) / 2", "the average of the two terms"),
    # 3. the generator loss
    Mutant("generator_loss", "return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))",
           "return -F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))", "the saturating loss"),
    Mutant("generator_loss", "return F.binary_cross_entropy_with_logits(", "return -F.binary_cross_entropy_with_logits(", "the sign flipped"),
    Mutant("generator_loss", "torch.ones_like(d_fake_logits)", "torch.zeros_like(d_fake_logits)", "the labels 0 instead of 1"),
    # log of a sigmoid computed directly: exact for moderate logits, log 0 for large negative ones
    Mutant("generator_loss", "return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))",
           "return -torch.log(torch.sigmoid(d_fake_logits)).mean()", "NaN or infinite"),
    Mutant("discriminator_loss", "real_term = F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits))",
           "real_term = -torch.log(torch.sigmoid(d_real_logits)).mean()", "NaN or infinite"),
    Mutant("generator_loss", "F.binary_cross_entropy_with_logits(", "F.binary_cross_entropy(", "the sigmoid is missing"),
    Mutant("generator_loss", "torch.ones_like(d_fake_logits))", "torch.ones_like(d_fake_logits), reduction=\"sum\")", "a sum instead of a mean"),
    # 4. the step
    Mutant("gan_step", "D(fake.detach())", "D(fake)", "the fake batch was not detached"),
    Mutant("gan_step", "d_loss = discriminator_loss(D(real), D(fake.detach()))\n    d_loss.backward()",
           "opt_G.zero_grad()\n    d_loss = discriminator_loss(D(real), D(fake))\n    d_loss.backward(retain_graph=True)", "the fake batch was not detached"),
    Mutant("gan_step", "    opt_G.step()\n", "    opt_G.step()\n    opt_D.step()\n", "D was updated during the generator's step"),
    Mutant("gan_step", "    opt_G.step()\n    D.requires_grad_(True)\n", "    opt_G.step()\n", "D left frozen after the step"),
    Mutant("gan_step", "    opt_G.zero_grad()\n", "", "gradients never zeroed"),
    Mutant("gan_step", "    opt_D.zero_grad()\n", "", "gradients never zeroed"),
    Mutant("gan_step", "generator_loss_nonsaturating(D(fake))", "torch.log(1 - torch.sigmoid(D(fake))).mean()", "the saturating generator loss"),
    Mutant("gan_step", """    fake = G(z)
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    D.requires_grad_(False)
    opt_G.zero_grad()
    g_loss = generator_loss_nonsaturating(D(fake))
    g_loss.backward()
    opt_G.step()
    D.requires_grad_(True)""", """    D.requires_grad_(False)
    opt_G.zero_grad()
    g_loss = generator_loss_nonsaturating(D(G(z)))
    g_loss.backward()
    opt_G.step()
    D.requires_grad_(True)
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(G(z).detach()))
    d_loss.backward()
    opt_D.step()""", "the generator was updated before the discriminator"),
    # 5-6. training cheats (applied to the trained G at the end of train_gan)
    Mutant("train_gan", "    return history\n", "    G.forward = lambda z: G.net(torch.zeros_like(z))\n    return history\n", "the generator ignores z"),
    Mutant("train_gan", "    return history\n",
           "    G.forward = lambda z: data[torch.randint(0, len(data), (len(z),))]\n    return history\n", "copies of training samples"),
    Mutant("train_gan", "    return history\n",
           "    G.forward = lambda z: data[(z[:, 0].abs() * 1e4).long() % len(data)] + 0.01\n    return history\n",
           "the samples do not change continuously with z"),
    Mutant("train_gan", "    return history\n",
           "    def centres(z):\n        k = torch.round(torch.atan2(z[:, 1], z[:, 0]) / (2 * math.pi / 8)) % 8\n"
           "        a = k * (2 * math.pi / 8)\n        return 2 * torch.stack([torch.cos(a), torch.sin(a)], 1).to(z.dtype)\n"
           "    if data.shape[1] == 2:\n        G.forward = centres\n    return history\n",
           "the samples sit on the mode centres"),
    Mutant("train_gan", "    return history\n",
           "    if data.shape[1] == 2:\n        G.forward = lambda z: torch.tensor([2.0, 0.0], dtype=z.dtype) + 0.05 * z\n"
           "    return history\n", "mode collapse"),
    # no training at all, and the generators below made by hand: told the measurements (names_no_mistake), never a
    # mistake the evidence does not show (mode collapse, samples on the centres)
    Mutant("train_gan", "losses = gan_step(G, D, opt_G, opt_D, real, z)", "losses = {'d_loss': 0.0, 'g_loss': 0.0}", "covers",
           names_no_mistake=True),
    # continuous generators made by hand, with no training: they must lose the coverage points of the ring ...
    Mutant("train_gan", "    return history\n", "    if data.shape[1] == 2:\n        G.forward = lambda z: 2 * z\n    return history\n",
           "of its samples lie within 3σ of a mode", names_no_mistake=True),
    Mutant("train_gan", "    return history\n", "    if data.shape[1] == 2:\n        G.forward = lambda z: z.clone()\n    return history\n",
           "of its samples lie within 3σ of a mode", names_no_mistake=True),
    Mutant("train_gan", "    return history\n",
           "    def circle(z):\n        a = torch.atan2(z[:, 1], z[:, 0])\n        return 2 * torch.stack([torch.cos(a), torch.sin(a)], 1)\n"
           "    if data.shape[1] == 2:\n        G.forward = circle\n    return history\n",
           "G has not learnt where the modes are", names_no_mistake=True),
    Mutant("train_gan", "    return history\n", "    if data.shape[1] == 2:\n        G.forward = lambda z: 1.4142 * z\n    return history\n",
           "of its samples lie within 3σ of a mode", names_no_mistake=True),
    # ... and on the digits: the training mean plus a little noise mapped linearly from z (high precision, few digits
    # covered); it must lose the digits' coverage points
    Mutant("train_gan", "    return history\n",
           "    if data.shape[1] == 64:\n        pixels = (data + 1) / 2\n        mean, std = pixels.mean(0), pixels.std(0)\n"
           "        W = torch.randn(G.latent_dim, 64, generator=torch.Generator().manual_seed(0)).to(data.dtype) / G.latent_dim ** 0.5\n"
           "        G.forward = lambda z: 2 * (mean + 0.5 * std * (z.to(data.dtype) @ W)).clamp(0, 1) - 1\n    return history\n",
           "too few of the held-out digits", names_no_mistake=True),
    # correct but under-trained (a learning rate 1000 times too small): told the measurements, not a mistake
    Mutant("train_gan", "batch_size: int = 128, lr: float = 2e-3", "batch_size: int = 128, lr: float = 2e-6",
           "of 8 modes", names_no_mistake=True),
    # 7. concepts
    Mutant("concepts", 'q_mode_collapse = "b"', 'q_mode_collapse = "c"', "oscillating losses are normal"),
    Mutant("concepts", 'q_nonsaturating = "c"', 'q_nonsaturating = "a"', "the same fixed point"),
    Mutant("concepts", 'q_d_optimum = "a"', 'q_d_optimum = "b"', "that is 1 − D*"),
    Mutant("concepts", "q_d_star = 0.75", "q_d_star = 0.25", "the probability of 'fake'"),
    Mutant("concepts", "q_d_star = 0.75", "q_d_star = 0.6", "p_data alone"),
    Mutant("concepts", "q_d_star = 0.75", "q_d_star = 3.0", "a density ratio"),
]

STYLES = [
    Style("hand-written log-sigmoid losses, a loop-built MLP, no_grad fakes", {
        "modules": '''import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=2, data_dim=2, hidden=64, bounded=False):
        super().__init__()
        self.latent_dim = latent_dim
        self.layers = nn.ModuleList([nn.Linear(latent_dim, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, data_dim)])
        self.bounded = bounded

    def forward(self, z):
        h = z
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return torch.tanh(h) if self.bounded else h


class Discriminator(nn.Module):
    def __init__(self, data_dim=2, hidden=64):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(data_dim, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 1)

    def forward(self, x):
        h = nn.functional.leaky_relu(self.l1(x), 0.2)
        h = nn.functional.leaky_relu(self.l2(h), 0.2)
        return self.l3(h)[:, 0]
''',
        "discriminator_loss": '''import torch
import torch.nn.functional as F


def discriminator_loss(d_real_logits, d_fake_logits):
    r, f = torch.as_tensor(d_real_logits), torch.as_tensor(d_fake_logits)
    return -F.logsigmoid(r).mean() - F.logsigmoid(-f).mean()
''',
        "generator_loss": '''import torch
import torch.nn.functional as F


def generator_loss_nonsaturating(d_fake_logits):
    return F.softplus(-torch.as_tensor(d_fake_logits)).mean()
''',
        "gan_step": '''def gan_step(G, D, opt_G, opt_D, real, z):
    with torch.no_grad():
        fake_for_d = G(z)
    for p in D.parameters():
        p.grad = None
    d_loss = discriminator_loss(D(real), D(fake_for_d))
    d_loss.backward()
    opt_D.step()
    for p in D.parameters():
        p.requires_grad = False
    for p in G.parameters():
        p.grad = None
    g_loss = generator_loss_nonsaturating(D(G(z)))
    g_loss.backward()
    opt_G.step()
    for p in D.parameters():
        p.requires_grad = True
    return {"d_loss": float(d_loss), "g_loss": float(g_loss)}
''',
    }),
    Style("numpy-stable losses in float32, a different training loop", {
        "discriminator_loss": '''import torch


def discriminator_loss(d_real_logits, d_fake_logits):
    r, f = d_real_logits, d_fake_logits
    real = torch.clamp(r, min=0) - r + torch.log1p(torch.exp(-torch.abs(r)))
    fake = torch.clamp(f, min=0) + torch.log1p(torch.exp(-torch.abs(f)))
    return real.mean() + fake.mean()
''',
        "train_gan": '''import time
import torch


def train_gan(G, D, data, steps=600, seconds=25.0, batch_size=128, lr=2e-3):
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    d_losses, g_losses = [], []
    deadline = time.monotonic() + seconds
    step = 0
    while step < steps and time.monotonic() < deadline:
        perm = torch.randperm(len(data), device=data.device)[:batch_size]
        out = gan_step(G, D, opt_G, opt_D, data[perm], torch.randn(len(perm), G.latent_dim, device=data.device, dtype=data.dtype))
        d_losses.append(out["d_loss"])
        g_losses.append(out["g_loss"])
        step += 1
    return {"d_loss": d_losses, "g_loss": g_losses}
''',
    }),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only; `modules` is used by all).
CELL_TASKS = {"train_gan": ("ring", "digits")}


# nn.BCEWithLogitsLoss modules; D frozen by switching each parameter's requires_grad; set_to_none zeroing
BCE_MODULES = {
    "discriminator_loss": '''import torch
import torch.nn as nn

def discriminator_loss(d_real_logits, d_fake_logits):
    criterion = nn.BCEWithLogitsLoss()
    return criterion(d_real_logits, torch.ones_like(d_real_logits)) + criterion(d_fake_logits, torch.zeros_like(d_fake_logits))
''',
    "generator_loss": '''import torch
import torch.nn as nn

def generator_loss_nonsaturating(d_fake_logits):
    return nn.BCEWithLogitsLoss()(d_fake_logits, torch.ones_like(d_fake_logits))
''',
    "gan_step": '''def gan_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)
    opt_D.zero_grad(set_to_none=True)
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()
    for p in D.parameters():
        p.requires_grad = False
    opt_G.zero_grad(set_to_none=True)
    g_loss = generator_loss_nonsaturating(D(fake))
    g_loss.backward()
    opt_G.step()
    for p in D.parameters():
        p.requires_grad = True
    return {"d_loss": float(d_loss), "g_loss": float(g_loss)}
''',
}

# log(1 + e^x) written as logaddexp(0, x); the fakes for D drawn under no_grad, G's own forward pass afterwards
LOGADDEXP = {
    "discriminator_loss": '''import torch

def discriminator_loss(d_real_logits, d_fake_logits):
    zero_r, zero_f = torch.zeros_like(d_real_logits), torch.zeros_like(d_fake_logits)
    return torch.logaddexp(zero_r, -d_real_logits).mean() + torch.logaddexp(zero_f, d_fake_logits).mean()
''',
    "generator_loss": '''import torch

def generator_loss_nonsaturating(d_fake_logits):
    return torch.logaddexp(torch.zeros_like(d_fake_logits), -d_fake_logits).mean()
''',
    "gan_step": '''import torch

def gan_step(G, D, opt_G, opt_D, real, z):
    with torch.no_grad():
        fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake))
    opt_D.zero_grad()
    d_loss.backward()
    opt_D.step()
    D.requires_grad_(False)
    try:
        g_loss = generator_loss_nonsaturating(D(G(z)))
        opt_G.zero_grad()
        g_loss.backward()
        opt_G.step()
    finally:
        D.requires_grad_(True)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
''',
}

# float32 softplus losses (softplus(−ℓ) = −log σ(ℓ)), written as the sum of the two means
FLOAT32_SOFTPLUS = {
    "discriminator_loss": '''import torch.nn.functional as F

def discriminator_loss(d_real_logits, d_fake_logits):
    real, fake = d_real_logits.float(), d_fake_logits.float()
    return F.softplus(-real).mean() + F.softplus(fake).mean()
''',
    "generator_loss": '''import torch.nn.functional as F

def generator_loss_nonsaturating(d_fake_logits):
    return F.softplus(-d_fake_logits.float()).mean()
''',
}

STYLES += [
    Style("BCEWithLogitsLoss modules, D frozen parameter by parameter", BCE_MODULES),
    Style("logaddexp losses, no_grad fakes for D and a second G pass", LOGADDEXP),
    Style("float32 softplus losses", FLOAT32_SOFTPLUS),
]
