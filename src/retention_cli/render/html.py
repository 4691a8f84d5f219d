"""HTML output: one self-contained page (inline CSS and SVG, no network), readable printed.

Every metric command's page carries its own chart: the ARR bridge as a
waterfall (floating bars on a zoomed axis), NRR and GRR over time, growth mix
over time (stacked acquisition, expansion and reactivation), logo and revenue
churn over time, cohort retention curves, unit economics over time. ``report``
has them all, after headline cards (ending ARR, NRR, GRR, logo churn, net new
ARR, quick ratio, each with its change against the previous period and the
same period a year earlier). Then each table, its caption and notes (metric
keys shown by their labels), and the definitions with their hash.

Printed (landscape), each section starts a page, tables wider than
:data:`PRINT_COLUMNS` columns are split into parts that repeat the row labels,
and the heat map keeps its colours (``print-color-adjust: exact``).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import retention_cli
from retention_cli.commands import display_spec
from retention_cli.keys import KEYS, Direction, Kind, spec_for
from retention_cli.render.table import (
    cells,
    display_columns,
    fmt_money,
    fmt_ratio,
    with_currency,
)
from retention_cli.render.values import heat_rgb, visible
from retention_cli.result import Report, Result

CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2330;
margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d7dbe3;padding-bottom:4px}
.meta{color:#5b6475;font-size:12px} .cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #d7dbe3;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px} .card span{display:block;color:#5b6475;font-size:12px}
.card .vs{font-size:11px} .good{color:#1f7a45} .bad{color:#b22222}
table{border-collapse:collapse;font-size:12px;margin:6px 0 4px}
th,td{padding:3px 8px;border-bottom:1px solid #e6e9ef;white-space:nowrap}
th{text-align:left;background:#f4f6f9} td.n{text-align:right;font-variant-numeric:tabular-nums} tr.total td{font-weight:600}
td.heat{color:#fff;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.cap{color:#5b6475;font-size:12px;margin:2px 0 10px} .note{color:#5b6475;font-size:12px;margin:2px 0}
.warn{color:#8a5300;font-size:12px;margin:2px 0} .charts{display:flex;flex-wrap:wrap;gap:24px}
svg{max-width:100%;height:auto} svg text{font:11px -apple-system,Segoe UI,Helvetica,Arial,sans-serif;fill:#1d2330}
svg text.dim{fill:#5b6475} .scroll{overflow-x:auto} .print{display:none}
@media print{@page{size:A4 landscape;margin:10mm}
body{margin:0;max-width:none;padding:0;font-size:11px}
.scroll{overflow:visible} .screen{display:none} .print{display:block}
table{font-size:9px;margin:4px 0} th,td{padding:2px 5px}
h2{break-after:avoid;page-break-after:avoid} section{break-before:page;page-break-before:always}
.charts{gap:12px} .charts svg{width:48%;break-inside:avoid}
.card,.charts,td.heat,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
tr{break-inside:avoid}}
"""
UP, DOWN, TOTAL = "#2e8b57", "#b22222", "#4a5d80"
SERIES = ("#4a5d80", "#2e8b57", "#c77c02", "#8e44ad", "#b22222", "#1f8fb0")
"""Line and column colours, in order."""
PRINT_COLUMNS = 12
"""Data columns per part when a wide table is printed (row labels repeat in each part)."""
W, H = 560, 280
"""Chart size (SVG units)."""


def _esc(text: str) -> str:
    """HTML-escaped text with control characters shown as visible escapes."""
    return html.escape(visible(text))


# ----------------------------------------------------------------------------- tables
def _table(result: Result) -> str:
    """The table on screen (one, scrolled when wide) and in print (split when wide)."""
    cols = display_columns(result)
    lines = cells(result, cols)
    heads = len(result.by) + (1 if cols and cols[0][0] == "period" else 0)
    data = cols[heads:]
    if len(data) <= PRINT_COLUMNS:
        return '<div class="scroll">' + _grid(result, cols, lines, range(len(cols))) + "</div>"
    out = ['<div class="scroll screen">', _grid(result, cols, lines, range(len(cols))), "</div>"]
    out.append('<div class="print">')
    for lo in range(heads, len(cols), PRINT_COLUMNS):
        picked = [*range(heads), *range(lo, min(lo + PRINT_COLUMNS, len(cols)))]
        out.append(_grid(result, cols, lines, picked))
    out.append("</div>")
    return "".join(out)


