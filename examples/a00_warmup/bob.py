import torch

def sigmoid(x):
    return 1 / (1 + torch.exp(-x))

def relu(x):
    return torch.where(x > 0, x, 0.01 * x)

def softmax(x, dim=-1):
    e = torch.exp(x)
    return e / e.sum(dim=0, keepdim=True)
