"""Read an input file into a typed canonical frame, collecting every row problem.

The result of :func:`load` is a :class:`Loaded`: one row per input row that was
used, with canonical column names, money as ``Int64`` cents (exact) and dates
as ``Date``. Problems are reported with the file line they came from (the
header is line 1, so the first data record is line 2).
"""

from __future__ import annotations

import codecs
import difflib
import gzip
import hashlib
import io
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from retention_cli.config import CANONICAL_COLUMNS, Fx
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.options import Shape

LINE = "_line"
MOVEMENT_TYPES = ("new", "expansion", "contraction", "churn", "reactivation")
ADDING_TYPES = ("new", "expansion", "reactivation")
MAX_PROBLEMS_KEPT = 1000
MAX_SETTLE_ROUNDS = 50


REQUIRED: dict[Shape, tuple[str, ...]] = {
    Shape.movements: ("date", "account_id", "type", "amount"),
    Shape.snapshots: ("date", "account_id", "arr|mrr"),
    Shape.subscriptions: ("account_id", "start_date", "end_date", "arr|mrr"),
}


@dataclass(frozen=True)
class Source:
    """Where the data came from: display path, content hash, and row count."""

    path: str
    sha256: str
    rows_read: int


@dataclass
class Loaded:
    """A parsed input: canonical typed rows plus what was noticed on the way.

    ``frame`` columns by shape:

    * movements: ``account_id, date, type, amount`` (signed cents: contraction
      and churn negative)
    * snapshots: ``account_id, date, arr`` (cents)
    * subscriptions: ``account_id, start_date, end_date, arr`` (cents; ``end_date``
      null while active)

    plus one ``String`` column per dimension and ``_line`` (file line). From the
    one-pass reader for plain files, ``account_id`` and the dimensions are
    ``Categorical`` instead (same values).
    """

    frame: pl.DataFrame
    shape: Shape
    source: Source
    dimensions: list[str]
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    rejects: pl.DataFrame | None = None
    """With ``on_invalid="skip"``: the skipped rows as read, plus ``line`` and ``reason``."""
    problems: pl.DataFrame | None = None
    """With ``on_invalid="skip"``: every problem found (a :func:`problem_frame`)."""

    @property
    def rows_used(self) -> int:
        """Rows of the file that went into the ledger (read minus skipped)."""
        return self.source.rows_read - self.skipped


def normalize_header(name: str) -> str:
    """Header key for matching: lower case, no spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


# --------------------------------------------------------------------------- reading
def _sniff_separator(head: bytes) -> str:
    first = head.split(b"\n", 1)[0]
    counts = {sep: first.count(sep.encode()) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def read_bytes(path: str) -> tuple[bytes, str]:
    """Read the whole input (``-`` = standard input); return bytes and a display name."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    p = Path(path)
    if p.is_dir():
        raise InputError(path, [Problem("is a directory, not a data file")])
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(path, [Problem("file not found")]) from None
    except PermissionError:
        raise InputError(path, [Problem("permission denied")]) from None
    except OSError as exc:
        raise InputError(path, [Problem(f"cannot read file ({exc.strerror or exc})")]) from None
    return data, path


def read_table(
    path: str, *, separator: str | None = None, sheet: str | None = None
) -> tuple[pl.DataFrame, Source]:
    """Read a data file as all-``String`` columns plus ``_line``.

    File kinds: ``.csv``, ``.tsv``, ``.csv.gz``/``.tsv.gz``, ``.parquet``,
    ``.xlsx`` (the first sheet, or ``sheet`` by name or 1-based number; ``_line``
    is the spreadsheet row), and ``-`` for CSV on standard input. Nothing is
    type-inferred: every value is parsed later by explicit rules.
    """
    data, name = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        df = _read_xlsx(data, name, sheet)
        return df, Source(name, digest, df.height)
    if sheet is not None:
        msg = f"--sheet is for .xlsx files, not {name!r}"
        raise UsageError(msg)
    if lower.endswith(".parquet"):
        try:
            df = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:  # polars raises several kinds for a broken file
            raise InputError(name, [Problem(f"not a readable Parquet file ({exc})")]) from None
        df = df.select(pl.all().cast(pl.String))
        df = df.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
        return df, Source(name, digest, df.height)
    if lower.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(name, [Problem(f"not a readable gzip file ({exc})")]) from None
        lower = lower[:-3]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(name, [Problem("the file is empty", line=1)])
    bad = _first_bad_utf8(data)
    if bad is not None:
        line = data[:bad].count(b"\n") + 1
        raise InputError(
            name,
            [Problem("not valid UTF-8 text", line=line, value=repr(data[bad : bad + 8]))],
            hint="save the file as UTF-8 (CSV UTF-8 in Excel), or check that it is a CSV file",
        )
    if separator is None:
        separator = "\t" if lower.endswith(".tsv") else _sniff_separator(data[:65536])
    try:
        df = pl.read_csv(
            io.BytesIO(data),
            separator=separator,
            infer_schema=False,
            has_header=True,
            raise_if_empty=True,
        )
    except Exception as exc:  # polars' CSV errors are several classes; all mean "unreadable"
        ragged = _ragged_rows(data, separator)
        if ragged:
            raise InputError(
                name,
                ragged,
                hint="quote values that contain the delimiter, or check --delimiter",
            ) from None
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise InputError(
            name,
            [Problem(f"not a readable CSV file: {text}")],
            hint="check the delimiter (--delimiter), quoting and that every row has the header's columns",
        ) from None
    df = df.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
    return df, Source(name, digest, df.height)


