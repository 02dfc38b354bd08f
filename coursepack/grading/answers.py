"""Answers as plain JSON-able data: encoded in the sandbox, decoded (rebuilt by value) in the grader.

Only plain values and dtypes cross from student code to the tests, so an object with a lying ``__eq__`` or
``__repr__`` never leaves the sandbox.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

_DTYPES = {f"{p}{n}" for p in ("int", "uint", "Int", "UInt") for n in (8, 16, 32, 64)} | {
    "float32", "float64", "Float32", "Float64", "bool", "boolean", "object", "str", "string",
    *(f"datetime64[{u}]" for u in ("s", "ms", "us", "ns")), *(f"timedelta64[{u}]" for u in ("s", "ms", "us", "ns")),
}
MAX_ITEMS = 200_000  #: most list items or table cells in one answer
MAX_STRING = 100_000  #: longest string in an answer


_exact_type, _int_repr, _str_copy = type, int.__repr__, str.__str__  # bound before any student code runs
_mro = type.__dict__["__mro__"].__get__
_NP_SCALARS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
               np.float32, np.float64, np.bool_)
#: Names the grader gives types in its messages: never read from the class, which the notebook may have written.
_KNOWN_NAMES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"), (tuple, "tuple"),
                (dict, "dict"), (set, "set"), (frozenset, "frozenset"), (bytes, "bytes"), (complex, "complex"),
                (pd.DataFrame, "pandas.DataFrame"), (pd.Series, "pandas.Series"), (pd.MultiIndex, "pandas.MultiIndex"),
                (pd.Index, "pandas.Index"), (pd.Timestamp, "pandas.Timestamp"), (pd.Timedelta, "pandas.Timedelta"),
                (np.ndarray, "numpy.ndarray"), (np.generic, "a NumPy scalar"), (type, "a class"))


def _is(kind, *types) -> bool:
    """Whether ``kind`` is one of ``types``, by identity (``==`` could be a metaclass's own)."""
    for candidate in types:
        if kind is candidate:
            return True
    return False


class Unsupported:
    """Stands in for an answer whose type the grader does not accept; fails every test."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self):
        return f"<answer of unsupported type {self.type_name}>"


def encode(value, budget: list | None = None):
    """A JSON-able, tagged description of ``value``, by value; unsupported types are named only.

    Types are compared exactly (``type(x) is int``), so subclasses (which can redefine ``==``,
    ``isinstance`` checks or ``repr``) are refused.
    """
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("answer too large")
    kind = _exact_type(value)
    if value is None or value is Ellipsis:
        return {"t": "none" if value is None else "ellipsis"}
    if kind is bool:
        return {"t": "bool", "v": value is True}
    if kind is int:
        return {"t": "int", "v": _int_repr(value)}
    if kind is str:
        if len(value) > MAX_STRING:
            raise ValueError("string too long")
        return {"t": "str", "v": _str_copy(value)}
    if kind is float:
        return {"t": "float", "v": float.__repr__(value)}
    if kind is list or kind is tuple:
        return {"t": "list" if kind is list else "tuple", "v": [encode(x, budget) for x in value]}
    if kind is dict:
        return {"t": "dict", "v": [[encode(k, budget), encode(v, budget)] for k, v in dict.items(value)]}
    if _is(kind, *_NP_SCALARS):
        return {"t": "np", "dtype": np.dtype(kind).name, "v": encode(value.item(), budget)}
    if kind is pd.Timestamp:
        return {"t": "timestamp", "v": value.isoformat(), "unit": value.unit}
    if kind is pd.Timedelta:
        return {"t": "timedelta", "v": int(value.value)}
    if value is pd.NA or value is pd.NaT:
        return {"t": "na" if value is pd.NA else "nat"}
    if kind is np.ndarray and value.ndim == 1 and str(value.dtype) in _DTYPES:
        return {"t": "ndarray", "dtype": str(value.dtype), "v": _encode_values(pd.Series(value), budget)}
    if kind is pd.Series:
        return {"t": "series", "dtype": _dtype(value), "name": encode(value.name, budget),
                "index": _encode_index(value.index, budget), "v": _encode_values(value, budget)}
    if kind is pd.DataFrame:
        columns = [value.iloc[:, i] for i in range(value.shape[1])]
        return {"t": "frame", "index": _encode_index(value.index, budget),
                "columns": _encode_index(value.columns, budget),
                "dtypes": [_dtype(c) for c in columns], "v": [_encode_values(c, budget) for c in columns]}
    return {"t": "unsupported", "type": _type_name(kind)}


def _type_name(kind) -> str:
    """A name for ``kind`` in the grader's words: a known type's, or "a subclass of X" / "a class defined
    in the notebook" (the class's own ``__name__``, ``__module__`` or metaclass are never asked)."""
    for known, name in _KNOWN_NAMES:
        if kind is known:
            return name
    try:
        bases = _mro(kind)
    except Exception:  # noqa: BLE001 - not a real class
        return "an unknown type"
    for known, name in _KNOWN_NAMES:
        if any(base is known for base in bases):
            return f"a subclass of {name}"
    return "a class defined in the notebook"


def _dtype(series) -> str:
    dtype = str(series.dtype)
    if dtype not in _DTYPES:
        raise TypeError(f"unsupported dtype {dtype}")
    return dtype


def _encode_index(index, budget):
    if _exact_type(index) is pd.MultiIndex:
        return {"t": "multi", "names": [encode(n, budget) for n in index.names],
                "levels": [_encode_index(pd.Index(index.get_level_values(i)), budget) for i in range(index.nlevels)]}
    if _exact_type(index) is pd.RangeIndex:
        return {"t": "range", "start": index.start, "stop": index.stop, "step": index.step,
                "name": encode(index.name, budget)}
    if not _is(_exact_type(index), pd.Index, pd.DatetimeIndex):
        raise TypeError(f"unsupported index ({_type_name(_exact_type(index))})")
    return {"t": "index", "dtype": _dtype(index), "name": encode(index.name, budget),
            "v": _encode_values(pd.Series(index), budget)}


def _encode_values(series, budget) -> list:
    """The values of a Series as JSON-able data (missing values as None)."""
    dtype = _dtype(series)
    budget[0] -= len(series)
    if budget[0] < 0:
        raise ValueError("answer too large")
    values = series.tolist()
    if dtype.startswith("datetime64"):
        return [None if v is pd.NaT else v.isoformat() for v in values]
    if dtype.startswith("timedelta64"):
        return [None if v is pd.NaT else int(v.value) for v in values]
    if dtype == "object":
        return [encode(v, budget) for v in values]
    return [None if (v is pd.NA or v is None or (type(v) is float and math.isnan(v) and dtype in ("str", "string")))
            else float.__repr__(v) if type(v) is float else v for v in values]


def decode(data):
    """Rebuild an answer from :func:`encode`'s description (raises on anything malformed)."""
    tag = data["t"]
    if tag in ("none", "ellipsis", "na", "nat"):
        return {"none": None, "ellipsis": ..., "na": pd.NA, "nat": pd.NaT}[tag]
    if tag == "bool":
        return bool(data["v"])
    if tag == "int":
        return int(data["v"])
    if tag == "str":
        return str(data["v"])
    if tag == "float":
        return float(data["v"])
    if tag in ("list", "tuple"):
        items = [decode(x) for x in data["v"]]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        return {decode(k): decode(v) for k, v in data["v"]}
    if tag == "np":
        return np.dtype(_allowed(data["dtype"])).type(decode(data["v"]))
    if tag == "timestamp":
        return pd.Timestamp(str(data["v"])).as_unit(str(data["unit"]))
    if tag == "timedelta":
        return pd.Timedelta(int(data["v"]), unit="ns")
    if tag == "ndarray":
        return _decode_values(data["v"], data["dtype"], None).to_numpy()
    if tag == "series":
        index = _decode_index(data["index"])
        series = _decode_values(data["v"], data["dtype"], index)
        series.name = decode(data["name"])
        return series
    if tag == "frame":
        index, columns = _decode_index(data["index"]), _decode_index(data["columns"])
        parts = [_decode_values(v, d, index) for v, d in zip(data["v"], data["dtypes"], strict=True)]
        frame = pd.DataFrame(dict(enumerate(parts)), index=index) if parts else pd.DataFrame(index=index)
        frame.columns = columns
        return frame
    if tag == "unsupported":
        return Unsupported(str(data["type"]))
    raise ValueError(f"unknown tag {tag!r}")


def _allowed(dtype: str) -> str:
    if dtype not in _DTYPES:
        raise ValueError(f"dtype {dtype!r} not accepted")
    return dtype


def _decode_values(values: list, dtype: str, index):
    dtype = _allowed(dtype)
    if dtype.startswith("datetime64"):
        series = pd.Series(pd.to_datetime([v for v in values]), index=index).astype(dtype)
    elif dtype.startswith("timedelta64"):
        series = pd.Series(pd.to_timedelta([v for v in values], unit="ns"), index=index).astype(dtype)
    elif dtype == "object":
        series = pd.Series([decode(v) for v in values], index=index, dtype=object)
    else:
        series = pd.Series([float(v) if type(v) is str and dtype.lower().startswith("float") else v for v in values],
                           index=index, dtype=dtype)
    if str(series.dtype) != dtype:
        raise ValueError(f"rebuilt dtype {series.dtype} instead of {dtype}")
    return series


def _decode_index(data):
    if data["t"] == "multi":
        levels = [_decode_index(level) for level in data["levels"]]
        if not levels or len(levels) > 32:
            raise ValueError("a MultiIndex of 1 to 32 levels")
        return pd.MultiIndex.from_arrays(levels, names=[decode(n) for n in data["names"]])
    if data["t"] == "range":
        return pd.RangeIndex(int(data["start"]), int(data["stop"]), int(data["step"]), name=decode(data["name"]))
    values = _decode_values(data["v"], data["dtype"], None)
    return pd.Index(values, dtype=data["dtype"], name=decode(data["name"]))
