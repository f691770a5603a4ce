"""cleo: partly done: the autoencoder and its training loop, the two corruptions and the KL penalty; the rest
(L1, anomaly detection, PCA, the convolutional AE, the questions) is not written yet and scores 0 with "not defined"."""
import time

import torch
import torch.nn.functional as F
from torch import nn


class Autoencoder(nn.Module):
    def __init__(self, input_dim=784, code_dim=32, code_activation="relu"):
        super().__init__()
        self.encoder = nn.Linear(input_dim, code_dim)
        self.decoder = nn.Linear(code_dim, input_dim)
        self.code_activation = code_activation

    def encode(self, x):
        h = self.encoder(x)
        return torch.sigmoid(h) if self.code_activation == "sigmoid" else torch.relu(h)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        return self.decode(self.encode(x))


def train_autoencoder(model, X, steps=300, seconds=20.0, corrupt=None, penalty=None):
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        if time.perf_counter() - start > seconds:
            break
        batch = X[torch.randint(0, len(X), (128,))]
        code = model.encode(corrupt(batch) if corrupt else batch)
        loss = F.binary_cross_entropy(model.decode(code), batch)
        if penalty:
            loss = loss + penalty(code)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def gaussian_noise(x, std):
    return torch.clamp(x + torch.randn_like(x) * std, 0, 1)


def masking_noise(x, p):
    return x * (torch.rand_like(x) > p)


def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    r = activations.mean(0).clamp(eps, 1 - eps)
    return beta * torch.sum(rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r)))
