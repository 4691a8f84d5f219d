"""Reading an input file as text: file kinds, decoding, CSV/XLSX/Parquet, ragged rows.

Nothing is type-inferred here: every value comes out as ``String`` and is
parsed later by explicit rules (:mod:`retention_cli.inputs.parse`).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import stat
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from retention_cli.errors import InputError, Problem, UsageError

LINE = "_line"
"""The column holding each row's file line (the header is line 1)."""


@dataclass(frozen=True)
class Source:
    """Where the data came from: display path, content hash, and row count."""

    path: str
    sha256: str
    rows_read: int
    notes: tuple[str, ...] = ()
    """What reading it noticed, for the run's warnings (blank lines skipped)."""


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on how much one input may expand to in memory (issue 19, item 6).

    A compressed input (``.gz``) may expand to at most ``max_bytes``, and past
    ``floor_bytes`` to at most ``max_ratio`` times its compressed size; standard
    input may be at most ``max_bytes``. The config's ``limits.max_input_mb`` and
    ``limits.max_expansion`` raise them.
    """

    max_bytes: int = 2048 * 2**20
    max_ratio: int = 50
    floor_bytes: int = 64 * 2**20


GZIP_MAGIC = b"\x1f\x8b"
_RAISE_HINT = (
    "if the file is genuine, raise limits.max_input_mb or limits.max_expansion in the config"
)


def gunzip(data: bytes, name: str, limits: ReadLimits) -> bytes | bytearray:
    """Decompress gzip data (every member), stopping with an error once it expands past
    ``limits``: a small file never becomes an unbounded amount of memory."""
    cap = min(limits.max_bytes, max(limits.floor_bytes, limits.max_ratio * len(data)))
    out = bytearray()
    rest = data
    try:
        while rest:
            unzip = zlib.decompressobj(wbits=31)
            buf = rest
            while True:
                chunk = unzip.decompress(buf, 1 << 20)
                out += chunk
                if len(out) > cap:
                    why = (
                        f"more than {limits.max_ratio}× its compressed size"
                        if cap < limits.max_bytes
                        else f"more than {limits.max_bytes // 2**20:,} MiB"
                    )
                    raise InputError(
                        name,
                        [Problem(f"expands to {why}: stopped reading it", check="too_large")],
                        hint=_RAISE_HINT,
                    )
                buf = unzip.unconsumed_tail
                if unzip.eof or (not buf and not chunk):
                    break
            if not unzip.eof:
                msg = "the compressed data ends early (truncated file)"
                raise zlib.error(msg)
            rest = unzip.unused_data
            if rest and not rest.startswith(GZIP_MAGIC) and not rest.strip(b"\x00"):
                break  # zero padding after the last member
    except zlib.error as exc:
        raise InputError(name, [Problem(f"not a readable gzip file ({exc})")]) from None
    return out


def sniff_separator(head: bytes) -> str:
    """The field delimiter of a CSV: the most frequent of ``,`` ``;`` tab on the first line."""
    first = head.split(b"\n", 1)[0]
    counts = {sep: first.count(sep.encode()) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(path: str, limits: ReadLimits | None = None) -> tuple[bytes | bytearray, str]:
    """Read the whole input (``-`` = standard input); return bytes and a display name.

    Only a regular file (or ``-``) is read: a device such as ``/dev/zero`` or a
    named pipe never ends. Standard input is read up to ``limits.max_bytes``.
    """
    limits = limits or ReadLimits()
    if path == "-":
        data = bytearray()  # in blocks: read(n) would reserve n bytes up front
        while block := sys.stdin.buffer.read(1 << 20):
            data += block
            if len(data) > limits.max_bytes:
                break
        if len(data) > limits.max_bytes:
            stdin = "<stdin>"
            raise InputError(
                stdin,
                [Problem(f"more than {limits.max_bytes // 2**20:,} MiB: stopped reading it",
                         check="too_large")],
                hint=_RAISE_HINT,
            )  # fmt: skip
        return data, "<stdin>"
    p = Path(path)
    if p.is_dir():
        raise InputError(path, [Problem("is a directory, not a data file")])
    try:
        if p.exists() and not stat.S_ISREG(p.stat().st_mode):
            raise InputError(
                path,
                [Problem("is not a regular file (a device, pipe or socket): not read")],
                hint="give a data file, or - to read standard input",
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(path, [Problem("file not found")]) from None
    except PermissionError:
        raise InputError(path, [Problem("permission denied")]) from None
    except OSError as exc:
        raise InputError(path, [Problem(f"cannot read file ({exc.strerror or exc})")]) from None
    return data, path


def read_table(
    path: str,
    *,
    separator: str | None = None,
    sheet: str | None = None,
    limits: ReadLimits | None = None,
) -> tuple[pl.DataFrame, Source]:
    """Read a data file as all-``String`` columns plus ``_line``.

    File kinds: ``.csv``, ``.tsv``, ``.csv.gz``/``.tsv.gz``, ``.parquet``,
    ``.xlsx`` (the first sheet, or ``sheet`` by name or 1-based number; ``_line``
    is the spreadsheet row), and ``-`` for CSV on standard input. Nothing is
    type-inferred: every value is parsed later by explicit rules. A ``.gz``
    file is decompressed within ``limits`` (:class:`ReadLimits`).
    """
    limits = limits or ReadLimits()
    data, name = read_bytes(path, limits)
    digest = hashlib.sha256(data).hexdigest()
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        df = _read_xlsx(data, name, sheet)
        return df, Source(name, digest, df.height)
    if sheet is not None:
        msg = f"applies to .xlsx files only, not {name!r}"
        raise UsageError(msg, param="sheet")
    if lower.endswith(".parquet"):
        try:
            df = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:  # polars raises several kinds for a broken file
            raise InputError(name, [Problem(f"not a readable Parquet file ({exc})")]) from None
        df = df.select(
            (float_text(pl.nth(i)) if t.is_float() else pl.nth(i).cast(pl.String)).alias(c)
            for i, (c, t) in enumerate(df.schema.items())
        )
        df = df.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
        return df, Source(name, digest, df.height)
    if lower.endswith(".gz"):
        data = gunzip(data, name, limits)
        lower = lower[:-3]
    elif data.startswith(GZIP_MAGIC):
        raise InputError(
            name,
            [Problem("is gzip-compressed data", line=1, check="gzip_data")],
            hint="give the file a .gz name (e.g. data.csv.gz), or decompress it first "
            "(gunzip -c data.csv.gz | retention … -)",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if re.fullmatch(rb"\s*", data):
        raise InputError(name, [Problem("the file is empty", line=1)])
    bad = _first_bad_utf8(data)
    if bad is not None:
        line = data[:bad].count(b"\n") + 1
        raise InputError(
            name,
            [
                Problem(
                    "not valid UTF-8 text",
                    line=line,
                    value=repr(data[bad : bad + 8]),
                    check="not_utf8",
                )
            ],
            hint="save the file as UTF-8 (CSV UTF-8 in Excel), or check that it is a CSV file",
        )
    if separator is None:
        separator = "\t" if lower.endswith(".tsv") else sniff_separator(data[:65536])
    check_header(data[:65536], separator, name)
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
                hint="quote values that contain the delimiter, or check the delimiter",
                param="delimiter",
            ) from None
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise InputError(
            name,
            [Problem(f"not a readable CSV file: {text}")],
            hint="check the delimiter, quoting and that every row has the header's columns",
            param="delimiter",
        ) from None
    df, blank = csv_lines(df)
    short = short_rows(df, data, separator)
    if short:
        raise InputError(name, short, hint="give every row the header's columns (quote values "
                         "that contain the delimiter)", param="delimiter")  # fmt: skip
    if blank.height:
        lines = ", ".join(map(str, blank[LINE].head(5).to_list()))
        more = ", …" if blank.height > 5 else ""
        warnings = [f"{blank.height:,} blank line(s) skipped (line {lines}{more})"]
        df = df.with_row_index("_record").filter(
            ~pl.col("_record").is_in(blank["_record"].implode())
        )
        df = df.drop("_record")
        return df, Source(name, digest, df.height, tuple(warnings))
    return df, Source(name, digest, df.height)


def _zeros(count: pl.Expr) -> pl.Expr:
    return pl.lit("").str.pad_start(count.clip(lower_bound=0), "0")


def float_text(col: pl.Expr) -> pl.Expr:
    """A float column as plain decimal text: its shortest form, with an exponent
    written out (Parquet ``1e-7`` reads as ``0.0000001``, not as an unreadable number)."""
    s = col.cast(pl.String)
    parts = s.str.extract_groups(r"^(-?)([0-9]+)(?:\.([0-9]+))?e([+-]?[0-9]+)$")
    sign, whole = parts.struct.field("1"), parts.struct.field("2")
    exp = parts.struct.field("4").cast(pl.Int64)
    digits = whole + parts.struct.field("3").fill_null("")
    point = whole.str.len_chars().cast(pl.Int64) + exp
    n = digits.str.len_chars().cast(pl.Int64)
    plain = (
        pl.when(point <= 0)
        .then(pl.lit("0.") + _zeros(-point) + digits)
        .when(point >= n)
        .then(digits + _zeros(point - n))
        .otherwise(digits.str.slice(0, point) + "." + digits.str.slice(point))
    )
    return pl.when(exp.is_not_null()).then(sign + plain).otherwise(s)


def header_names(head: bytes | bytearray, separator: str) -> list[str]:
    """The header's column names, from the first bytes of a CSV."""
    import csv

    text = bytes(head).decode("utf-8", errors="replace")
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])


