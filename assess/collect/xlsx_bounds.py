"""Refuse an xlsx workbook whose sheets would not fit in memory, before any reader allocates them.

An xlsx reader (calamine) holds a sheet as one dense grid from its first to its last cell,
about 40 bytes a cell: a 6.5 KB file whose only value sits at XFD1048576 asks for 17 billion
cells (512 GB, the process aborts), one at CO1048576 for 97 million (3.9 GB). The declared
``<dimension>`` cannot be trusted (RVTools pads it to row 1,048,576 on sheets of ten rows, and a
crafted file may understate it), so the cell references themselves are screened: one fast
search per sheet finds whether any reference is far (without one, its grid is at most 104
columns x 99,999 rows, within the limit); only a sheet that names a column past CZ or a row
past 99,999 gets the exact pass that reads every reference.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from assess.model.errors import AssessError

_CHUNK = 1 << 22
#: Cell references in a sheet part (``<c r="CO1048576">``); a ``<row r="...">`` without cells,
#: as RVTools pads sheets with, is no cell and makes no grid.
_REF = re.compile(rb'r="([A-Z]{1,3})(\d{1,7})"')
#: A reference past column CZ (104) or row 99,999: absent from most sheets, found in one search.
_FAR_REF = re.compile(rb'r="(?:[A-Z]{3}\d|[D-Z][A-Z]\d|[A-Z]{1,2}\d{6})')
#: The grid a sheet without far references can make at most.
_NEAR_GRID = 104 * 99_999


@dataclass(frozen=True)
class XlsxLimits:
    """What a workbook may hold before reading it is refused.

    Attributes:
        max_sheet_cells: rows x columns of one sheet's grid (first to last cell): 20 million
            cells is about 0.8 GB while read, more than any RVTools export of 100,000 VMs needs.
        max_unzipped_bytes: total uncompressed size of the workbook's parts.
    """

    max_sheet_cells: int = 20_000_000
    max_unzipped_bytes: int = 4 << 30


class XlsxBounds:
    """The parts of an xlsx workbook and the screen of each sheet against :class:`XlsxLimits`."""

    def __init__(self, path: Path, limits: XlsxLimits = XlsxLimits()):
        self.path, self.limits = Path(path), limits
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: dict[str, Future] = {}
        try:
            self.zip = zipfile.ZipFile(self.path)
            self.parts = _sheet_parts(self.zip)
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
            raise AssessError(f"{path}: cannot be read as an xlsx workbook ({exc}); is it a complete "
                              "RVTools export? Re-export or re-copy it") from exc
        unzipped = sum(info.file_size for info in self.zip.infolist())
        if unzipped > limits.max_unzipped_bytes:
            raise AssessError(f"{path}: unzips to {unzipped:,} bytes, over the limit of "
                              f"{limits.max_unzipped_bytes:,}; is it an RVTools export?")

    def screen_ahead(self, sheets: Iterable[str]) -> None:
        """Start screening ``sheets``, in that order, on a background thread.

        The screen is zlib and regex work on a sheet's XML; calamine releases the GIL while it
        parses the sheet before, so on two cores the screen costs little wall time. Every zip
        read happens on that one thread (a ``ZipFile`` is not safe to share between threads).
        """
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="xlsx-bounds")
        self._ahead = {
            sheet: self._pool.submit(self._check_now, sheet) for sheet in dict.fromkeys(sheets)}

    def check(self, sheet: str) -> None:
        """Raise :class:`AssessError` when ``sheet``'s grid would exceed ``max_sheet_cells``."""
        ahead = self._ahead.pop(sheet, None)
        if ahead is None and self._pool is not None:
            ahead = self._pool.submit(self._check_now, sheet)
        if ahead is None:
            self._check_now(sheet)
        else:
            ahead.result()

    def _check_now(self, sheet: str) -> None:
        part = self.parts.get(sheet)
        if part is None or part not in self.zip.NameToInfo:
            return  # the reader reports a missing sheet in its own words
        limit = self.limits.max_sheet_cells
        if _NEAR_GRID <= limit and not any(_FAR_REF.search(chunk) for chunk in _chunks(self.zip, part)):
            return
        rows, columns, ref = _extent(self.zip, part)
        if rows * columns > limit:
            raise AssessError(
                f"{self.path}, sheet {sheet}: a value at {ref} makes a grid of {rows:,} rows x "
                f"{columns:,} columns ({rows * columns:,} cells), over the limit of {limit:,} cells; "
                "the export is padded or crafted: re-export it from RVTools"
            )

    def close(self) -> None:
        """Stop screening ahead and close the zip file."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.zip.close()


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name (``xl/worksheets/sheet1.xml``) from the workbook and its relations."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for node in book.iter():
        if node.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in node.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        target = targets.get(rid, "")
        parts[node.get("name", "")] = (target.lstrip("/") if target.startswith("/")
                                       else posixpath.normpath(posixpath.join("xl", target)))
    return parts


def _chunks(archive: zipfile.ZipFile, part: str):
    """The part's bytes in chunks, each starting with the last 32 bytes of the one before."""
    tail = b""
    with archive.open(part) as handle:
        while chunk := handle.read(_CHUNK):
            yield tail + chunk
            tail = chunk[-32:]


def _extent(archive: zipfile.ZipFile, part: str) -> tuple[int, int, str]:
    """The last row and column referenced in ``part``, and the reference that sets the grid."""
    rows = columns = 1
    widest = ""
    for chunk in _chunks(archive, part):
        for letters, number in set(_REF.findall(chunk)):
            row, column = int(number), _column(letters)
            if row > rows or column > columns:
                widest = f"{letters.decode()}{row}"
            rows, columns = max(rows, row), max(columns, column)
    return rows, columns, widest


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
