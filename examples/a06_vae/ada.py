# a06_vae, a correct submission in another style: one encoder layer split in two, BCE written as softplus, lerp.
import time

import torch
import torch.nn.functional as F
from torch import nn


def reparameterize(mu, logvar, eps):
    return mu + eps * torch.exp(logvar / 2)


def kl_to_standard_normal(mu, logvar):
    return 0.5 * torch.sum(mu**2 + torch.exp(logvar) - 1 - logvar, dim=-1)


def negative_elbo(x, logits, mu, logvar, beta=1.0):
    recon = (F.softplus(logits) - x * logits).sum(dim=-1).mean()
    kl = kl_to_standard_normal(mu, logvar).mean()
    return recon + beta * kl, recon, kl


class VAE(nn.Module):
    def __init__(self, input_dim=784, hidden_dim=160, latent_dim=8):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim))

    def encode(self, x):
        return self.encoder(x).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, torch.randn_like(mu))), mu, logvar

    @torch.no_grad()
    def sample(self, n):
        return torch.sigmoid(self.decode(torch.randn(n, self.latent_dim)))


def train(model, X, steps=600, max_seconds=60.0):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, t0 = [], time.monotonic()
    for _ in range(steps):
        xb = X[torch.randint(len(X), (64,))]
        loss = negative_elbo(xb, *model(xb))[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if time.monotonic() - t0 > max_seconds:
            break
    return losses


def interpolate(z0, z1, steps):
    return torch.stack([torch.lerp(z0, z1, w) for w in torch.linspace(0, 1, steps).tolist()])


q_reparam = "b"
q_kl = "c"
q_beta = "a"
q_logvar = "d"
