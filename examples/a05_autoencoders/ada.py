"""ada: correct, in another style: explicit layers, the binary cross-entropy written by hand, a while loop, numpy for the
corruptions, the L1 penalty and PCA (through the eigenvectors of the covariance), loops for the KL."""
import time

import numpy as np
import torch
from torch import nn


class Autoencoder(nn.Module):
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


def train_autoencoder(model, X, steps=300, seconds=20.0, corrupt=None, penalty=None):
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
    deadline = time.monotonic() + seconds
    losses = []
    while len(losses) < steps and time.monotonic() < deadline:
        clean = X[torch.randperm(X.shape[0], device=X.device)[:128]]
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
    return losses


def gaussian_noise(x, std):
    a = np.asarray(x)
    return np.clip(a + np.random.normal(0.0, std, size=a.shape), 0, 1)


def masking_noise(x, p):
    a = np.asarray(x)
    return np.where(np.random.random(a.shape) < p, 0.0, a)


def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    m, S = activations.shape
    total = 0.0
    for j in range(S):  # torch operations: the penalty is differentiated in training
        r = torch.clamp(activations[:, j].sum() / m, eps, 1 - eps)
        total = total + rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))
    return beta * total


def l1_activity_penalty(activations, lam):
    a = np.asarray(activations)
    return lam * np.abs(a).sum() / a.shape[0]


def select_normal(X, y, anomaly_class):
    return X[[i for i in range(len(y)) if int(y[i]) != anomaly_class]]


def anomaly_scores(model, X):
    with torch.no_grad():
        diff = X - model(X)
    return (diff * diff).sum(dim=1) / X.shape[1]


def pca_reconstruct(X_train, X_test, k):
    A, B = np.asarray(X_train, np.float64), np.asarray(X_test, np.float64)
    mu = A.mean(axis=0)
    w, V = np.linalg.eigh((A - mu).T @ (A - mu))
    Vk = V[:, np.argsort(w)[::-1][:k]]
    return mu + (B - mu) @ Vk @ Vk.T


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3, 2, 1), nn.Conv2d(32, 8, 3, 2, 1)
        self.d1 = nn.ConvTranspose2d(8, 32, 3, 2, 1, output_padding=1)
        self.d2 = nn.ConvTranspose2d(32, 1, 3, 2, 1, output_padding=1)

    def encode(self, x):
        return self.c2(torch.relu(self.c1(x)))

    def decode(self, z):
        return torch.sigmoid(self.d2(torch.relu(self.d1(z))))

    def forward(self, x):
        return self.decode(self.encode(x))


q_pca_vs_ae = "B"
q_bottleneck, q_denoise_target = "c", "a"
q_rho_hat = "(d)"
q_anomaly = "b"
