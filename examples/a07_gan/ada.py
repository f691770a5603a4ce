import time

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=2, data_dim=2, hidden=64, bounded=False):
        super().__init__()
        self.latent_dim = latent_dim
        self.bounded = bounded
        self.layers = nn.ModuleList([nn.Linear(latent_dim, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, data_dim)])

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
        h = F.leaky_relu(self.l1(x), 0.2)
        h = F.leaky_relu(self.l2(h), 0.2)
        return self.l3(h)[:, 0]


def discriminator_loss(d_real_logits, d_fake_logits):
    return -F.logsigmoid(d_real_logits).mean() - F.logsigmoid(-d_fake_logits).mean()


def generator_loss_nonsaturating(d_fake_logits):
    return F.softplus(-d_fake_logits).mean()


def gan_step(G, D, opt_G, opt_D, real, z):
    with torch.no_grad():
        fake = G(z)
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_D.step()
    for p in D.parameters():
        p.requires_grad = False
    opt_G.zero_grad()
    g_loss = generator_loss_nonsaturating(D(G(z)))
    g_loss.backward()
    opt_G.step()
    for p in D.parameters():
        p.requires_grad = True
    return {"d_loss": float(d_loss), "g_loss": float(g_loss)}


def train_gan(G, D, data, steps=600, seconds=25.0, batch_size=128, lr=2e-3):
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    d_losses, g_losses = [], []
    deadline = time.monotonic() + seconds
    while len(d_losses) < steps and time.monotonic() < deadline:
        idx = torch.randint(0, len(data), (batch_size,), device=data.device)
        out = gan_step(G, D, opt_G, opt_D, data[idx], torch.randn(batch_size, G.latent_dim, device=data.device, dtype=data.dtype))
        d_losses.append(out["d_loss"])
        g_losses.append(out["g_loss"])
    return {"d_loss": d_losses, "g_loss": g_losses}


q_mode_collapse = "b"
q_nonsaturating = "C"
q_d_optimum = "a"
q_d_star = 0.75
