# Classic mistakes; the grader names each one in its feedback.
import time

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=2, data_dim=2, hidden=64, bounded=False):
        super().__init__()
        self.latent_dim = latent_dim
        layers = [nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, data_dim)]
        self.net = nn.Sequential(*layers, *([nn.Tanh()] if bounded else []))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, data_dim=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def discriminator_loss(d_real_logits, d_fake_logits):
    # mistake: summed over the batch instead of averaged
    return (F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits), reduction="sum")
            + F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits), reduction="sum"))


def generator_loss_nonsaturating(d_fake_logits):
    # mistake: the saturating loss log(1 − D(G(z)))
    return torch.log(1 - torch.sigmoid(d_fake_logits)).mean()


def gan_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake))  # mistake: fake not detached
    d_loss.backward(retain_graph=True)
    opt_D.step()
    D.requires_grad_(False)
    g_loss = generator_loss_nonsaturating(D(fake))  # mistake: opt_G.zero_grad() forgotten
    g_loss.backward()
    opt_G.step()
    D.requires_grad_(True)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def train_gan(G, D, data, steps=600, seconds=25.0, batch_size=128, lr=2e-3):
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    history = {"d_loss": [], "g_loss": []}
    start = time.perf_counter()
    for _ in range(steps):
        if time.perf_counter() - start > seconds:
            break
        real = data[torch.randint(0, len(data), (batch_size,))]
        out = gan_step(G, D, opt_G, opt_D, real, torch.randn(batch_size, G.latent_dim, dtype=data.dtype))
        history["d_loss"].append(out["d_loss"])
        history["g_loss"].append(out["g_loss"])
    return history


q_mode_collapse = "a"   # mistake
q_nonsaturating = "c"
q_d_optimum = "b"       # mistake
q_d_star = 0.25         # mistake
