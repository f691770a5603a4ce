"""A submission that does not parse."""
def sigmoid(x)
    return 1 / (1 + exp(-x)
