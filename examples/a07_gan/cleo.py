# Partly done: the modules and the losses; the step, the training and the questions are still to do.
import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=2, data_dim=2, hidden=64, bounded=False):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, data_dim), nn.Tanh() if bounded else nn.Identity())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, data_dim=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def discriminator_loss(d_real_logits, d_fake_logits):
    bce = F.binary_cross_entropy_with_logits
    return bce(d_real_logits, torch.ones_like(d_real_logits)) + bce(d_fake_logits, torch.zeros_like(d_fake_logits))


def generator_loss_nonsaturating(d_fake_logits):
    return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))