def _grid(
    result: Result, cols: list[tuple[str, str, str]], lines: list[list[str]], picked: Sequence[int]
) -> str:
    heat = display_spec(result.command).heat_map
    out = ["<table><thead><tr>"]
    out += [f"<th>{_esc(cols[j][1])}</th>" for j in picked]
    out.append("</tr></thead><tbody>")
    for row, line in zip(result.frame.iter_rows(named=True), lines, strict=True):
        total = bool(result.by) and all(row[d] is None for d in result.by)
        out.append('<tr class="total">' if total else "<tr>")
        for j in picked:
            key, _, kind = cols[j]
            css = ["n"] if kind == "number" else []
            style = ""
            if heat and spec_for(key).heat and row[key] is not None:
                r, g, b = heat_rgb(row[key])
                style = f' style="background:rgb({r},{g},{b})"'
                css.append("heat")
            cls = f' class="{" ".join(css)}"' if css else ""
            out.append(f"<td{cls}{style}>{_esc(line[j])}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_KEY_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|^[a-z]+(?= is )")


def labelled(text: str) -> str:
    """A note with the metric keys in it shown by their labels.

    Examples
    --------
    >>> labelled("ltv_to_cac is null in FY2026: no spend")
    'LTV:CAC is null in FY2026: no spend'
    >>> labelled("nrr is null in 2025-01: no cohort")
    'NRR is null in 2025-01: no cohort'
    """

    def label(match: re.Match[str]) -> str:
        key = match.group(0)
        if key not in KEYS:
            return key
        return spec_for(key).label.removeprefix("+ ").removeprefix("− ")

    return _KEY_WORD.sub(label, text)


def _remarks(result: Result) -> str:
    out = [f'<p class="cap">{_esc(result.caption)}</p>']
    out += [f'<p class="note">Note: {_esc(labelled(n))}</p>' for n in result.notes]
    return "".join(out)


# ----------------------------------------------------------------------------- data for charts
def _totals(result: Result) -> list[dict[str, Any]]:
    """The rows of the whole business (a split's total rows)."""
    rows = result.frame.to_dicts()
    if result.by:
        rows = [r for r in rows if all(r[d] is None for d in result.by)]
    return rows


def _short(cents: float, decimals: int = 1) -> str:
    """``8.1M``, ``-120.5k``, ``950``: a money figure in currency units, abbreviated."""
    units = cents / 100
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(units) >= size:
            return f"{units / size:,.{decimals}f}{suffix}"
    return f"{units:,.0f}"


def _signed(text: str) -> str:
    """``+120.5k`` for a gain; a loss keeps its minus and nothing moved stays ``0``."""
    return text if text.startswith("-") or text == "0" else "+" + text


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / max(ticks, 1)
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _svg(title: str, label: str) -> list[str]:
    return [
        f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{_esc(label)}">',
        f'<text x="4" y="14" font-weight="600">{_esc(title)}</text>',
    ]


def _legend(items: Sequence[tuple[str, str, str]], y: float = 30) -> str:
    """Swatches with names on one line: ``(name, colour, dash)``."""
    out, x = [], 4.0
    for name, color, dash in items:
        out.append(f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 18:.0f}" y2="{y - 4}" '
                   f'stroke="{color}" stroke-width="3"{dash}/>')  # fmt: skip
        out.append(f'<text x="{x + 22:.0f}" y="{y}">{_esc(name)}</text>')
        x += 30 + 6.5 * len(name)
    return "".join(out)


def _x_labels(periods: Sequence[str], xs: Sequence[float], y: float) -> str:
    """At most about eight labels, evenly spaced back from the last period."""
    width = max((len(p) for p in periods), default=1) * 6.5 + 8
    room = (xs[-1] - xs[0]) / max(len(xs) - 1, 1) if len(xs) > 1 else width
    every = max(math.ceil(len(periods) / 8), math.ceil(width / room), 1)
    return "".join(
        f'<text x="{xs[i]:.1f}" y="{y:.0f}" text-anchor="middle">{_esc(periods[i])}</text>'
        for i in sorted(range(len(periods) - 1, -1, -every))
    )


