"""Markdown output: a GitHub-flavoured table for pull requests and CI summaries."""

from __future__ import annotations

from retention_cli.render.table import cells, display_columns
from retention_cli.result import Result


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: Result) -> str:
    """A heading, the table with the same columns and formats as the terminal, the
    definitions line, and any warnings."""
    cols = display_columns(result)
    lines = [f"### {result.title}", ""]
    lines.append("| " + " | ".join(_escape(label) for _, label, _ in cols) + " |")
    lines.append("|" + "|".join(":---" if kind == "text" else "---:" for _, _, kind in cols) + "|")
    for row in cells(result, cols):
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    lines += ["", f"_{_escape(result.caption)}_"]
    for w in result.warnings:
        lines.append(f"- warning: {_escape(w)}")
    return "\n".join(lines) + "\n"
