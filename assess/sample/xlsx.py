"""A streaming xlsx (Office Open XML) writer for large, RVTools-shaped workbooks.

RVTools writes its export with the Open XML SDK: shared strings, a date style for date cells,
a frozen header row and an auto-filter per sheet. This writer produces the same structure row by
row, straight into the zip stream, so a 100,000-VM export needs neither the whole workbook in
memory nor per-cell Python objects. (XlsxWriter's ``constant_memory`` mode was measured at about
125,000 cells/s on the project's 2-core machine, i.e. minutes for a 100,000-VM export; this writer
is several times faster.) Entries carry a fixed zip timestamp, so the same rows give the same bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = datetime(1899, 12, 30)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FLUSH_PARTS = 50_000

_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="166" formatCode="yyyy/MM/dd HH:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="9"/><name val="Verdana"/><family val="2"/></font>'
    '<font><b/><sz val="9"/><name val="Verdana"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass
class Sheet:
    """One worksheet: its name, header and rows.

    Row values may be ``str`` (shared string), ``int``/``float`` (number), ``datetime`` (a
    date cell, as Excel serial with a date format) or ``None``/``""`` (no cell).
    """

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence]


def column_letter(index: int) -> str:
    """Excel column letters for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found


def _entry(zf: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def _write_sheet(zf: zipfile.ZipFile, part: str, sheet: Sheet, sst: _SharedStrings) -> int:
    letters = [column_letter(i) for i in range(len(sheet.columns))]
    info = zipfile.ZipInfo(part, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as out:
        head = (
            f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView>'
            '</sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData><row r="1">'
        )
        header = "".join(
            f'<c r="{col}1" s="2" t="s"><v>{sst(name)}</v></c>' for col, name in zip(letters, sheet.columns)
        )
        buf = [head, header, "</row>"]
        r = 1
        for r, row in enumerate(sheet.rows, start=2):
            buf.append(f'<row r="{r}">')
            for col, v in zip(letters, row):
                t = type(v)
                if t is str:
                    if v:
                        buf.append(f'<c r="{col}{r}" t="s"><v>{sst(v)}</v></c>')
                elif t is float or t is int:
                    if v == v:
                        buf.append(f'<c r="{col}{r}"><v>{v!r}</v></c>')
                elif t is datetime:
                    serial = (v - _EPOCH).total_seconds() / 86400
                    buf.append(f'<c r="{col}{r}" s="1"><v>{serial!r}</v></c>')
                elif v is not None:
                    raise TypeError(f"sheet {sheet.name}, row {r}, column {col}: unsupported {t.__name__}")
            buf.append("</row>")
            if len(buf) > _FLUSH_PARTS:
                out.write("".join(buf).encode())
                buf = []
        last = column_letter(max(len(sheet.columns) - 1, 0))
        buf.append(f'</sheetData><autoFilter ref="A1:{last}{r}"/></worksheet>')
        out.write("".join(buf).encode())
    return r - 1


def write_xlsx(path: Path, sheets: Iterable[Sheet], created: datetime) -> dict[str, int]:
    """Write ``sheets`` to the xlsx file ``path``; return the number of data rows per sheet.

    ``created`` is stamped as the document's creation time, so output is byte-for-byte
    reproducible for the same input.
    """
    sst = _SharedStrings()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for number, sheet in enumerate(sheets, start=1):
            counts[sheet.name] = _write_sheet(zf, f"xl/worksheets/sheet{number}.xml", sheet, sst)
        strings = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in sst.index)
        _entry(
            zf,
            "xl/sharedStrings.xml",
            f'{_HEAD}<sst xmlns="{_MAIN}" count="{len(sst.index)}" uniqueCount="{len(sst.index)}">'
            f"{strings}</sst>",
        )
        _entry(zf, "xl/styles.xml", _STYLES)
        _write_workbook(zf, list(counts))
        _write_doc_props(zf, created)
    return counts


def _write_workbook(zf: zipfile.ZipFile, names: list[str]) -> None:
    """The workbook, its relationships and the package's content types for sheets ``names``."""
    sheet_xml = "".join(
        f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1)
    )
    _entry(
        zf,
        "xl/workbook.xml",
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
        f"<sheets>{sheet_xml}</sheets></workbook>",
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    n = len(names)
    _entry(
        zf,
        "xl/_rels/workbook.xml.rels",
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}'
        f'<Relationship Id="rId{n + 1}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId{n + 2}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    _entry(
        zf,
        "[Content_Types].xml",
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}"
        '<Override PartName="/xl/sharedStrings.xml" '
        f'ContentType="{_CT}.spreadsheetml.sharedStrings+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/docProps/core.xml" '
        f'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/></Types>',
    )


def _write_doc_props(zf: zipfile.ZipFile, created: datetime) -> None:
    """The package relationships and document properties (creator RVTools, ``created`` stamped)."""
    _entry(
        zf,
        "_rels/.rels",
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>",
    )
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    _entry(
        zf,
        "docProps/core.xml",
        f"{_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>RVTools</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>',
    )
    _entry(
        zf,
        "docProps/app.xml",
        f'{_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application></Properties>",
    )