def _line_chart(
    title: str,
    periods: list[str],
    series: list[tuple[str, list[float | None]]],
    fmt: Callable[[float], str],
    *,
    mark: tuple[float, str] | None = None,
    floor: float | None = None,
    short: Sequence[str] | None = None,
) -> str:
    """Lines over the periods with a legend, each labelled at its last value (by its
    ``short`` name when given), and an optional reference ``mark`` (100% for NRR and GRR)."""
    values = [v for _, vs in series for v in vs if v is not None]
    if not values or len(periods) < 1:
        return ""
    lo, hi = min(values), max(values)
    if mark is not None:
        lo, hi = min(lo, mark[0]), max(hi, mark[0])
    span = hi - lo or abs(hi) or 1.0
    lo, hi = lo - span * 0.08, hi + span * 0.08
    if floor is not None:
        lo = max(lo, floor)
    names = list(short) if short is not None else [name for name, _ in series]
    longest = max(len(f"{n} {fmt(v)}") for n, (_, vs) in zip(names, series, strict=True)
                  for v in vs if v is not None)  # fmt: skip
    left, right, top, bottom = 52, min(longest * 6.2 + 12, 170), 44, 30
    step = (W - left - right) / max(len(periods) - 1, 1)
    xs = [left + i * step for i in range(len(periods))]

    def y(v: float) -> float:
        return H - bottom - (v - lo) / (hi - lo) * (H - top - bottom)

    out = _svg(title, title)
    dashes = [
        "",
        ' stroke-dasharray="6 4"',
        ' stroke-dasharray="2 3"',
        ' stroke-dasharray="8 3 2 3"',
    ]
    styles = [(SERIES[i % len(SERIES)], dashes[i % len(dashes)]) for i in range(len(series))]
    out.append(_legend([(name, c, d) for (name, _), (c, d) in zip(series, styles, strict=True)]))
    tick = _nice_step(hi - lo)
    v = math.ceil(lo / tick) * tick
    while v <= hi + 1e-12:
        out.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{W - right}" y2="{y(v):.1f}" stroke="#e6e9ef"/>'
        )
        out.append(
            f'<text class="dim" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_esc(fmt(v))}</text>'
        )
        v += tick
    if mark is not None:
        my = y(mark[0])
        out.append(f'<line x1="{left}" y1="{my:.1f}" x2="{W - right}" y2="{my:.1f}" '
                   'stroke="#8a93a6" stroke-dasharray="3 3"/>')  # fmt: skip
        out.append(f'<text class="dim" x="{left + 4}" y="{my - 4:.1f}">{_esc(mark[1])}</text>')
    ends: list[tuple[float, str, str]] = []
    for (name, vs), (color, dash), end_name in zip(series, styles, names, strict=True):
        pts = [(xs[i], y(v), periods[i], v) for i, v in enumerate(vs) if v is not None]
        if not pts:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
        )
        for px, py, period, v in pts:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}">'
                       f"<title>{_esc(f'{period} {name} {fmt(v)}')}</title></circle>")  # fmt: skip
        px, py, _, v = pts[-1]
        ends.append((py, f"{end_name} {fmt(v)}", color))
    placed: list[float] = []
    for py, text, color in sorted(ends):
        ly = max([py + 4, *(p + 13 for p in placed)])
        placed.append(ly)
        out.append(f'<text x="{W - right + 6}" y="{ly:.1f}" fill="{color}" style="fill:{color}">'
                   f"{_esc(text)}</text>")  # fmt: skip
    out.append(_x_labels(periods, xs, H - bottom + 16))
    out.append("</svg>")
    return "".join(out)


