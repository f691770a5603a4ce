"""The wire format between the trusted grader and the sandboxed worker: plain data only, never pickle.

A frame is a 12-byte header (uint32 JSON length, uint64 blob length, big-endian), a UTF-8 JSON document and a
binary blob holding the bytes of any numeric arrays. JSON carries None, bools, ints, floats (NaN and infinities
included, since a student's NaN must reach the verdict to fail it), strings, lists and string-keyed dicts. Tuples
and arrays are tagged objects:

    {"$tuple": [...]}                                  a tuple
    {"$nd": [dtype, [d0, d1, ...], offset, nbytes]}    a numeric array whose bytes lie in the blob
    {"$dict": {...}}                                   a dict (so that user keys can never collide with tags)

Decoding is strict: only whitelisted dtypes, sizes that add up, bounded depth, length and total size. The JSON part
of a frame is capped (MAX_DOC_BYTES) before a byte of it is parsed, so a reply cannot make the trusted side spend
more than a few tens of MiB on parsing; `recv` takes one deadline for the whole frame, so a sender dripping a byte at
a time cannot stretch it. Anything else raises ChannelError, which the trusted side reports as the student's error,
never as a grader crash.

This module is copied into the sandbox next to worker.py, so it imports nothing from the grader package.
"""
from __future__ import annotations

import json
import math
import socket
import struct
import time
from typing import Any

import numpy as np

HEADER = struct.Struct(">IQ")
# numpy dtype names a value may carry; object, void and datetime dtypes could smuggle non-data.
DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"}
)
MAX_DEPTH = 32
MAX_ITEMS = 100_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# Parsing JSON costs ~30x its size in Python objects: 4 MiB bounds that near 120 MiB. Arrays travel in the blob.
MAX_DOC_BYTES = 4 * 1024 * 1024


class ChannelError(Exception):
    """A frame or a value that does not follow the wire format."""


class UnsupportedType(ChannelError):
    """A value of a type that cannot cross the channel (raised on the sending side)."""

    def __init__(self, type_name: str, where: str = "") -> None:
        self.type_name = type_name
        self.where = where
        place = f" at {where}" if where else ""
        super().__init__(
            f"returned unsupported type {type_name}{place}; return numbers, strings, booleans, lists, tuples, dicts, "
            "numpy arrays or torch tensors"
        )


def _to_array(value: Any) -> np.ndarray | None:
    """numpy arrays and torch tensors as plain numpy arrays; None for anything else."""
    # ascontiguousarray returns at least one dimension: reshape keeps a 0-d value 0-d.
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).reshape(value.shape)
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = torch.Tensor.detach(value)
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
            tensor = torch.Tensor.float(tensor)
        array = torch.Tensor.numpy(torch.Tensor.cpu(tensor))
        return np.ascontiguousarray(array).reshape(array.shape)
    return None


def _torch():
    import sys

    return sys.modules.get("torch")


def encode(value: Any, max_bytes: int = DEFAULT_MAX_BYTES, max_doc_bytes: int | None = None) -> bytes:
    """One frame for `value`; raises UnsupportedType naming the first value that cannot be sent."""
    blobs: list[bytes] = []
    size = [0]
    max_doc_bytes = max_bytes if max_doc_bytes is None else max_doc_bytes

    def walk(v: Any, depth: int, where: str) -> Any:
        if depth > MAX_DEPTH:
            raise ChannelError(f"value nested deeper than {MAX_DEPTH} levels at {where or 'top level'}")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v
        if t is float:
            return v
        if t in (np.float64, np.float32, np.float16):
            return float(v)
        if t in (np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.uint32, np.uint64):
            return int(v)
        if t is np.bool_:
            return bool(v)
        if t is list or t is tuple:
            if len(v) > MAX_ITEMS:
                raise ChannelError(f"a {t.__name__} of {len(v)} items is longer than {MAX_ITEMS}")
            items = [walk(x, depth + 1, f"{where}[{i}]") for i, x in enumerate(v)]
            return items if t is list else {"$tuple": items}
        if t is dict:
            if len(v) > MAX_ITEMS:
                raise ChannelError(f"a dict of {len(v)} items is larger than {MAX_ITEMS}")
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise UnsupportedType(f"dict key {type(k).__name__}", where)
                out[k] = walk(x, depth + 1, f"{where}[{k!r}]")
            return {"$dict": out}
        arr = _to_array(v)
        if arr is not None:
            if arr.dtype.name not in DTYPES:
                raise UnsupportedType(f"array of dtype {arr.dtype}", where)
            data = arr.tobytes()
            offset = size[0]
            size[0] += len(data)
            if size[0] > max_bytes:
                raise ChannelError(f"arrays larger than {max_bytes} bytes in total")
            blobs.append(data)
            return {"$nd": [arr.dtype.name, list(arr.shape), offset, len(data)]}
        raise UnsupportedType(t.__name__, where)

    doc = json.dumps(walk(value, 0, ""), allow_nan=True, separators=(",", ":")).encode()
    if len(doc) > max_doc_bytes:
        raise ChannelError(f"{len(doc)} bytes of numbers and text (not arrays) are more than the {max_doc_bytes}-byte "
                           "limit; return arrays as numpy arrays or tensors, not long lists or strings")
    blob = b"".join(blobs)
    if len(doc) + len(blob) > max_bytes:
        raise ChannelError(f"message of {len(doc) + len(blob)} bytes is larger than {max_bytes}")
    return HEADER.pack(len(doc), len(blob)) + doc + blob


