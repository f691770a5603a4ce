"""Prints without a newline and without flushing, then fails: the output must still reach the report."""


def sigmoid(x):
    print("debug: sigmoid was called", end="")
    return x * 0


def relu(x): return sigmoid(x)
def softmax(x, dim=-1): return sigmoid(x)