def _columns_chart(
    title: str,
    periods: list[str],
    series: list[tuple[str, list[float]]],
    fmt: Callable[[float], str],
) -> str:
    """Stacked columns per period with a legend and each column's total on top."""
    totals = [sum(vs[i] for _, vs in series) for i in range(len(periods))]
    if not periods or max(totals, default=0) <= 0:
        return ""
    left, right, top, bottom = 52, 12, 48, 30
    hi = max(totals) * 1.1
    slot = (W - left - right) / len(periods)
    bw = max(min(slot * 0.7, 48), 2)

    def y(v: float) -> float:
        return H - bottom - v / hi * (H - top - bottom)

    out = _svg(title, title)
    colors = [SERIES[(i + 1) % len(SERIES)] for i in range(len(series))]
    out.append(_legend([(name, c, "") for (name, _), c in zip(series, colors, strict=True)]))
    tick = _nice_step(hi)
    v = 0.0
    while v <= hi + 1e-9:
        out.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{W - right}" y2="{y(v):.1f}" stroke="#e6e9ef"/>'
        )
        out.append(
            f'<text class="dim" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_esc(fmt(v))}</text>'
        )
        v += tick
    xs = []
    for i, period in enumerate(periods):
        x = left + i * slot + (slot - bw) / 2
        xs.append(x + bw / 2)
        level = 0.0
        for (name, vs), color in zip(series, colors, strict=True):
            if vs[i] <= 0:
                continue
            y0, y1 = y(level), y(level + vs[i])
            out.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bw:.1f}" height="{y0 - y1:.1f}" '
                       f'fill="{color}"><title>{_esc(f"{period} {name} {fmt(vs[i])}")}</title></rect>')  # fmt: skip
            level += vs[i]
        if len(periods) <= 12:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{y(level) - 4:.1f}" text-anchor="middle">'
                       f"{_esc(fmt(totals[i]))}</text>")  # fmt: skip
    out.append(
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{W - right}" y2="{y(0):.1f}" stroke="#8a93a6"/>'
    )
    out.append(_x_labels(periods, xs, H - bottom + 16))
    out.append("</svg>")
    return "".join(out)


