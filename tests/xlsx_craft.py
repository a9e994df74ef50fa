"""Write minimal xlsx workbooks by hand, cell by cell: the crafted files no spreadsheet writer makes.

A workbook here is ``{sheet name: {cell reference: value}}``; numbers are written as numbers,
everything else as inline strings. ``dimension`` (optional) is written as the declared
``<dimension ref>`` of every sheet, true or not.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKSHEET = f"{_REL_NS}/worksheet"


#: Characters XML cannot hold (or would normalise, like CR): written as Excel does, ``_x000D_``.
_UNXML = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|[\ud800-\udfff]")


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = _UNXML.sub(lambda m: f"_x{ord(m[0]):04X}_", escape(str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _row_of(ref: str) -> int:
    return int(re.search(r"\d+", ref)[0])


def _sheet_xml(cells: dict[str, object], dimension: str | None) -> str:
    rows: dict[int, list[str]] = {}
    for ref, value in cells.items():
        rows.setdefault(_row_of(ref), []).append(_cell(ref, value))
    body = "".join(f'<row r="{r}">{"".join(rows[r])}</row>' for r in sorted(rows))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>{dim}<sheetData>{body}'
            "</sheetData></worksheet>")


def write_xlsx(path: Path, sheets: dict[str, dict[str, object]], dimension: str | None = None) -> Path:
    """Write ``sheets`` as an xlsx workbook at ``path`` (deflated, as Excel writes it)."""
    names = list(sheets)
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
        '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.'
                  'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(len(names)))
        + "</Types>")
    root_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
                 f'org/package/2006/relationships"><Relationship Id="rId1" Type="{_REL_NS}/officeDocument" '
                 'Target="xl/workbook.xml"/></Relationships>')
    workbook = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
                + "".join(f'<sheet name={quoteattr(n)} sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                          for i, n in enumerate(names))
                + "</sheets></workbook>")
    book_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
                 'org/package/2006/relationships">'
                 + "".join(f'<Relationship Id="rId{i + 1}" Type="{_WORKSHEET}" '
                           f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(names)))
                 + "</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", root_rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for i, name in enumerate(names):
            archive.writestr(f"xl/worksheets/sheet{i + 1}.xml", _sheet_xml(sheets[name], dimension))
    return path


def vinfo(rows: list[dict[str, object]]) -> dict[str, object]:
    """A vInfo sheet from records (header row 1, values from row 2), as cell references."""
    headers = list(dict.fromkeys(h for row in rows for h in row))
    cells = {f"{_letters(c + 1)}1": h for c, h in enumerate(headers)}
    for r, row in enumerate(rows, start=2):
        cells.update({f"{_letters(c + 1)}{r}": row[h] for c, h in enumerate(headers) if h in row})
    return cells


def _letters(column: int) -> str:
    text = ""
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text
