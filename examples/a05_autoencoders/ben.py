"""ben: classic mistakes, each named in the feedback: the loss against the noisy input (denoising), unclipped
Gaussian noise, a mask that keeps pixels with probability p, the KL's arguments swapped, the L2 instead of the L1
penalty, anomaly scores by the negative error, PCA without centring, a wrong concept answer."""
import time

import torch
import torch.nn.functional as F
from torch import nn


class Autoencoder(nn.Module):
    def __init__(self, input_dim=784, code_dim=32, code_activation="relu"):
        super().__init__()
        act = nn.Sigmoid() if code_activation == "sigmoid" else nn.ReLU()
        self.encoder = nn.Sequential(nn.Linear(input_dim, code_dim), act)
        self.decoder = nn.Sequential(nn.Linear(code_dim, input_dim), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def train_autoencoder(model, X, steps=300, seconds=20.0, corrupt=None, penalty=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    start = time.perf_counter()
    for _ in range(steps):
        if time.perf_counter() - start > seconds:
            break
        batch = X[torch.randint(0, len(X), (64,))]
        inputs = corrupt(batch) if corrupt is not None else batch
        code = model.encode(inputs)
        loss = F.binary_cross_entropy(model.decode(code), inputs)  # mistake: the target must be the clean batch
        if penalty is not None:
            loss = loss + penalty(code)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def gaussian_noise(x, std):
    return x + std * torch.randn_like(x)  # mistake: not clipped to [0, 1]


def masking_noise(x, p):
    return x * (torch.rand_like(x) < p)  # mistake: keeps each pixel with probability p


def kl_sparsity_penalty(activations, rho=0.05, beta=1e-3, eps=1e-8):
    q = activations.mean(dim=0).clamp(eps, 1 - eps)
    return beta * (q * torch.log(q / rho) + (1 - q) * torch.log((1 - q) / (1 - rho))).sum()  # mistake: KL(ρ̂‖ρ)


def l1_activity_penalty(activations, lam):
    return lam * (activations ** 2).sum(dim=1).mean()  # mistake: L2


def select_normal(X, y, anomaly_class):
    return X[y != anomaly_class]


def anomaly_scores(model, X):
    with torch.no_grad():
        return -((X - model(X)) ** 2).mean(dim=1)  # mistake: the negative error


def pca_reconstruct(X_train, X_test, k):
    _, _, Vh = torch.linalg.svd(X_train, full_matrices=False)  # mistake: not centred
    V = Vh[:k].T
    return X_test @ V @ V.T


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 8, 3, 2, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(8, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


q_pca_vs_ae = "c"  # mistake
q_bottleneck = "c"
q_denoise_target = "a"
q_rho_hat = "d"
q_anomaly = "b"