# ----------------------------------------------------------------------------- the charts
def _waterfall(bridge: Result) -> str:
    """The last period's bridge: start and end ARR, each movement a floating bar.

    The axis is zoomed to where the movements happen (a zigzag on the axis and
    on the start and end bars says they are cut), and each bar is labelled.
    """
    rows = [r for r in _totals(bridge) if r["start_arr"] is not None and r["new_arr"] is not None]
    if not rows:
        return ""
    r, cur = rows[-1], bridge.currency
    steps = [
        ("Start", r["start_arr"], "total"),
        ("New", r["new_arr"], "up"),
        ("Reactivation", r["reactivation_arr"], "up"),
        ("Expansion", r["expansion_arr"], "up"),
        ("Contraction", -r["contraction_arr"], "down"),
        ("Churn", -r["churned_arr"], "down"),
        # dated fx: the move in rates, so the bars still land on the end
        *(
            [("FX impact", fx, "up" if fx >= 0 else "down")]
            if (fx := r.get("fx_impact_arr")) is not None
            else []
        ),
        ("End", r["end_arr"], "total"),
    ]
    level, bars = 0, []
    for name, amount, kind in steps:
        if kind == "total":
            bars.append((name, None, amount, kind, amount))
            level = amount
        else:
            lo, hi = sorted((level, level + amount))
            bars.append((name, lo, hi, kind, amount))
            level += amount
    levels = [v for _, lo, hi, _, _ in bars for v in (lo, hi) if v is not None]
    low, high = min(levels), max(levels)
    moved = high - low or max(abs(high), 100)
    step = _nice_step(moved * 1.6)
    floor = max(math.floor((low - moved * 0.35) / step) * step, 0)
    if floor < moved * 0.5:
        floor = 0  # little to gain from zooming: show the whole bars
    ceiling = high + moved * 0.18
    left, right, top, bottom, gap = 56, 10, 40, 30, 14
    bw = (W - left - right - gap * (len(bars) - 1)) / len(bars)

    def y(v: float) -> float:
        return H - bottom - (v - floor) / (ceiling - floor) * (H - top - bottom)

    decimals = 1
    while decimals < 4 and r["start_arr"] != r["end_arr"] and \
            _short(r["start_arr"], decimals) == _short(r["end_arr"], decimals):  # fmt: skip
        decimals += 1
    title = f"ARR bridge, {r['period']}"
    out = _svg(title, title)
    if floor > 0:
        out.append(f'<text class="dim" x="4" y="30">Axis starts at {_esc(with_currency(_short(floor), cur))} '
                   "(zigzag: bars cut)</text>")  # fmt: skip
    tick = _nice_step(ceiling - floor)
    v = math.ceil(floor / tick) * tick
    while v <= ceiling:
        out.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{W - right}" y2="{y(v):.1f}" stroke="#e6e9ef"/>'
        )
        out.append(f'<text class="dim" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
                   f"{_esc(with_currency(_short(v), cur))}</text>")  # fmt: skip
        v += tick
    prev_top: float | None = None
    for i, (name, lo, hi, kind, amount) in enumerate(bars):
        x = left + i * (bw + gap)
        base = floor if lo is None else lo
        y0, y1 = y(base), y(hi)
        height = max(y0 - y1, 1.0)
        color = {"total": TOTAL, "up": UP, "down": DOWN}[kind]
        full = with_currency(fmt_money(amount), cur)
        out.append(f'<rect x="{x:.1f}" y="{y0 - height:.1f}" width="{bw:.1f}" height="{height:.1f}" '
                   f'fill="{color}"><title>{_esc(name)}: {_esc(full)}</title></rect>')  # fmt: skip
        if kind == "total" and floor > 0:  # the cut: a white zigzag across the bar's foot
            zy = y0 - 10
            out.append(f'<polyline points="{x - 2:.1f},{zy + 3:.1f} {x + bw / 4:.1f},{zy - 3:.1f} '
                       f'{x + bw / 2:.1f},{zy + 3:.1f} {x + 3 * bw / 4:.1f},{zy - 3:.1f} '
                       f'{x + bw + 2:.1f},{zy + 3:.1f}" fill="none" stroke="#fff" stroke-width="4"/>')  # fmt: skip
        if prev_top is not None:  # connector from the previous bar's level
            out.append(f'<line x1="{x - gap:.1f}" y1="{prev_top:.1f}" x2="{x:.1f}" y2="{prev_top:.1f}" '
                       'stroke="#8a93a6" stroke-dasharray="2 2"/>')  # fmt: skip
        level_after = hi if kind != "down" else lo
        prev_top = y(level_after if level_after is not None else hi)
        text = _short(amount, decimals) if kind == "total" else _signed(_short(amount))
        out.append(f'<text x="{x + bw / 2:.1f}" y="{y1 - 4:.1f}" text-anchor="middle" font-weight="600">'
                   f"{_esc(with_currency(text, cur))}</text>")  # fmt: skip
        out.append(
            f'<text x="{x + bw / 2:.1f}" y="{H - bottom + 16}" text-anchor="middle">{_esc(name)}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{H - bottom}" x2="{W - right}" y2="{H - bottom}" stroke="#8a93a6"/>'
    )
    if floor > 0:  # the break mark on the axis
        bx, by = left, H - bottom - 8
        out.append(f'<polyline points="{bx - 6},{by + 4} {bx},{by - 2} {bx},{by + 2} {bx + 6},{by - 4}" '
                   'fill="none" stroke="#8a93a6" stroke-width="1.5"/>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _ratio_lines(
    result: Result,
    keys: Sequence[str],
    title: str,
    *,
    mark: bool,
    short: Sequence[str] | None = None,
) -> str:
    rows = _totals(result)
    keys_in, keys = keys, [k for k in keys if k in result.keys]
    rows_with = [r for r in rows if any(r[k] is not None for k in keys)]
    if not rows_with:
        return ""
    first = rows.index(rows_with[0])
    rows = rows[first:]
    series = [(spec_for(k).label, [r[k] for r in rows]) for k in keys]
    names = [n for k, n in zip(keys_in, short, strict=True) if k in keys] if short else None
    return _line_chart(
        title, [r["period"] for r in rows], series, fmt_ratio,
        mark=(1.0, "100%") if mark else None, short=names,
    )  # fmt: skip


def _trend(retention: Result) -> str:
    """NRR and GRR over the periods that have them, with a 100% mark."""
    return _ratio_lines(retention, ("nrr", "grr"), "NRR and GRR over time", mark=True)


