"""Text safety for human output: control characters shown as visible escapes.

Pure ``str`` functions with no heavy imports, so the CLI can escape its stderr
messages without loading Polars.
"""

from __future__ import annotations

__all__ = ["CONTROLS", "VISIBLE", "visible"]


def _escape_of(char: str) -> str:
    code = ord(char)
    short = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    if char in short:
        return short[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


CONTROLS = (
    *range(0x00, 0x20),  # C0: ESC starts colour, clear-screen, OSC title and clipboard sequences
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1: 0x9B is a one-byte CSI, 0x9D an OSC
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),  # bidi controls
    0x2028, 0x2029,  # line and paragraph separators
    0xFFFE, 0xFFFF,  # non-characters (not allowed in XML)
)  # fmt: skip
"""Code points that data text never shows raw in a human format."""

VISIBLE = {chr(c): _escape_of(chr(c)) for c in CONTROLS}
r"""Each control character and its visible escape: ``\x1b``, ``\u202e``, ``\n``."""

_VISIBLE_TABLE = str.maketrans(VISIBLE)


def visible(text: str) -> str:
    r"""``text`` with every control character shown as a visible escape.

    Terminal escape sequences, bidi overrides and line breaks in data then print
    as inert text; text without them is returned unchanged. A backslash already
    in the data is left as it is.

    Examples
    --------
    >>> visible("Acme\x1b[2J\u202eevil\n")
    'Acme\\x1b[2J\\u202eevil\\n'
    >>> visible("Mid-Market")
    'Mid-Market'
    """
    return text.translate(_VISIBLE_TABLE)
