"""Tries to reach a server on the loopback interface (to exfiltrate inputs or fetch answers)."""
import socket
def _net(x):
    for port in (22, 80, 8000, 8888):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=0.2)
            s.sendall(b"GET /answers HTTP/1.0\r\n\r\n")
            return x * 0 + 1
        except OSError:
            pass
    return x * 0 - 1
def sigmoid(x): return _net(x)
def relu(x): return _net(x)
def softmax(x, dim=-1): return _net(x)
