"""Markdown output: a GitHub-flavoured table for pull requests and CI summaries."""

from __future__ import annotations

from dataclasses import replace

from retention_cli.render.table import caption_line, cells, display_columns
from retention_cli.render.values import markdown_text as _escape
from retention_cli.result import Report, Result


def to_markdown(result: Result | Report) -> str:
    """A heading, the table with the same columns and formats as the terminal, the
    definitions line with their short hash, notes and warnings; a report has its
    hash under its heading and one such block per section.

    Data text cannot split a row or embed raw HTML or control characters: see
    :func:`~retention_cli.render.values.markdown_text`.
    """
    if isinstance(result, Report):
        blocks = [f"## {_escape(result.title)}\n", f"_definitions {result.short_hash}_\n"]
        blocks += [_block(s, warnings=False, hashed=False) for s in result.sections.values()]
        tail = [f"- note: {_escape(n)}" for n in result.notes]
        tail += [f"- warning: {_escape(w)}" for w in result.warnings]
        return "\n".join(blocks) + ("\n" + "\n".join(tail) + "\n" if tail else "")
    return _block(result, warnings=True)


def _block(result: Result, *, warnings: bool, hashed: bool = True) -> str:
    cols = display_columns(result)
    lines = [f"### {_escape(result.title)}", ""]
    lines.append("| " + " | ".join(_escape(label) for _, label, _ in cols) + " |")
    lines.append("|" + "|".join(":---" if kind == "text" else "---:" for _, _, kind in cols) + "|")
    shown = result
    if result.table_limit is not None and result.frame.height > result.table_limit:
        shown = replace(result, frame=result.frame.head(result.table_limit))
    for row in cells(shown, cols):
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    if shown is not result:
        more = result.frame.height - shown.frame.height
        lines += ["", f"… and {more:,} more rows (`--top` changes how many; `-f csv` lists all)"]
    caption = caption_line(result) if hashed else result.caption
    lines += ["", f"_{_escape(caption)}_"]
    for n in result.notes:
        lines.append(f"- note: {_escape(n)}")
    for w in result.warnings if warnings else ():
        lines.append(f"- warning: {_escape(w)}")
    return "\n".join(lines) + "\n"
