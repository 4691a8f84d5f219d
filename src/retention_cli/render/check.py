"""``retention check`` outputs: cell text, JUnit XML and a Markdown job summary."""

from __future__ import annotations

from typing import Any

from retention_cli.keys import Kind, spec_for
from retention_cli.render.values import markdown_text, visible_result
from retention_cli.result import Result


def fmt_metric_value(metric: str, value: float | None, *, change: bool = False) -> str:
    """A baseline, current value or change in the metric's own unit."""
    if value is None:
        return "—"
    sign = "+" if change and value > 0 else ""
    kind = spec_for(metric).kind
    if kind is Kind.ratio:
        text = f"{sign}{value * 100:.1f}{'pp' if change else '%'}"
        return text.replace("-0.0", "0.0").replace("+0.0", "0.0")
    if kind in (Kind.money, Kind.factor):
        return f"{sign}{value:,.2f}"
    return f"{sign}{value:,.4g}"


def check_cells(row: dict[str, Any]) -> dict[str, str]:
    """Display text of one verdict row, keyed like the row."""
    m = row["metric"]
    return {
        "metric": m,
        "segment": row["segment"],
        "check": row["check"],
        "baseline": fmt_metric_value(m, row["baseline"]),
        "now": fmt_metric_value(m, row["now"]),
        "change": fmt_metric_value(m, row["change"], change=True),
        "limit": row["limit"],
        "status": row["status"].upper(),
        "reason": row["reason"] or "",
    }


def to_junit(result: Result) -> str:
    """JUnit XML: one testcase per metric, segment and period; failures carry the numbers.

    Control characters in data (which XML 1.0 forbids even escaped) are written as
    visible escapes, so the file always parses.
    """
    import xml.etree.ElementTree as ET  # here: the table renderer imports this module too

    result = visible_result(result)
    rows = result.frame.to_dicts()
    failures = sum(r["status"] == "fail" for r in rows)
    suites = ET.Element("testsuites", name="retention check", tests=str(len(rows)),
                        failures=str(failures))  # fmt: skip
    suite = ET.SubElement(suites, "testsuite", name="retention check", tests=str(len(rows)),
                          failures=str(failures), errors="0", skipped="0")  # fmt: skip
    for row in rows:
        cells = check_cells(row)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"retention.{row['metric']}",
            name=f"{row['metric']} [{row['segment']}] {row['period']} ({row['check']})",
        )
        if row["status"] == "fail":
            detail = (
                f"{row['metric']} {row['segment']} {row['period']}: {row['reason']}; "
                f"baseline {cells['baseline']}, now {cells['now']}, change {cells['change']}, "
                f"limit {cells['limit']}"
            )
            failure = ET.SubElement(case, "failure", message=detail, type=row["reason"] or "fail")
            failure.text = detail
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def to_summary(result: Result) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: verdict, failures first, then the rest.

    Data text cannot split a row or embed raw HTML or control characters: see
    :func:`~retention_cli.render.values.markdown_text`.
    """
    rows = result.frame.to_dicts()
    failed = [r for r in rows if r["status"] == "fail"]
    icon = "❌" if failed else "✅"
    lines = [f"## {icon} {markdown_text(result.title)}", ""]
    head = ["status", "metric", "segment", "period", "baseline", "now", "change", "limit", "reason"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(":---" if h in ("status", "metric", "segment", "period") else "---:"
                                for h in head) + "|")  # fmt: skip
    for row in sorted(rows, key=lambda r: r["status"] != "fail"):
        c = check_cells(row)
        cells = [c["status"], c["metric"], c["segment"], row["period"], c["baseline"], c["now"],
                 c["change"], c["limit"], c["reason"]]  # fmt: skip
        lines.append("| " + " | ".join(markdown_text(x) for x in cells) + " |")
    lines += ["", f"_{markdown_text(result.caption)}_"]
    lines += [f"- warning: {markdown_text(w)}" for w in result.warnings]
    return "\n".join(lines) + "\n"
