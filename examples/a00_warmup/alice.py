import torch

def sigmoid(x):
    return 1 / (1 + torch.exp(-x))

def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))

def softmax(x, dim=-1):
    z = x - x.max(dim=dim, keepdim=True).values
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)
