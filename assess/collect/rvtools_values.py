"""Vectorised readers for RVTools cell values: text, numbers, booleans and times.

Each reader takes a raw column (object values as calamine or the CSV reader gave them) and
returns the typed column plus a mask of cells that held something it could not read, so
the caller can record one warning per column naming the first bad row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_TRUE = ("true", "yes", "1", "on", "enabled")
_FALSE = ("false", "no", "0", "off", "disabled")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def blank(raw: pd.Series) -> pd.Series:
    """True where a raw cell is empty (None, NaN or the empty string)."""
    values = raw.to_numpy()
    return pd.Series(pd.isna(values) | (values == ""), index=raw.index)


def text(raw: pd.Series) -> pd.Series:
    """Cells as trimmed strings; whole numbers without '.0'; empty cells as <NA>."""
    values = raw.to_numpy(dtype=object)
    try:  # the common case, every cell a string or empty: straight to arrow
        strings = pa.array(values, type=pa.string(), from_pandas=True)
    except pa.ArrowTypeError:  # numbers, booleans or dates among the cells
        strings = pa.array(_cell_texts(values), type=pa.string(), from_pandas=True)
    strings = pc.utf8_trim_whitespace(strings)
    strings = pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)
    return pd.Series(pd.arrays.ArrowStringArray(strings), index=raw.index)


def _cell_texts(values: np.ndarray) -> np.ndarray:
    """Non-string cells as text (None where empty), numbers vectorised."""
    empty = pd.isna(values) | (values == "")
    filled = pd.Series(values[~empty], dtype=object)
    if pd.api.types.infer_dtype(filled, skipna=True) in ("floating", "integer", "mixed-integer-float"):
        filled = _number_text(filled.astype("float64"))
    else:
        filled = filled.map(_cell_text)
    out = np.full(len(values), None, dtype=object)
    out[~empty] = filled.to_numpy(dtype=object)
    return out


def _number_text(values: pd.Series) -> pd.Series:
    """Numbers as text: whole numbers without '.0' (12389.0 -> '12389'), others as repr."""
    whole = (values % 1 == 0) & (values.abs() < 2**53)
    out = values.astype(object).astype(str)
    out[whole] = values[whole].astype("int64").astype(str)
    return out


def _cell_text(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def numbers(raw: pd.Series, decimal_comma: bool = False) -> tuple[pd.Series, pd.Series]:
    """Cells as floats. Accepts '0%', thousands separators ('16,384') and decimal commas ('5,27').

    Returns:
        (values, bad): bad is True where a non-empty cell is not a number.
    """
    values = pd.to_numeric(raw, errors="coerce") if not decimal_comma else pd.Series(
        np.nan, index=raw.index)
    values = values.astype("float64")
    rest = values.isna() & ~blank(raw)
    if rest.any():
        cleaned = raw[rest].astype("string").str.strip().str.rstrip("%").str.replace(
            r"[\s\u00a0']", "", regex=True)
        if decimal_comma:
            cleaned = cleaned.str.replace(".", "", regex=False)
        else:  # '16,384' is thousands; a comma left after that ('5,27') is a decimal comma
            thousands = cleaned.str.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
            cleaned = cleaned.mask(thousands, cleaned.str.replace(",", "", regex=False))
        cleaned = cleaned.str.replace(",", ".", regex=False)
        values[rest] = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        rest &= (cleaned != "").reindex(raw.index, fill_value=False).astype(bool)
    bad = rest & values.isna()
    return values, bad


def booleans(raw: pd.Series, empty_false: bool = False) -> tuple[pd.Series, pd.Series]:
    """Cells as booleans ('True'/'False', 'yes'/'no', 1/0, real booleans).

    Args:
        raw: the raw column.
        empty_false: read an empty cell as False (settings RVTools leaves empty when unset).
    """
    words = text(raw).str.lower()
    is_true = words.isin(_TRUE).to_numpy(dtype=bool)
    is_false = words.isin(_FALSE).to_numpy(dtype=bool)
    empty = words.isna().to_numpy(dtype=bool)
    out = pd.array(is_true, dtype="boolean")
    out[~(is_true | is_false | (empty & empty_false))] = pd.NA
    return pd.Series(out, index=raw.index), pd.Series(~(is_true | is_false | empty), index=raw.index)


def times(raw: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Cells as UTC timestamps: datetimes, Excel serial numbers or date strings.

    RVTools writes local times without a zone; they are taken as UTC.
    """
    empty = blank(raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    serial = pd.to_numeric(raw, errors="coerce")
    is_serial = serial.notna() & ~empty
    if is_serial.any():
        out[is_serial] = _EXCEL_EPOCH + pd.to_timedelta(serial[is_serial], unit="D")
    rest = ~empty & ~is_serial
    if rest.any():
        cells = raw[rest]
        if pd.api.types.infer_dtype(cells, skipna=True) == "datetime":  # real dates: fast path
            parsed = pd.to_datetime(cells.astype("datetime64[ns]"), utc=True)
        else:
            parsed = pd.to_datetime(cells, errors="coerce", format="mixed", dayfirst=dayfirst,
                                    utc=True)
        out[rest] = parsed.dt.tz_localize(None).astype("datetime64[ns]")
    bad = ~empty & out.isna()
    if bad.any():  # whitespace-only cells are empty, not bad
        bad[bad] = text(raw[bad]).notna().to_numpy(dtype=bool)
    return out.dt.tz_localize("UTC"), bad


def versions(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Hardware versions ('vmx-21', 21 or '21') as integers."""
    words = text(raw)
    out = pd.to_numeric(first_group(words, r"(\d+)"), errors="coerce").astype("Int64")
    return out, (words.notna() & out.isna()).astype(bool)


def first_group(words: pd.Series, pattern: str) -> pd.Series:
    """The first capture group of ``pattern`` in each string (<NA> where it does not match).

    Arrow's regex engine works on the whole column at once; pandas' ``str.extract`` calls
    Python's ``re`` once per cell.
    """
    named = pattern.replace("(", "(?P<g>", 1)
    found = pc.extract_regex(pa.array(words.array), named).flatten()[0]
    return pd.Series(pd.arrays.ArrowStringArray(found), index=words.index)
