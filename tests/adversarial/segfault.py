"""Crashes the worker with a segmentation fault through ctypes."""
import ctypes
def sigmoid(x): return ctypes.string_at(0)
def relu(x): return ctypes.cast(1, ctypes.POINTER(ctypes.c_int))[0]
def softmax(x, dim=-1): return ctypes.string_at(0)
