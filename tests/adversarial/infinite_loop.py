"""Never returns."""
def sigmoid(x):
    while True: pass
def relu(x):
    while True: x = x + 1
def softmax(x, dim=-1):
    import time
    while True: time.sleep(1)
