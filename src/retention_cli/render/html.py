"""HTML output: one self-contained page (inline CSS and SVG, no network), readable printed.

For ``report``: headline figures, the ARR bridge as a waterfall, NRR and GRR
over time, the cohort heat map, then every section's table and the
definitions. For a single command: its table, caption, notes and warnings.
"""

from __future__ import annotations

import html
from typing import Any

from retention_cli import __version__
from retention_cli.commands import display_spec
from retention_cli.keys import spec_for
from retention_cli.render.table import cells, display_columns, fmt_money, fmt_ratio
from retention_cli.render.values import heat_rgb, visible
from retention_cli.result import Report, Result

CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2330;
margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d7dbe3;padding-bottom:4px}
.meta{color:#5b6475;font-size:12px} .cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #d7dbe3;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px} .card span{color:#5b6475;font-size:12px}
table{border-collapse:collapse;font-size:12px;margin:6px 0 4px}
th,td{padding:3px 8px;border-bottom:1px solid #e6e9ef;white-space:nowrap}
th{text-align:left;background:#f4f6f9} td.n{text-align:right;font-variant-numeric:tabular-nums} tr.total td{font-weight:600}
.cap{color:#5b6475;font-size:12px;margin:2px 0 10px} .note{color:#5b6475;font-size:12px;margin:2px 0}
.warn{color:#8a5300;font-size:12px;margin:2px 0} .charts{display:flex;flex-wrap:wrap;gap:24px}
svg text{font:11px -apple-system,Segoe UI,Helvetica,Arial,sans-serif;fill:#1d2330}
.scroll{overflow-x:auto} @media print{body{margin:0;max-width:none}.scroll{overflow:visible}h2{page-break-after:avoid}}
"""
UP, DOWN, TOTAL = "#2e8b57", "#b22222", "#4a5d80"


def _esc(text: str) -> str:
    """HTML-escaped text with control characters shown as visible escapes."""
    return html.escape(visible(text))


def _table(result: Result) -> str:
    cols = display_columns(result)
    heat = display_spec(result.command).heat_map
    out = ['<div class="scroll"><table><thead><tr>']
    out += [f"<th>{_esc(label)}</th>" for _, label, _ in cols]
    out.append("</tr></thead><tbody>")
    for row, line in zip(result.frame.iter_rows(named=True), cells(result, cols), strict=True):
        total = bool(result.by) and all(row[d] is None for d in result.by)
        out.append('<tr class="total">' if total else "<tr>")
        for (key, _, kind), text in zip(cols, line, strict=True):
            style = ""
            if heat and spec_for(key).heat and row[key] is not None:
                r, g, b = heat_rgb(row[key])
                style = f' style="background:rgb({r},{g},{b});color:#fff"'
            css = ' class="n"' if kind == "number" else ""
            out.append(f"<td{css}{style}>{_esc(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    out.append(f'<p class="cap">{_esc(result.caption)}</p>')
    out += [f'<p class="note">Note: {_esc(n)}</p>' for n in result.notes]
    return "".join(out)


def _totals(result: Result) -> list[dict[str, Any]]:
    rows = result.frame.to_dicts()
    if result.by:
        rows = [r for r in rows if all(r[d] is None for d in result.by)]
    return rows


def _waterfall(bridge: Result) -> str:
    """The last period's bridge: start, each movement as a floating bar, end."""
    rows = [r for r in _totals(bridge) if r["start_arr"] is not None]
    if not rows:
        return ""
    r = rows[-1]
    steps = [
        ("Start", r["start_arr"], "total"),
        ("New", r["new_arr"], "up"),
        ("Reactivation", r["reactivation_arr"], "up"),
        ("Expansion", r["expansion_arr"], "up"),
        ("Contraction", -r["contraction_arr"], "down"),
        ("Churn", -r["churned_arr"], "down"),
        ("End", r["end_arr"], "total"),
    ]
    level, bars = 0, []
    for name, amount, kind in steps:
        if kind == "total":
            bars.append((name, 0, amount, kind, amount))
            level = amount
        else:
            lo, hi = sorted((level, level + amount))
            bars.append((name, lo, hi, kind, amount))
            level += amount
    top = max(max(hi for _, _, hi, _, _ in bars), 1)
    w, h, pad, bw = 560, 260, 40, 56
    scale = (h - 2 * pad) / top
    out = [f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
           f'aria-label="ARR bridge for {_esc(r["period"])}">']  # fmt: skip
    out.append(f'<text x="4" y="14">ARR bridge, {_esc(r["period"])}</text>')
    for i, (name, lo, hi, kind, amount) in enumerate(bars):
        x = pad + i * (bw + 20)
        y, height = h - pad - hi * scale, max((hi - lo) * scale, 1)
        color = {"total": TOTAL, "up": UP, "down": DOWN}[kind]
        label = fmt_money(amount)
        out.append(f'<rect x="{x}" y="{y:.1f}" width="{bw}" height="{height:.1f}" fill="{color}">'
                   f"<title>{_esc(name)}: {_esc(label)}</title></rect>")  # fmt: skip
        out.append(f'<text x="{x + bw / 2}" y="{y - 4:.1f}" text-anchor="middle">'
                   f"{_esc(_short(amount))}</text>")  # fmt: skip
        out.append(
            f'<text x="{x + bw / 2}" y="{h - pad + 14}" text-anchor="middle">{_esc(name)}</text>'
        )
    out.append(
        f'<line x1="{pad - 6}" y1="{h - pad}" x2="{w - 6}" y2="{h - pad}" stroke="#8a93a6"/>'
    )
    out.append("</svg>")
    return "".join(out)


def _short(cents: int) -> str:
    units = cents / 100
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(units) >= size:
            return f"{units / size:,.1f}{suffix}"
    return f"{units:,.0f}"


def _lines(retention: Result) -> str:
    """NRR and GRR over the periods that have them, as two lines with their values."""
    rows = [r for r in _totals(retention) if r["nrr"] is not None]
    if len(rows) < 1:
        return ""
    values = [v for r in rows for v in (r["nrr"], r["grr"]) if v is not None]
    lo, hi = min(min(values), 0.5), max(max(values), 1.0)
    w, h, pad = 560, 260, 44
    step = (w - 2 * pad) / max(len(rows) - 1, 1)

    def y(v: float) -> float:
        return h - pad - (v - lo) / (hi - lo) * (h - 2 * pad)

    out = [
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="NRR and GRR over time">'
    ]
    out.append('<text x="4" y="14">NRR (solid) and GRR (dashed)</text>')
    for ref in sorted({lo, 1.0, hi}):
        out.append(
            f'<line x1="{pad}" y1="{y(ref):.1f}" x2="{w - pad}" y2="{y(ref):.1f}" stroke="#e0e4ea"/>'
        )
        out.append(f'<text x="2" y="{y(ref) + 4:.1f}">{_esc(fmt_ratio(ref))}</text>')
    for key, dash, color in (("nrr", "", TOTAL), ("grr", ' stroke-dasharray="5 4"', UP)):
        pts = [(pad + i * step, y(r[key])) for i, r in enumerate(rows) if r[key] is not None]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
        )
        for (px, py), r in zip(pts, rows, strict=False):
            tip = f"{r['period']} {key.upper()} {fmt_ratio(r[key])}"
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}">'
                       f"<title>{_esc(tip)}</title></circle>")  # fmt: skip
    for i, r in enumerate(rows):
        if len(rows) <= 12 or i % max(len(rows) // 8, 1) == 0 or i == len(rows) - 1:
            out.append(f'<text x="{pad + i * step:.1f}" y="{h - pad + 16}" text-anchor="middle">'
                       f"{_esc(r['period'])}</text>")  # fmt: skip
    last = rows[-1]
    out.append(f'<text x="{w - pad}" y="{y(last["nrr"]) - 6:.1f}" text-anchor="end">'
               f"{_esc(fmt_ratio(last['nrr']))}</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _cards(report: Report) -> str:
    cards = []
    ret = report.sections.get("retention")
    if ret is not None:
        known = [r for r in _totals(ret) if r["nrr"] is not None]
        if known:
            r = known[-1]
            cards += [("NRR", fmt_ratio(r["nrr"]), r["period"]), ("GRR", fmt_ratio(r["grr"]), r["period"]),
                      ("Logo churn", fmt_ratio(r["logo_churn_rate"]), f"{r['period']}, trailing window")]  # fmt: skip
    mix = report.sections.get("mix")
    if mix is not None:
        rows = _totals(mix)
        if rows:
            r = rows[-1]
            cards.append(("Net new ARR", fmt_money(r["net_new_arr"]), r["period"]))
            qr = r["quick_ratio"]
            cards.append(("Quick ratio", "—" if qr is None else f"{qr:,.2f}", r["period"]))
    return '<div class="cards">' + "".join(
        f"<div class=card><span>{_esc(name)}</span><b>{_esc(value)}</b><span>{_esc(when)}</span></div>"
        for name, value, when in cards
    ) + "</div>"  # fmt: skip


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )


def _meta(result: Result | Report) -> str:
    info = result.input or {}
    parts = [f"retention {__version__}"]
    if info:
        parts.append(f"input {info.get('path')} (sha256 {str(info.get('sha256', ''))[:12]}…, "
                     f"{info.get('rows_used', 0):,} of {info.get('rows_read', 0):,} rows used)")  # fmt: skip
    parts.append(f"definitions sha256 {result.definitions_sha256[:12]}…")
    if result.stamp:
        parts.append(f"generated {result.stamp}")
    return f'<p class="meta">{_esc(" · ".join(parts))}</p>'


def _definitions(result: Result | Report) -> str:
    rows = "".join(
        f"<tr><th>{_esc(str(k))}</th><td>{_esc(_flat(v))}</td></tr>"
        for k, v in result.definitions.items()
    )
    return f"<h2>Definitions</h2><table>{rows}</table>"


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return "—" if value is None else str(value)


def to_html(result: Result | Report) -> str:
    """The page as text (deterministic: no timestamps)."""
    body = [f"<h1>{_esc(result.title)}</h1>", _meta(result)]
    warnings = list(result.warnings)
    if isinstance(result, Report):
        body.append(_cards(result))
        charts = []
        if "bridge" in result.sections:
            charts.append(_waterfall(result.sections["bridge"]))
        if "retention" in result.sections:
            charts.append(_lines(result.sections["retention"]))
        body.append('<div class="charts">' + "".join(c for c in charts if c) + "</div>")
        for name, section in result.sections.items():
            body.append(f'<h2 id="{_esc(name)}">{_esc(section.title)}</h2>')
            body.append(_table(section))
        body += [f'<p class="note">Note: {_esc(n)}</p>' for n in result.notes]
    else:
        body.append(_table(result))
    body += [f'<p class="warn">Warning: {_esc(w)}</p>' for w in warnings]
    body.append(_definitions(result))
    return _page(result.title, body)
