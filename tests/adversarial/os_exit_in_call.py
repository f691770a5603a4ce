"""Kills the worker with os._exit(0) in the middle of a call."""
import os
def sigmoid(x): os._exit(0)
def relu(x): os._exit(0)
def softmax(x, dim=-1): os._exit(0)
