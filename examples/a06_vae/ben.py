# a06_vae with named mistakes: logvar used as sigma, KL averaged over the latent dimensions, BCE averaged over
# the pixels, interpolation without its endpoints, and two wrong concept answers.
import time

import torch
import torch.nn.functional as F
from torch import nn


def reparameterize(mu, logvar, eps):
    return mu + logvar * eps


def kl_to_standard_normal(mu, logvar):
    return 0.5 * torch.mean(mu**2 + torch.exp(logvar) - 1 - logvar, dim=-1)


def negative_elbo(x, logits, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x)
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
    return torch.stack([torch.lerp(z0, z1, w) for w in torch.linspace(0, 1, steps + 2)[1:-1].tolist()])


q_reparam = "b"
q_kl = "d"
q_beta = "b"
q_logvar = "d"
