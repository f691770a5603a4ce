"""Allocates memory until something gives (bounded by the worker's address-space limit)."""
import torch
def _bomb(x):
    hoard = []
    for _ in range(200):
        hoard.append(torch.ones(64 * 1024 * 1024, dtype=torch.float64))  # 512 MB each
    return x
def sigmoid(x): return _bomb(x)
def relu(x): return _bomb(x)
def softmax(x, dim=-1): return _bomb(x)