def decode(doc: bytes, blob: bytes) -> Any:
    """The value of one frame's JSON document and blob, checked strictly."""
    try:
        tree = json.loads(doc.decode("utf-8"), parse_constant=lambda c: {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[c])
    except (UnicodeDecodeError, ValueError, KeyError) as exc:
        raise ChannelError(f"malformed message: {exc}") from None
    except RecursionError:
        raise ChannelError(f"message nested deeper than {MAX_DEPTH} levels") from None
    count = [0]

    def walk(v: Any, depth: int) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > 10 * MAX_ITEMS:
            raise ChannelError("message too deep or too large")
        t = type(v)
        if v is None or t in (bool, int, float, str):
            return v
        if t is list:
            return [walk(x, depth + 1) for x in v]
        if t is dict and len(v) == 1:
            (tag, body), = v.items()
            if tag == "$tuple" and type(body) is list:
                return tuple(walk(x, depth + 1) for x in body)
            if tag == "$dict" and type(body) is dict:
                return {k: walk(x, depth + 1) for k, x in body.items()}
            if tag == "$nd":
                return _array(body, blob)
        raise ChannelError(f"unexpected element of type {t.__name__} in message")

    return walk(tree, 0)


def _array(body: Any, blob: bytes) -> np.ndarray:
    if type(body) is not list or len(body) != 4:
        raise ChannelError("malformed array header")
    dtype, shape, offset, nbytes = body
    if type(dtype) is not str or dtype not in DTYPES:
        raise ChannelError(f"array dtype {dtype!r} is not allowed")
    if type(shape) is not list or len(shape) > 32 or any(type(d) is not int or d < 0 for d in shape):
        raise ChannelError("malformed array shape")
    if type(offset) is not int or type(nbytes) is not int or offset < 0 or nbytes < 0:
        raise ChannelError("malformed array extent")
    itemsize = np.dtype(dtype).itemsize
    if math.prod(shape) * itemsize != nbytes or offset + nbytes > len(blob):
        raise ChannelError("array size does not match its bytes")
    return np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy()


def send(sock: socket.socket, value: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    sock.sendall(encode(value, max_bytes))


def _recv_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("the whole message did not arrive in time")
            sock.settimeout(left)
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, max_bytes: int = DEFAULT_MAX_BYTES, *, deadline: float | None = None,
         max_doc_bytes: int = MAX_DOC_BYTES) -> Any:
    """The next value. With `deadline` (time.monotonic()), the whole frame must arrive by then, else socket.timeout;
    without, the socket's own timeout bounds each read."""
    doc_len, blob_len = HEADER.unpack(_recv_exact(sock, HEADER.size, deadline))
    if doc_len > max_doc_bytes:
        raise ChannelError(f"message with {doc_len} bytes of JSON is larger than the {max_doc_bytes}-byte limit "
                           "(return arrays as numpy arrays or tensors, not long lists)")
    if doc_len + blob_len > max_bytes:
        raise ChannelError(f"message of {doc_len + blob_len} bytes is larger than the {max_bytes}-byte limit")
    doc = _recv_exact(sock, doc_len, deadline)
    blob = _recv_exact(sock, blob_len, deadline)
    return decode(doc, blob)