def repeated_headers(head: bytes | bytearray, separator: str) -> list[str]:
    """Header names that appear more than once (Polars would rename the second)."""
    names = [n.strip() for n in header_names(head, separator)]
    return sorted({n for n in names if names.count(n) > 1})


def check_header(head: bytes | bytearray, separator: str, name: str) -> None:
    """Raise when a column name appears twice in the header (check ``duplicate_header``)."""
    repeated = repeated_headers(head, separator)
    if repeated:
        raise InputError(
            name,
            [Problem(f"column {n!r} appears more than once in the header", line=1,
                     value=n, check="duplicate_header") for n in repeated],
            hint="rename or remove the repeated column",
        )  # fmt: skip


def csv_lines(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``df`` with ``_line``, each record's first file line (a quoted value spanning
    lines moves the next records down), and the blank lines (``_record``, ``_line``)."""
    # columns by position: a header may be any text, "*" or "^a$" included
    cols = [pl.nth(i) for i in range(df.width)]
    spans = [c.str.count_matches("\n", literal=True).fill_null(0) for c in cols]
    multiline = df.select(pl.any_horizontal(s.sum() > 0 for s in spans)).item()
    extra = pl.sum_horizontal(spans) if multiline else pl.lit(0)
    marks = df.select(
        (extra.cum_sum() - extra).alias("_extra"),
        pl.all_horizontal(c.is_null() for c in cols).alias("_blank"),
    )
    # a column of the file named _line is a DuplicateError here, as on every reader
    df = df.with_row_index(LINE, offset=2).with_columns(
        (pl.col(LINE).cast(pl.Int64) + marks["_extra"]).alias(LINE)
    )
    blank = (
        df.select(LINE).with_row_index("_record").filter(marks["_blank"]).select("_record", LINE)
    )
    return df, blank


def short_rows(df: pl.DataFrame, data: bytes | bytearray, separator: str) -> list[Problem]:
    """Rows with fewer fields than the header (Polars reads the missing ones as empty).

    Only a row whose last value is empty can be short, so the text is only parsed
    again (by the ``csv`` module) when one is and is not a blank line.
    """
    cols = [pl.nth(i) for i, c in enumerate(df.columns) if c != LINE]
    if len(cols) < 2:
        return []
    maybe = df.select(
        (cols[-1].is_null() & ~pl.all_horizontal(c.is_null() for c in cols)).any()
    ).item()
    if not maybe:
        return []
    import csv

    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    width = len(next(reader, []))
    problems = []
    start = reader.line_num + 1
    for row in reader:
        if row and len(row) < width:
            problems.append(
                Problem(
                    f"{len(row)} field(s), but the header has {width}",
                    line=start,
                    value=separator.join(row)[:60],
                    check="short_row",
                )
            )
            if len(problems) >= 20:
                break
        start = reader.line_num + 1
    return problems


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
                        check="ragged_row",
                    )
                )
                if len(problems) >= 20:
                    break
    except (csv.Error, StopIteration):
        return problems
    return problems