def _first_bad_utf8(data: bytes, chunk: int = 1 << 22) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None; decodes in chunks so
    a large file is never held twice."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(view[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as exc:
            # the decoder may hold up to 3 bytes of a split character from the previous chunk
            return max(0, start + exc.start - len(exc.object) + len(view[start : start + chunk]))
    return None


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> pl.DataFrame:
    """The chosen sheet as text, one ``_line`` per spreadsheet row (the header is row 1)."""
    try:
        import fastexcel
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError(name, [Problem("reading .xlsx needs the fastexcel package")]) from None
    try:
        reader = fastexcel.read_excel(data)
        names = list(reader.sheet_names)
    except Exception as exc:  # fastexcel raises its own error classes for a broken file
        raise InputError(name, [Problem(f"not a readable .xlsx file ({exc})")]) from None
    if not names:
        raise InputError(name, [Problem("the workbook has no sheets")])
    chosen: str | int = 0
    if sheet is not None:
        if sheet in names:
            chosen = sheet
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            chosen = int(sheet) - 1
        else:
            raise InputError(
                name,
                [Problem(f"no sheet {sheet!r}")],
                hint=f"the workbook's sheets are: {', '.join(map(repr, names))}",
            )
    try:
        df = reader.load_sheet(chosen, dtypes="string").to_polars()
    except Exception as exc:
        raise InputError(
            name,
            [
                Problem(
                    f"cannot read sheet {names[chosen] if isinstance(chosen, int) else chosen!r} ({exc})"
                )
            ],
        ) from None
    if df.width == 0:
        raise InputError(name, [Problem("the sheet is empty", line=1)])
    df = df.select(pl.all().cast(pl.String))
    return df.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))


def _ragged_rows(data: bytes, separator: str) -> list[Problem]:
    """Rows with more fields than the header (what makes a CSV unreadable), by line."""
    import csv

    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    problems = []
    try:
        width = len(next(reader))
        for row in reader:
            if len(row) > width:
                problems.append(
                    Problem(
                        f"{len(row)} fields, but the header has {width}",
                        line=reader.line_num,
                        value=separator.join(row)[:60],
                    )
                )
                if len(problems) >= 20:
                    break
    except (csv.Error, StopIteration):
        return problems
    return problems


# --------------------------------------------------------------------------- mapping
def map_columns(
    headers: list[str],
    overrides: Mapping[str, str],
    *,
    path: str,
) -> dict[str, str]:
    """Map canonical names to the file's headers.

    ``overrides`` (config ``columns:`` merged with ``--column``) win; then a
    header matches a canonical name ignoring case, spaces, underscores and hyphens.
    """
    mapping: dict[str, str] = {}
    by_norm = {normalize_header(h): h for h in headers}
    for canonical, header in overrides.items():
        if header in headers:
            mapping[canonical] = header
        elif normalize_header(header) in by_norm:
            mapping[canonical] = by_norm[normalize_header(header)]
        else:
            near = difflib.get_close_matches(header, headers, n=1, cutoff=0.5)
            hint = f"did you mean {near[0]!r}? " if near else ""
            msg = f"column {header!r} (mapped to {canonical}) is not in the file"
            raise InputError(
                path,
                [Problem(msg, line=1)],
                hint=f"{hint}the file's headers are: {', '.join(map(repr, headers))}",
            )
    taken = set(mapping.values())
    for canonical in CANONICAL_COLUMNS:
        if canonical in mapping:
            continue
        header = by_norm.get(normalize_header(canonical))
        if header is not None and header not in taken:
            mapping[canonical] = header
            taken.add(header)
    return mapping


def detect_shape(
    mapping: Mapping[str, str], headers: list[str], *, path: str, shape: Shape | None = None
) -> Shape:
    """Pick the input shape from the mapped columns, or check a forced one."""

    def has(req: str) -> bool:
        return any(alt in mapping for alt in req.split("|"))

    candidates = (
        [shape] if shape is not None else [Shape.movements, Shape.subscriptions, Shape.snapshots]
    )
    for cand in candidates:
        if all(has(r) for r in REQUIRED[cand]):
            return cand
    if shape is not None:
        missing = [r.replace("|", " or ") for r in REQUIRED[shape] if not has(r)]
        lead = f"a {shape.value} file needs the column(s) {', '.join(missing)}"
    else:
        wants = "; ".join(
            f"{s.value}: {', '.join(r.replace('|', ' or ') for r in REQUIRED[s])}" for s in Shape
        )
        lead = f"cannot tell the input shape from the header (needs one of — {wants})"
    guesses = []
    for canonical in CANONICAL_COLUMNS:
        if canonical in mapping:
            continue
        near = difflib.get_close_matches(canonical, headers, n=1, cutoff=0.5)
        if near:
            guesses.append(f"--column {canonical}={near[0]!r}")
    hint = f"the file's headers are: {', '.join(map(repr, headers))}."
    if guesses:
        hint += f" Perhaps: {' '.join(guesses)}"
    else:
        hint += " Map yours with --column NAME=HEADER or `columns:` in the config."
    raise InputError(path, [Problem(lead, line=1)], hint=hint)


