"""Hangs while the submission loads (in a class body), so no function is ever defined."""
class Forever:
    while True:
        pass
def sigmoid(x): return x
