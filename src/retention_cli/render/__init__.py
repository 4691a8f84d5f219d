"""Renderers: the only place that formats results for people and programs.

Every renderer takes a :class:`retention_cli.result.Result` the same way;
``render_text`` returns the bytes-to-be of a machine format, ``render_table``
prints a Rich table.
"""

from __future__ import annotations

from retention_cli.options import OutputFormat

FORMAT_BY_SUFFIX = {
    ".json": OutputFormat.json,
    ".csv": OutputFormat.csv,
    ".md": OutputFormat.markdown,
    ".markdown": OutputFormat.markdown,
    ".txt": OutputFormat.table,
    ".xlsx": OutputFormat.xlsx,
    ".html": OutputFormat.html,
    ".htm": OutputFormat.html,
}


def render_text(result, fmt: OutputFormat, *, meta: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Text of ``result`` in a machine format (json, csv, markdown, html); ``meta``
    adds the CSV's ``#`` header lines (definitions sha256, input)."""
    # each renderer is imported when used: a table on the terminal needs none of them
    if fmt is OutputFormat.json:
        from retention_cli.render.json import to_json

        return to_json(result)
    if fmt is OutputFormat.csv:
        from retention_cli.render.csv import to_csv

        return to_csv(result, meta=meta)
    if fmt is OutputFormat.markdown:
        from retention_cli.render.markdown import to_markdown

        return to_markdown(result)
    if fmt is OutputFormat.html:
        from retention_cli.render.html import to_html

        return to_html(result)
    msg = f"no text renderer for {fmt.value!r}"
    raise ValueError(msg)


__all__ = ["FORMAT_BY_SUFFIX", "render_text"]