# --------------------------------------------------------------------------- parsing
_ISO_DAY = (
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_ISO_MONTH = r"^(\d{4}-\d{2})$"
_PLAIN_DAY = r"^\d{4}-\d{2}-\d{2}$"
_PLAIN_MONEY = r"^-?\d{1,15}(?:\.\d{1,2})?$"
_CURRENCY = r"^(?:[A-Z]{3}\s*)?[$€£¥]?\s*|\s*(?:[$€£¥]|\s[A-Z]{3})$"
_NUMBER = r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?$"


def parse_date(col: pl.Expr, *, date_format: str | None = None) -> pl.Expr:
    """Expression: ``Date`` from ISO ``YYYY-MM-DD``, ``YYYY-MM`` (first day) or an ISO
    datetime (its date part); null where the text is not one of those."""
    s = col.str.strip_chars()
    if date_format is not None:
        return pl.coalesce(
            s.str.to_date(date_format, strict=False),
            s.str.to_datetime(date_format, strict=False).dt.date(),
        )
    day = s.str.extract(_ISO_DAY, 1).str.to_date("%Y-%m-%d", strict=False)
    month = (s.str.extract(_ISO_MONTH, 1) + "-01").str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(day, month)


def plain_date(col: pl.Expr) -> pl.Expr:
    """``Date`` from ``YYYY-MM-DD`` text (null where it is not a real date)."""
    return col.str.to_date("%Y-%m-%d", strict=False)


def plain_cents(col: pl.Expr, multiplier: int = 1) -> pl.Expr:
    """Integer cents × ``multiplier`` from ``-?digits[.d[d]]`` text, by an exact decimal
    cast (null when out of range). Only for text known to be plain: the cast would
    truncate a third decimal and accept ``1e3``."""
    return (col.cast(pl.Decimal(18, 2), strict=False) * (100 * multiplier)).cast(
        pl.Int64, strict=False
    )


def _money_parts(col: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(digits text, is_negative, well_formed) of a money text."""
    s = col.str.strip_chars()
    paren = s.str.contains(r"^\(.*\)$")
    s = pl.when(paren).then(s.str.slice(1, s.str.len_chars() - 2).str.strip_chars()).otherwise(s)
    s = s.str.replace_all(_CURRENCY, "")
    sign = s.str.extract(r"^([+-])", 1)
    s = s.str.replace(r"^[+-]\s*", "").str.replace_all(_CURRENCY, "")
    neg = (sign == "-").fill_null(False) ^ paren
    ok = s.str.contains(_NUMBER) & s.str.contains(r"\d") & ~(paren & sign.is_not_null())
    return s.str.replace_all(",", ""), neg, ok


def _all_match(raw: pl.DataFrame, col: str, pattern: str) -> bool:
    """True when every (non-null) value of ``col`` matches ``pattern`` (one cheap pass)."""
    if raw.height == 0:
        return False
    return bool(raw.select(pl.col(col).str.contains(pattern).all()).item())


def money_stages(
    col: pl.Expr, name: str, *, multiplier: int = 1, plain: bool = False
) -> list[dict[str, pl.Expr]]:
    """Exact money parsing (SPEC §2.2) as successive ``with_columns`` passes.

    Each pass only reads columns made by earlier ones, so every value is parsed
    once. The last pass makes ``{name}`` (the amount times ``multiplier`` in
    integer cents, ``Int64``, rounded half away from zero; null when unparsable
    or out of range), ``{name}_ok`` (well formed) and ``{name}_rounded`` (the
    rounding changed the value: sub-cent input).

    ``plain=True`` says every value is ``-?digits[.d[d]]`` (see
    :func:`_all_match`): then an exact decimal cast does it in one pass.
    """
    if plain:
        cents = plain_cents(col, multiplier)
        return [
            {name: cents, f"{name}_ok": pl.lit(True), f"{name}_rounded": pl.lit(False)},
            {},
            {},
            {},
        ]
    digits, neg, ok = _money_parts(col)
    d, n, k, dec, whole = (f"{name}_{x}" for x in ("digits", "neg", "ok", "dec", "whole"))
    return [
        {d: digits, n: neg, k: ok},
        {dec: pl.col(d).cast(pl.Decimal(38, 6), strict=False) * (100 * multiplier)},
        {whole: pl.col(dec).round(0, mode="half_away_from_zero")},
        {
            name: pl.when(pl.col(k)).then(
                pl.when(pl.col(n))
                .then(-pl.col(whole).cast(pl.Int64, strict=False))
                .otherwise(pl.col(whole).cast(pl.Int64, strict=False))
            ),
            f"{name}_rounded": pl.col(k) & (pl.col(dec) != pl.col(whole)).fill_null(False),
        },
    ]


def money_cents(col: pl.Expr, *, multiplier: int = 1) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Single-expression form of :func:`money_stages`: ``(cents, well_formed, rounded)``."""
    digits, neg, ok = _money_parts(col)
    dec = digits.cast(pl.Decimal(38, 6), strict=False) * (100 * multiplier)
    whole = dec.round(0, mode="half_away_from_zero")
    cents = whole.cast(pl.Int64, strict=False)
    cents = pl.when(ok).then(pl.when(neg).then(-cents).otherwise(cents))
    rounded = ok & (dec != whole).fill_null(False)
    return cents, ok, rounded


# --------------------------------------------------------------------------- validation
def _problem(cond: pl.Expr, message: str | pl.Expr) -> pl.Expr:
    msg = pl.lit(message) if isinstance(message, str) else message
    return pl.when(cond).then(msg).otherwise(None)


def problem_frame(df: pl.DataFrame, checks: list[tuple[str, str, pl.Expr]]) -> pl.DataFrame:
    """Every problem the ``(column, raw_column, message_expr)`` checks find in ``df``.

    Columns ``_line``, ``_check`` (index of the check), ``column``, ``message``,
    ``value``; sorted by line, then check.
    """
    empty = pl.DataFrame(schema={LINE: pl.Int64, "_check": pl.Int32, "column": pl.String,
                                 "message": pl.String, "value": pl.String})  # fmt: skip
    if not checks or df.height == 0:
        return empty
    # one cheap pass first: most files have no problem at all, and the detailed
    # pass below then runs over the flagged rows only
    flagged = df.filter(pl.any_horizontal(expr.is_not_null() for _, _, expr in checks))
    if flagged.height == 0:
        return empty
    df = flagged
    parts = []
    for i, (column, raw, expr) in enumerate(checks):
        parts.append(
            df.lazy()
            .select(
                pl.col(LINE),
                pl.lit(i, dtype=pl.Int32).alias("_check"),
                pl.lit(column).alias("column"),
                expr.alias("message"),
                (pl.col(raw).cast(pl.String) if raw else pl.lit(None, dtype=pl.String)).alias(
                    "value"
                ),
            )
            .filter(pl.col("message").is_not_null())
        )
    return pl.concat(parts).sort(LINE, "_check").collect()


def problems_of(found: pl.DataFrame) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS_KEPT` rows of a :func:`problem_frame` as Problems."""
    return [
        Problem(r["message"], line=r[LINE], column=r["column"], value=r["value"])
        for r in found.head(MAX_PROBLEMS_KEPT).iter_rows(named=True)
    ]


def _collect_problems(
    df: pl.DataFrame, checks: list[tuple[str, str, pl.Expr]]
) -> tuple[list[Problem], int]:
    """Evaluate checks; the first problems and the total."""
    found = problem_frame(df, checks)
    return problems_of(found), found.height


def is_blank(col: pl.Expr) -> pl.Expr:
    """Null, empty or only whitespace (without materialising stripped copies)."""
    return col.str.contains(r"^\s*$").fill_null(True)


def _required_text(col: str, raw: str) -> tuple[str, str, pl.Expr]:
    return (col, raw, _problem(is_blank(pl.col(raw)), "missing value"))


@dataclass(frozen=True)
class _Layout:
    """How a header maps to the canonical columns: shape, value column, dimensions."""

    mapping: dict[str, str]
    shape: Shape
    value_col: str | None
    multiplier: int
    dimensions: list[str]
    warnings: tuple[str, ...]

    @classmethod
    def of(
        cls,
        headers: list[str],
        columns: Mapping[str, str] | None,
        shape: Shape | None,
        name: str,
    ) -> _Layout:
        mapping = map_columns(headers, columns or {}, path=name)
        shape = detect_shape(mapping, headers, path=name, shape=shape)
        warnings: list[str] = []
        value_col = None
        multiplier = 1
        if shape is not Shape.movements:
            if "arr" in mapping:
                value_col = mapping["arr"]
                if "mrr" in mapping:
                    warnings.append(
                        f"both an ARR column ({mapping['arr']!r}) and an MRR column "
                        f"({mapping['mrr']!r}): using ARR"
                    )
            else:
                value_col, multiplier = mapping["mrr"], 12
        used = {mapping[c] for c in REQUIRED_COLUMNS[shape] if c in mapping}
        if value_col:
            used.add(value_col)
        if "currency" in mapping:
            used.add(mapping["currency"])
        dims = [h for h in headers if h not in used and h not in mapping.values()]
        return cls(mapping, shape, value_col, multiplier, dims, tuple(warnings))


def load(
    path: str,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | None = None,
    date_format: str | None = None,
    separator: str | None = None,
    on_invalid: str = "error",
    fx: Fx | None = None,
    sheet: str | None = None,
) -> Loaded:
    """Read, map, parse and check an input file.

    Parameters
    ----------
    path
        File path, or ``-`` for CSV on standard input.
    columns
        Canonical name → the file's header (config ``columns:`` and ``--column``).
    shape
        Force ``movements``, ``snapshots`` or ``subscriptions`` instead of detecting it.
    date_format
        A ``strftime`` format for dates that are not ISO (e.g. ``%m/%d/%Y``).
    separator
        Field delimiter; detected from the header line when omitted.
    on_invalid
        ``error`` (default): any problem raises. ``skip``: rows with problems
        are left out and kept in ``Loaded.rejects`` with their reason; a
        movement that contradicts its account's running ARR is left out too,
        earliest first, until the rest agree.
    fx
        The config's ``fx``: a ``currency`` column is converted to its
        reporting currency (a currency with no rate is a row problem).

    Raises
    ------
    InputError
        With every problem found (first ones kept), each naming line, column and value.
    """
    if on_invalid == "error" and date_format is None and sheet is None:
        fast = _fast_load(path, columns=columns, shape=shape, separator=separator)
        if fast is not None:
            return fast
    raw, source = read_table(path, separator=separator, sheet=sheet)
    return parse_table(
        raw, source, columns=columns, shape=shape, date_format=date_format, on_invalid=on_invalid,
        fx=fx,
    )  # fmt: skip


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fast_load(
    path: str,
    *,
    columns: Mapping[str, str] | None,
    shape: Shape | None,
    separator: str | None,
) -> Loaded | None:
    """The common case in one streaming pass: a CSV or Parquet file on disk whose
    values are all plain (``YYYY-MM-DD`` dates, ``-?digits[.dd]`` amounts, no blanks).

    It returns exactly what :func:`parse_table` would (account ids and dimensions
    as ``Categorical``), or None when anything needs the full parser: a value that
    is not plain, a row problem, a ``currency`` column, or a file Polars cannot
    scan. The full parser then reads the file again and reports each problem.
    """
    if path == "-":
        return None
    p = Path(path)
    lower = path.lower()
    if lower.endswith((".xlsx", ".xlsm", ".gz")) or not p.is_file():
        return None
    try:
        if lower.endswith(".parquet"):
            lf = pl.scan_parquet(p).select(pl.all().cast(pl.String))
        else:
            with p.open("rb") as f:
                head = f.read(65536).removeprefix(b"\xef\xbb\xbf")
            if not head.strip():
                return None
            if separator is None:
                separator = "\t" if lower.endswith(".tsv") else _sniff_separator(head)
            lf = pl.scan_csv(p, separator=separator, infer_schema=False, has_header=True)
        headers = lf.collect_schema().names()
        layout = _Layout.of(headers, columns, shape, path)
    except Exception:  # the full parser says what is wrong
        return None
    m = layout.mapping
    if "currency" in m or LINE in headers:
        return None
    suspect: list[pl.Expr] = []

    def day(col: str, *, optional: bool = False) -> pl.Expr:
        raw = pl.col(col)
        parsed = plain_date(raw)
        ok = (raw.str.contains(_PLAIN_DAY) & parsed.is_not_null()).fill_null(False)
        suspect.append(~(ok | is_blank(raw)) if optional else ~ok)
        return parsed

    def money(col: str, multiplier: int) -> pl.Expr:
        raw = pl.col(col)
        cents = plain_cents(raw, multiplier)  # as money_stages(plain=True)
        suspect.append(~raw.str.contains(_PLAIN_MONEY).fill_null(False) | cents.is_null())
        return cents

    account = pl.col(m["account_id"]).str.strip_chars()
    suspect.append(account.str.len_bytes().fill_null(0) == 0)
    out: dict[str, pl.Expr] = {"account_id": account.cast(pl.Categorical)}
    if layout.shape is Shape.movements:
        out["date"] = day(m["date"])
        kind = pl.col(m["type"]).str.strip_chars().str.to_lowercase()
        amount = money(m["amount"], 1)
        adds = kind.is_in(ADDING_TYPES)
        suspect.append(~kind.is_in(MOVEMENT_TYPES).fill_null(False) | (adds & (amount < 0)))
        out["type"] = kind
        out["amount"] = pl.when(adds).then(amount).otherwise(-amount.abs())
    else:
        assert layout.value_col is not None
        if layout.shape is Shape.snapshots:
            out["date"] = day(m["date"])
        else:
            start, end = day(m["start_date"]), day(m["end_date"], optional=True)
            suspect.append((end <= start).fill_null(False))
            out["start_date"], out["end_date"] = start, end
        arr = money(layout.value_col, layout.multiplier)
        suspect.append(arr < 0)
        out["arr"] = arr
    for d in layout.dimensions:
        out[d] = pl.col(d).str.strip_chars().cast(pl.Categorical)
    query = lf.with_row_index(LINE, offset=2).select(
        *(e.alias(k) for k, e in out.items()),
        pl.col(LINE).cast(pl.Int64),
        pl.any_horizontal(suspect).alias("_suspect"),
    )
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(_sha256_file(p)))
    hasher.start()  # hashlib releases the GIL: the hash runs beside the scan
    try:
        frame = query.collect(engine="streaming")
    except Exception:  # unreadable (bad UTF-8, ragged rows, …): the full parser says why
        return None
    finally:
        hasher.join()
    if frame.height == 0 or frame["_suspect"].any():
        return None
    source = Source(path, digest[0], frame.height)
    loaded = Loaded(frame.drop("_suspect"), layout.shape, source, layout.dimensions,
                    list(layout.warnings))  # fmt: skip
    if layout.shape is Shape.movements:
        _settle_movement_states(loaded, skip=False)
    elif layout.shape is Shape.snapshots:
        _check_snapshot_duplicates(loaded)
    return loaded


def load_frame(
    data: pl.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | str | None = None,
    date_format: str | None = None,
    name: str = "<frame>",
    on_invalid: str = "error",
    fx: Fx | None = None,
) -> Loaded:
    """Like :func:`load`, for a DataFrame already in memory (e.g. in a notebook).

    Values are read through their text form with the same rules as a file, so
    a frame and the CSV it came from give the same result. Line numbers count
    as if the frame were a CSV with a header (first row = line 2).
    """
    raw = data.select(pl.all().cast(pl.String)).with_row_index(LINE, offset=2)
    raw = raw.with_columns(pl.col(LINE).cast(pl.Int64))
    buf = io.BytesIO()
    data.write_csv(buf)
    source = Source(name, hashlib.sha256(buf.getvalue()).hexdigest(), data.height)
    shape = Shape(shape) if isinstance(shape, str) else shape
    return parse_table(
        raw, source, columns=columns, shape=shape, date_format=date_format, on_invalid=on_invalid,
        fx=fx,
    )  # fmt: skip


def parse_table(
    raw: pl.DataFrame,
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | None = None,
    date_format: str | None = None,
    on_invalid: str = "error",
    fx: Fx | None = None,
) -> Loaded:
    """Map, parse and check an all-text table (see :func:`load`)."""
    keep_empty = on_invalid == "report"  # validate: skip, and never stop for want of rows
    on_invalid = "skip" if keep_empty else on_invalid
    if on_invalid not in ("error", "skip"):
        msg = f"--on-invalid: {on_invalid!r} is not one of: error, skip"
        raise UsageError(msg)
    name = source.path
    headers = [c for c in raw.columns if c != LINE]
    if source.rows_read == 0:
        raise InputError(name, [Problem("the file has a header but no data rows", line=1)])
    layout = _Layout.of(headers, columns, shape, name)
    mapping, shape, dims = layout.mapping, layout.shape, layout.dimensions
    value_col, multiplier = layout.value_col, layout.multiplier
    warnings = list(layout.warnings)
    # every value is parsed once, into staged "_"-columns; checks and outputs read those
    stages: list[dict[str, pl.Expr]] = [{}, {}, {}, {}]
    checks: list[tuple[str, str, pl.Expr]] = []
    acc = mapping["account_id"]
    checks.append(_required_text("account_id", acc))
    out: dict[str, pl.Expr] = {"account_id": pl.col(acc).str.strip_chars()}
    rounded_cols: list[str] = []

    def blank(col: str) -> pl.Expr:
        return is_blank(pl.col(col))

    def date_checks(canonical: str, *, optional: bool = False) -> pl.Expr:
        col = mapping[canonical]
        staged = f"_{canonical}"
        if date_format is None and _all_match(raw, col, _PLAIN_DAY):
            # fast path: every value is YYYY-MM-DD (impossible dates still come out null)
            stages[0][staged] = plain_date(pl.col(col))
        else:
            stages[0][staged] = parse_date(pl.col(col), date_format=date_format)
        parsed = pl.col(staged)
        fmt = date_format or "YYYY-MM-DD"
        if not optional:
            checks.append((canonical, col, _problem(blank(col), "missing date")))
        checks.append(
            (
                canonical,
                col,
                _problem(~blank(col) & parsed.is_null(), f"not a date (expected {fmt})"),
            )
        )
        return parsed

    def money_checks(canonical: str, col: str, mult: int) -> pl.Expr:
        staged = f"_{canonical}"
        plain = _all_match(raw, col, _PLAIN_MONEY)
        for stage, exprs in zip(
            stages, money_stages(pl.col(col), staged, multiplier=mult, plain=plain), strict=True
        ):
            stage.update(exprs)
        cents, ok = pl.col(staged), pl.col(f"{staged}_ok")
        checks.append((canonical, col, _problem(blank(col), "missing amount")))
        checks.append(
            (
                canonical,
                col,
                _problem(
                    ~blank(col) & ~ok,
                    "not a number (expected e.g. 1234.50, 1,234.50, $1,234.50 or (1,234.50))",
                ),
            )
        )
        checks.append(
            (canonical, col, _problem(~blank(col) & ok & cents.is_null(), "number out of range"))
        )
        rounded_cols.append(f"{staged}_rounded")
        return cents

    if shape is Shape.movements:
        out["date"] = date_checks("date")
        stages[0]["_type"] = pl.col(mapping["type"]).str.strip_chars().str.to_lowercase()
        t = pl.col("_type")
        checks.append(
            (
                "type",
                mapping["type"],
                _problem(
                    t.fill_null("").is_in(MOVEMENT_TYPES).not_(),
                    f"unknown movement type (expected one of: {', '.join(MOVEMENT_TYPES)})",
                ),
            )
        )
        amount = money_checks("amount", mapping["amount"], 1)
        checks.append(
            (
                "amount",
                mapping["amount"],
                _problem(
                    t.is_in(ADDING_TYPES) & (amount < 0),
                    pl.format("negative amount for a {} movement (it adds ARR)", t),
                ),
            )
        )
        out["type"] = t
        out["amount"] = pl.when(t.is_in(ADDING_TYPES)).then(amount).otherwise(-amount.abs())
    else:
        assert value_col is not None  # detect_shape guarantees arr or mrr
        if shape is Shape.snapshots:
            out["date"] = date_checks("date")
        else:
            start = date_checks("start_date")
            end = date_checks("end_date", optional=True)
            checks.append(
                (
                    "end_date",
                    mapping["end_date"],
                    _problem(end <= start, "end_date is not after start_date (end is exclusive)"),
                )
            )
            out["start_date"], out["end_date"] = start, end
        arr = money_checks(value_name(multiplier), value_col, multiplier)
        checks.append((value_name(multiplier), value_col, _problem(arr < 0, "negative ARR")))
        out["arr"] = arr
    if "currency" in mapping:
        cur_col = mapping["currency"]
        stages[0]["_currency"] = pl.col(cur_col).str.strip_chars().str.to_uppercase()
        checks.append(("currency", cur_col, _problem(blank(cur_col), "missing currency")))
        if fx is not None:
            known = fx.rate_text()
            checks.append(
                (
                    "currency",
                    cur_col,
                    _problem(
                        ~blank(cur_col) & ~pl.col("_currency").is_in(list(known)),
                        f"no fx rate for this currency (fx.rates has: {', '.join(sorted(known))})",
                    ),
                )
            )
        out["_currency"] = pl.col("_currency")
    for d in dims:
        out[d] = pl.col(d).str.strip_chars()

    lf = raw.lazy()
    for stage in stages:
        if stage:
            lf = lf.with_columns(**stage)
    staged = lf.collect()
    found = problem_frame(staged, checks)
    rejected: list[pl.DataFrame] = []
    if found.height:
        if on_invalid == "error":
            raise InputError(name, problems_of(found), total=found.height)
        rejected.append(found)
        staged = staged.filter(~pl.col(LINE).is_in(found[LINE].unique().implode()))
    frame = staged.select(*(e.alias(k) for k, e in out.items()), pl.col(LINE))
    n_rounded = staged.select(pl.sum_horizontal(pl.col(c).sum() for c in rounded_cols)).item()
    if n_rounded:
        warnings.append(
            f"{n_rounded:,} money value(s) had more than 2 decimals and were rounded "
            "half away from zero to the cent"
        )
    loaded = Loaded(frame, shape, source, dims, warnings)
    if shape is Shape.movements:
        rejected += _settle_movement_states(loaded, skip=on_invalid == "skip")
    elif shape is Shape.snapshots:
        rejected += _check_snapshot_duplicates(loaded, skip=on_invalid == "skip")
    if "_currency" in loaded.frame.columns:
        _convert_currency(loaded, fx)
    if rejected:
        loaded.problems = pl.concat(rejected).sort(LINE, "_check")
        reasons = (
            pl.concat(rejected)
            .sort(LINE, "_check")
            .group_by(LINE, maintain_order=True)
            .agg(
                pl.format("{}: {}", "column", "message").unique(maintain_order=True).str.join("; ")
                .alias("reason")
            )
        )  # fmt: skip
        loaded.skipped = reasons.height
        line_col = "line" if "line" not in raw.columns else "rejected_line"
        reason_col = "reason" if "reason" not in raw.columns else "rejected_reason"
        loaded.rejects = (
            raw.join(reasons.rename({"reason": "_reason"}), on=LINE)
            .sort(LINE)
            .select(
                pl.col(LINE).alias(line_col),
                pl.exclude(LINE, "_reason"),
                pl.col("_reason").alias(reason_col),
            )
        )
        if loaded.frame.height == 0 and not keep_empty:
            raise InputError(
                name,
                [
                    Problem(
                        f"every one of the {source.rows_read:,} rows is invalid; nothing left to use"
                    )
                ],
                hint="run `retention validate` on the file to see every problem",
            )
    return loaded


REQUIRED_COLUMNS: dict[Shape, tuple[str, ...]] = {
    shape: tuple(c for c in cols if "|" not in c) for shape, cols in REQUIRED.items()
}
"""The required columns other than the value column (``arr`` or ``mrr``)."""


def value_name(multiplier: int) -> str:
    """Canonical name of the value column (``arr``, or ``mrr`` when it is ×12)."""
    return "mrr" if multiplier == 12 else "arr"


def _convert_currency(loaded: Loaded, fx: Fx | None) -> None:
    """Convert money to the reporting currency, exactly, rounding half away from zero.

    Movements convert each account's running ARR (so a churn still takes it to
    exactly zero) and take the differences; snapshots and subscriptions
    convert each row. Without ``fx`` a file in one currency is left as it is.
    """
    df = loaded.frame
    name = loaded.source.path
    currencies = sorted(c for c in df["_currency"].unique().to_list() if c is not None)
    if fx is None:
        if len(currencies) > 1:
            raise InputError(
                name,
                [
                    Problem(
                        f"amounts in {len(currencies)} currencies ({', '.join(currencies)}) "
                        "and no fx rates to convert them"
                    )
                ],
                hint="add an fx section to the config: fx: {reporting_currency: USD, rates: {EUR: 1.08}}",
            )
        if currencies:
            loaded.warnings.append(
                f"all amounts are in {currencies[0]} (no fx section: not converted)"
            )
        loaded.frame = df.drop("_currency")
        return
    rate = pl.col("_currency").replace_strict(fx.rate_text(), default=None).cast(pl.Decimal(38, 12))

    def convert(cents: pl.Expr) -> pl.Expr:
        exact = cents.cast(pl.Decimal(38, 0)) * rate
        return exact.round(0, mode="half_away_from_zero").cast(pl.Int64)

    if loaded.shape is Shape.movements:
        mixed = (
            df.group_by("account_id")
            .agg(pl.col("_currency").n_unique())
            .filter(pl.col("_currency") > 1)
        )
        if mixed.height:
            raise InputError(
                name,
                [
                    Problem(f"account {a!r} has movements in more than one currency")
                    for a in mixed["account_id"].head(20).to_list()
                ],
                total=mixed.height,
                hint="give each account's movements in one currency",
            )
        order = df.sort("account_id", "date", LINE)
        running = pl.col("amount").cum_sum().over("account_id")
        converted = convert(running)
        df = order.with_columns(
            amount=converted - converted.shift(1).over("account_id").fill_null(0)
        )
    else:
        df = df.with_columns(arr=convert(pl.col("arr")))
    others = [c for c in currencies if c != fx.reporting_currency]
    if others:
        loaded.warnings.append(
            f"converted {', '.join(others)} to {fx.reporting_currency} with the config's fx rates"
        )
    loaded.frame = df.drop("_currency")


def cents_text(expr: pl.Expr) -> pl.Expr:
    """Exact ``1234.50`` text from integer cents (null stays null)."""
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = expr.abs()
    return pl.format("{}{}.{}", sign, a // 100, (a % 100).cast(pl.String).str.zfill(2))


def movement_state_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """Movements that contradict the account's running ARR, in date order (SPEC §2.3):
    a :func:`problem_frame`."""
    df = frame.lazy().sort("account_id", "date", LINE)
    after = pl.col("amount").cum_sum().over("account_id")
    df = df.with_columns(
        _after=after,
        _before=after - pl.col("amount"),
        _seen=pl.int_range(pl.len()).over("account_id") > 0,
    )
    t, b, a = pl.col("type"), pl.col("_before"), pl.col("_after")
    checks = [
        (
            "type",
            "type",
            _problem(
                (t == "new") & (b > 0),
                pl.format("new for an account that already has ARR {}", cents_text(b)),
            ),
        ),
        (
            "type",
            "type",
            _problem((t == "expansion") & (b <= 0), "expansion on an account with no ARR"),
        ),
        (
            "type",
            "type",
            _problem((t == "contraction") & (b <= 0), "contraction on an account with no ARR"),
        ),
        (
            "amount",
            "_amount",
            _problem(
                (t == "contraction") & (b > 0) & (a < 0),
                pl.format("contraction below zero (the account's ARR is {})", cents_text(b)),
            ),
        ),
        ("type", "type", _problem((t == "churn") & (b <= 0), "churn on an account with no ARR")),
        (
            "amount",
            "_amount",
            _problem(
                (t == "churn") & (b > 0) & (a != 0),
                pl.format("churn amount differs from the account's ARR {}", cents_text(b)),
            ),
        ),
        (
            "type",
            "type",
            _problem(
                (t == "reactivation") & ~pl.col("_seen"),
                "reactivation for an account never seen before",
            ),
        ),
        (
            "type",
            "type",
            _problem(
                (t == "reactivation") & (b > 0),
                pl.format("reactivation of an account that still has ARR {}", cents_text(b)),
            ),
        ),
    ]
    df = df.with_columns(_amount=cents_text(pl.col("amount").abs())).collect()
    return problem_frame(df, checks).with_columns(pl.col("_check") + 100)


STATE_HINT = "movement logs are checked against each account's running ARR, in date order"


def _settle_movement_states(loaded: Loaded, *, skip: bool) -> list[pl.DataFrame]:
    """Raise on state problems, or (``skip``) drop the earliest problem row of each
    account until the rest agree; return the dropped rows' problems."""
    found = movement_state_problems(loaded.frame)
    if found.height == 0:
        return []
    if not skip:
        raise InputError(
            loaded.source.path, problems_of(found), total=found.height, hint=STATE_HINT
        )
    dropped = []
    for _ in range(MAX_SETTLE_ROUNDS):
        if found.height == 0:
            break
        # a later row may only look wrong because of an earlier one: drop the first per account
        first = (
            found.join(loaded.frame.select(LINE, "account_id", "date"), on=LINE)
            .sort("account_id", "date", LINE)
            .group_by("account_id", maintain_order=True)
            .first()
            .select(LINE)
        )
        out = found.join(first, on=LINE)
        dropped.append(out)
        loaded.frame = loaded.frame.filter(~pl.col(LINE).is_in(out[LINE].implode()))
        found = movement_state_problems(loaded.frame)
    if found.height:  # still contradicting after many rounds: drop the rest at once
        dropped.append(found)
        loaded.frame = loaded.frame.filter(~pl.col(LINE).is_in(found[LINE].implode()))
    return dropped


def _check_snapshot_duplicates(loaded: Loaded, *, skip: bool = False) -> list[pl.DataFrame]:
    """Two snapshots of one account on one date must agree (SPEC §2.3): raise, or
    (``skip``) leave out every row of a conflicting pair and return their problems."""
    df = loaded.frame
    key = ["account_id", "date"]
    # the usual case, no repeats, in one cheap pass over a 64-bit hash of the key;
    # equal keys have equal hashes, so only rows with a repeated hash can repeat
    hashed = pl.col("account_id").hash(7) ^ pl.col("date").cast(pl.Int64).cast(pl.UInt64).hash(11)
    if df.schema["account_id"] == pl.Categorical:  # the fast reader's: pack code and day exactly
        code = pl.col("account_id").to_physical().cast(pl.UInt64)
        day = (pl.col("date").cast(pl.Int64) + 2**31).cast(pl.UInt64)
        hashed = code * pl.lit(2**32, pl.UInt64) + day
    if df.select(hashed.n_unique()).item() == df.height:
        return []
    candidates = df.filter(hashed.is_duplicated())
    repeated = candidates.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():  # hash collisions only
        return []
    dup = candidates.filter(repeated).lazy()
    conflicting = dup.filter(pl.col("arr").n_unique().over(key) > 1).sort(LINE).collect()
    dropped = []
    if conflicting.height:
        checks = [
            (
                "arr",
                "_arr",
                pl.format(
                    "account {} has snapshots on {} with different values",
                    pl.col("account_id"),
                    pl.col("date").cast(pl.String),
                ),
            )
        ]
        found = problem_frame(conflicting.with_columns(_arr=cents_text(pl.col("arr"))), checks)
        found = found.with_columns(pl.col("_check") + 200)
        if not skip:
            raise InputError(
                loaded.source.path,
                problems_of(found),
                total=found.height,
                hint="keep one snapshot per account and date",
            )
        dropped.append(found)
        df = df.filter(~pl.col(LINE).is_in(found[LINE].implode()))
        loaded.frame = df
    n_dup = df.height - df.select(key).unique().height
    if n_dup:
        loaded.frame = df.unique(subset=key, keep="first", maintain_order=True)
        loaded.warnings.append(
            f"{n_dup:,} repeated snapshot row(s) (same account, date and ARR) counted once"
        )
    return dropped


def parse_column_overrides(items: list[str] | None) -> dict[str, str]:
    """``--column account_id="Customer ID"`` → ``{"account_id": "Customer ID"}``."""
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        value = value.strip().strip("\"'")
        if not sep or not key or not value:
            msg = f'--column: {item!r} is not NAME=HEADER (e.g. account_id="Customer ID")'
            raise UsageError(msg)
        if key not in CANONICAL_COLUMNS:
            near = difflib.get_close_matches(key, CANONICAL_COLUMNS, n=1)
            extra = f"; did you mean {near[0]!r}?" if near else ""
            msg = f"--column: unknown canonical name {key!r} (one of {', '.join(CANONICAL_COLUMNS)}){extra}"
            raise UsageError(msg)
        result[key] = value
    return result
