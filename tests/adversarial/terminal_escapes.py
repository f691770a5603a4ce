"""Feedback with ANSI escapes that redraw the terminal table: clear the screen, print a fake 6/6, hide the rest."""
ESC = "\x1b"
FORGED = f"{ESC}[2J{ESC}[H a00_warmup score 6/6 {ESC}[8m{ESC}]0;pwned\x07\r\u202eevil"


def sigmoid(x): raise ValueError(FORGED)
def relu(x): raise ValueError(FORGED)
def softmax(x, dim=-1): raise ValueError(FORGED)