def _churn_lines(churn: Result) -> str:
    """Logo and revenue churn per period."""
    keys = ("period_logo_churn_rate", "period_gross_revenue_churn", "period_net_revenue_churn")
    return _ratio_lines(
        churn, keys, "Logo and revenue churn over time", mark=False, short=("Logo", "Gross", "Net")
    )


def _growth_mix(mix: Result) -> str:
    """Gross new ARR per period, stacked by where it came from."""
    rows = [r for r in _totals(mix) if r["gross_new_arr"] is not None]
    if not rows:
        return ""
    parts = (("acquisition_share", "Acquisition"), ("expansion_share", "Expansion"),
             ("reactivation_share", "Reactivation"))  # fmt: skip
    series = [(name, [r["gross_new_arr"] * (r[k] or 0) for r in rows]) for k, name in parts]
    cur = mix.currency
    return _columns_chart(
        "Growth mix over time (gross new ARR)",
        [r["period"] for r in rows],
        series,
        lambda v: with_currency(_short(v), cur),
    )


def _cohort_curves(cohorts: Result) -> str:
    """The latest cohorts' values by age (up to six)."""
    ages = [k for k in cohorts.keys if spec_for(k).heat]
    rows = [r for r in _totals(cohorts) if any(r[a] is not None for a in ages)][-6:]
    if not ages or not rows:
        return ""
    reached = [i for i, a in enumerate(ages) if any(r[a] is not None for r in rows)]
    ages = ages[: reached[-1] + 1]
    unit = ages[0].split("_")[0]
    series = [(str(r["period"]), [r[a] for a in ages]) for r in rows]
    return _line_chart(
        f"Cohorts by {unit} of age", [spec_for(a).label for a in ages], series, fmt_ratio,
        mark=(1.0, "100%"), floor=0.0,
    )  # fmt: skip


def _economics_lines(economics: Result) -> str:
    """The efficiency multiples over time (LTV:CAC, magic number, burn multiple, ...)."""
    keys = [k for k in ("ltv_to_cac", "magic_number", "burn_multiple", "cs_efficiency")
            if k in economics.keys]  # fmt: skip
    rows = [r for r in _totals(economics) if any(r[k] is not None for k in keys)]
    if not rows:
        return ""
    series = [(spec_for(k).label, [r[k] for r in rows]) for k in keys]
    short = {"magic_number": "Magic", "burn_multiple": "Burn", "cs_efficiency": "CS"}
    return _line_chart("Unit economics over time (multiples)", [r["period"] for r in rows],
                       series, lambda v: f"{v:,.1f}×", short=[short.get(k, spec_for(k).label) for k in keys])  # fmt: skip


CHARTS: dict[str, Callable[[Result], str]] = {
    "bridge": _waterfall,
    "retention": _trend,
    "mix": _growth_mix,
    "churn": _churn_lines,
    "cohorts": _cohort_curves,
    "economics": _economics_lines,
}
"""The chart of each report section (and of the command behind it)."""


# ----------------------------------------------------------------------------- headline cards
CARDS = (
    ("bridge", "end_arr", "Ending ARR"),
    ("retention", "nrr", "NRR"),
    ("retention", "grr", "GRR"),
    ("retention", "logo_churn_rate", "Logo churn (window)"),
    ("mix", "net_new_arr", "Net new ARR"),
    ("mix", "quick_ratio", "Quick ratio"),
)
"""Headline cards: (section, key, name)."""
PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


def _figure(key: str, value: float | None, cur: str | None) -> str:
    kind = spec_for(key).kind
    if value is None:
        return "—"
    if kind is Kind.money:
        return with_currency(_short(value, 2), cur)
    if kind is Kind.ratio:
        return fmt_ratio(value)
    return f"{value:,.2f}"


def _change(key: str, now: float, then: float | None, cur: str | None) -> tuple[str, str]:
    """The change from ``then`` to ``now`` as text, and ``good``/``bad``/``""``."""
    if then is None:
        return "—", ""
    kind, diff = spec_for(key).kind, now - then
    if kind is Kind.money:
        pct = f" ({diff / abs(then) * 100:+.1f}%)" if then else ""
        text = with_currency(_signed(_short(diff)), cur) + pct
    elif kind is Kind.ratio:
        text = f"{diff * 100:+.1f}pp"
    else:
        text = f"{diff:+,.2f}"
    direction = spec_for(key).direction
    if diff == 0 or direction not in (Direction.higher_is_better, Direction.lower_is_better):
        return text, ""
    better = (diff > 0) == (direction is Direction.higher_is_better)
    return text, "good" if better else "bad"


