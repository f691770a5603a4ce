"""Does the wire format carry plain data faithfully and refuse everything else?"""
from __future__ import annotations

import math
import socket

import numpy as np
import pytest
import torch

from grader import channel


def roundtrip(value):
    frame = channel.encode(value)
    doc_len, blob_len = channel.HEADER.unpack(frame[: channel.HEADER.size])
    doc = frame[channel.HEADER.size : channel.HEADER.size + doc_len]
    return channel.decode(doc, frame[channel.HEADER.size + doc_len :])


def test_plain_values_round_trip_exactly():
    """Do numbers, strings, lists, tuples and nested dicts come back equal and of the same types?"""
    value = {"a": [1, 2.5, "x", None, True], "b": (3, (4, 5)), "c": {"$nd": "a user key that looks like a tag"}}
    assert roundtrip(value) == value
    assert type(roundtrip(value)["b"]) is tuple


def test_nan_and_infinities_survive_so_they_can_fail():
    """Does a student's NaN reach the verdict as NaN (not silently become something else)?"""
    out = roundtrip([math.nan, math.inf, -math.inf])
    assert math.isnan(out[0]) and out[1] == math.inf and out[2] == -math.inf


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
def test_arrays_and_tensors_come_back_as_numpy(dtype):
    """Do numpy arrays and torch tensors (with grad, non-contiguous) arrive as equal numpy arrays?"""
    arr = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    tensor = torch.from_numpy(arr.copy()).transpose(0, 2)
    if tensor.is_floating_point():
        tensor.requires_grad_(True)
    out = roundtrip({"array": arr, "tensor": tensor})
    np.testing.assert_array_equal(out["array"], arr)
    np.testing.assert_array_equal(out["tensor"], arr.transpose(2, 1, 0))
    assert out["tensor"].dtype == np.dtype(dtype)


class Liar:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "value, name",
    [(Liar(), "Liar"), ({1: 2}, "dict key int"), (np.array([Liar()], dtype=object), "dtype object"), ([1, {2, 3}], "set")],
)
def test_unsupported_types_are_named(value, name):
    """Is an object, an object array or a set refused with its type named (never pickled)?"""
    with pytest.raises(channel.UnsupportedType, match=name):
        channel.encode(value)


def test_subclasses_of_plain_types_are_refused():
    """Can a str or list subclass with lying methods cross the channel? (It must not.)"""

    class Sneaky(list):
        pass

    with pytest.raises(channel.UnsupportedType, match="Sneaky"):
        channel.encode(Sneaky([1]))


@pytest.mark.parametrize(
    "doc, blob",
    [
        (b'{"$nd": ["object", [1], 0, 8]}', b"\0" * 8),
        (b'{"$nd": ["float64", [2], 0, 8]}', b"\0" * 8),
        (b'{"$nd": ["float64", [1], 8, 8]}', b"\0" * 8),
        (b'{"$pickle": "gASV"}', b""),
        (b"\x80\x04\x95", b""),
        (b"[" * 100 + b"]" * 100, b""),
    ],
    ids=["object-dtype", "size-mismatch", "out-of-blob", "unknown-tag", "pickle-bytes", "too-deep"],
)
def test_malformed_frames_are_rejected(doc, blob):
    """Are forged or corrupted frames rejected with ChannelError rather than decoded?"""
    with pytest.raises(channel.ChannelError):
        channel.decode(doc, blob)


def test_size_cap_applies_before_reading_the_body():
    """Does a frame announcing more bytes than allowed fail without the receiver allocating them?"""
    a, b = socket.socketpair()
    with a, b:
        a.sendall(channel.HEADER.pack(10, 2**40))
        with pytest.raises(channel.ChannelError, match="larger than"):
            channel.recv(b, max_bytes=1024)


def test_zero_dimensional_values_keep_their_shape():
    """A 0-d array or tensor (a loss, a gradient) arrives 0-d, not as shape (1,)."""
    for value in (np.array(2.5), torch.tensor(2.5, dtype=torch.float64)):
        got = roundtrip(value)
        assert isinstance(got, np.ndarray) and got.shape == () and got == 2.5