def _cards(sections: dict[str, Result], grain: str) -> str:
    cards = []
    for name, key, title in CARDS:
        section = sections.get(name)
        if section is None or key not in section.keys:
            continue
        rows = [r for r in _totals(section) if r[key] is not None]
        if not rows:
            continue
        all_rows = _totals(section)
        last = rows[-1]
        at = all_rows.index(last)
        cur = section.currency
        lines = []
        year = PER_YEAR.get(grain, 0)
        for back in sorted({1, year} - {0}):
            then = all_rows[at - back] if at >= back else None
            value = then[key] if then is not None else None
            text, tone = _change(key, last[key], value, cur)
            label = (
                then["period"]
                if then is not None
                else ("a year earlier" if back > 1 else "previous")
            )
            cls = f"vs {tone}" if tone else "vs"
            lines.append(f'<span class="{cls}">vs {_esc(str(label))}: {_esc(text)}</span>')
        cards.append(f'<div class="card"><span>{_esc(title)}</span>'
                     f"<b>{_esc(_figure(key, last[key], cur))}</b><span>{_esc(str(last['period']))}</span>"
                     + "".join(lines) + "</div>")  # fmt: skip
    return '<div class="cards">' + "".join(cards) + "</div>" if cards else ""


# ----------------------------------------------------------------------------- the page
def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )


def _meta(result: Result | Report) -> str:
    info = result.input or {}
    parts = [f"retention {retention_cli.__version__}"]
    if info:
        parts.append(f"input {info.get('path')} (sha256 {str(info.get('sha256', ''))[:12]}…, "
                     f"{info.get('rows_used', 0):,} of {info.get('rows_read', 0):,} rows used)")  # fmt: skip
    parts.append(f"definitions sha256 {result.short_hash}…")
    if result.currency:
        parts.append(f"money in {result.currency}")
    if result.stamp:
        parts.append(f"generated {result.stamp}")
    return f'<p class="meta">{_esc(" · ".join(parts))}</p>'


def _definitions(result: Result | Report) -> str:
    rows = "".join(
        f"<tr><th>{_esc(str(k))}</th><td>{_esc(_flat(v))}</td></tr>"
        for k, v in result.definitions.items()
    )
    rows += f"<tr><th>definitions_sha256</th><td>{_esc(result.definitions_sha256)}</td></tr>"
    return f'<section><h2 id="definitions">Definitions</h2><table>{rows}</table></section>'


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return "—" if value is None else str(value)


def _section_of(result: Result) -> str:
    from retention_cli.commands import COMMANDS

    spec = COMMANDS.get(result.command)
    return (spec.section if spec is not None and spec.section else None) or result.command


def to_html(result: Result | Report) -> str:
    """The page as text (deterministic: no timestamps unless ``--stamp``)."""
    body = [f"<h1>{_esc(result.title)}</h1>", _meta(result)]
    warnings = list(result.warnings)
    one = isinstance(result, Result)
    sections = {_section_of(result): result} if one else dict(result.sections)
    grain = str(result.options.get("grain", ""))
    body.append(_cards(sections, grain))
    charts = [CHARTS[name](s) for name, s in sections.items() if name in CHARTS]
    if any(charts):
        body.append('<div class="charts">' + "".join(c for c in charts if c) + "</div>")
    if isinstance(result, Report):
        for name, section in result.sections.items():
            body.append(f'<section><h2 id="{_esc(name)}">{_esc(section.title)}</h2>')
            body.append(_table(section) + _remarks(section) + "</section>")
        body += [f'<p class="note">Note: {_esc(labelled(n))}</p>' for n in result.notes]
    else:
        body.append(_table(result) + _remarks(result))
    body += [f'<p class="warn">Warning: {_esc(w)}</p>' for w in warnings]
    body.append(_definitions(result))
    return _page(result.title, body)
