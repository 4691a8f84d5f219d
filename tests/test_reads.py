"""Issue 19 on reading input: bounded reads, money rounded once, currency markers,
line numbers, blank and short rows, and hints that say what is wrong."""

from __future__ import annotations

import gzip
import io
import os
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.config import Fx
from retention_cli.errors import InputError
from retention_cli.inputs import ReadLimits, fast_load, load, money_cents, read_table
from retention_cli.inputs.parse import exact_cents
from retention_cli.inputs.read import float_text, gunzip
from retention_cli.options import Shape

MOVES = "date,account_id,type,amount,segment\n"
runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "m.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def problems(path: str, **kw: object) -> list[tuple[int | None, str | None]]:
    with pytest.raises(InputError) as err:
        load(path, **kw)  # type: ignore[arg-type]
    return [(p.line, p.check) for p in err.value.problems]


# --------------------------------------------------------------------------- item 9
def cents_of(texts: list[str], multiplier: int = 1) -> list[tuple[int | None, bool]]:
    cents, _, rounded = money_cents(pl.col("s"), multiplier=multiplier)
    out = pl.DataFrame({"s": texts}).select(cents.alias("c"), rounded.alias("r"))
    return list(out.iter_rows())


def test_money_is_rounded_once_from_the_text() -> None:
    assert cents_of(["10.0049999999", "0.0049999999", "10.005", "(1.999)", "1000.0000001"]) == [
        (1000, True),
        (0, True),
        (1001, True),
        (-200, True),
        (100000, True),
    ]
    # MRR: the ×12 comes first, then the one rounding (0.125 × 12 = 1.50 exactly)
    assert cents_of(["0.125", "10.0049999999"], multiplier=12) == [(150, False), (12006, True)]


@settings(max_examples=200, deadline=None)
@given(
    whole=st.integers(0, 10**12),
    fraction=st.text("0123456789", min_size=0, max_size=30),
    multiplier=st.sampled_from([1, 12]),
)
def test_exact_cents_matches_decimal_half_up(whole: int, fraction: str, multiplier: int) -> None:
    text = f"{whole}.{fraction}" if fraction else str(whole)
    with localcontext(prec=100):  # the default 28 digits would round the oracle itself
        exact = Decimal(text) * 100 * multiplier
        want = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    cents, rounded = exact_cents(pl.lit(text), multiplier)
    got = pl.select(cents.alias("c"), rounded.alias("r")).row(0)
    assert got == (want, exact != want)


def test_a_value_past_six_decimals_warns(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, MOVES + "2025-01-10,A,new,1000.0000001,SMB\n"))
    assert loaded.frame["amount"].to_list() == [100000]
    assert any("rounded" in w for w in loaded.warnings)


def test_full_width_digits_are_not_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, MOVES + "2025-01-10,A,new,１０００,SMB\n")
    assert problems(path) == [(2, "bad_money")]


# --------------------------------------------------------------------------- item 10
FX = Fx(reporting_currency="USD", rates={"EUR": Decimal("1.10")})


def test_mixed_markers_without_a_currency_column_are_an_error(tmp_path: Path) -> None:
    rows = ["$1000", "€1000", "£1000", "1000 EUR", "JPY 1000"]
    text = MOVES + "".join(
        f"2025-01-10,{c},new,{a},SMB\n" for c, a in zip("ABCDE", rows, strict=False)
    )
    found = problems(write(tmp_path, text))
    assert found == [(n, "mixed_currency_markers") for n in (2, 3, 4, 5, 6)]


def test_one_consistent_marker_is_the_files_currency(tmp_path: Path) -> None:
    text = (
        MOVES + "2025-01-10,A,new,€1000,SMB\n2025-01-10,B,new,1000 EUR,SMB\n2025-01-10,C,new,5,S\n"
    )
    loaded = load(write(tmp_path, text))
    assert loaded.frame["amount"].to_list() == [100000, 100000, 500]
    assert any("marked EUR" in w and "file's currency" in w for w in loaded.warnings)
    # $ goes with USD, CAD, …: $ and USD together are one currency
    same = MOVES + "2025-01-10,A,new,$1000,SMB\n2025-01-10,B,new,USD 1000,SMB\n"
    assert any("marked USD" in w for w in load(write(tmp_path, same, "u.csv")).warnings)


def test_a_marker_must_agree_with_the_rows_currency_or_the_reporting_one(tmp_path: Path) -> None:
    text = "date,account_id,type,amount,currency\n2025-01-10,A,new,€1000,USD\n2025-01-10,B,new,1000,EUR\n"
    assert problems(write(tmp_path, text), fx=FX) == [(2, "currency_marker_mismatch")]
    agree = "date,account_id,type,amount,currency\n2025-01-10,A,new,€1000,EUR\n"
    assert load(write(tmp_path, agree, "a.csv"), fx=FX).frame["amount"].to_list() == [110000]
    # no currency column: the amounts are in the reporting currency, so € disagrees
    assert problems(write(tmp_path, MOVES + "2025-01-10,A,new,€5,S\n", "r.csv"), fx=FX) == [
        (2, "currency_marker_mismatch")
    ]


# --------------------------------------------------------------------------- item 6
def messages(err: pytest.ExceptionInfo[InputError]) -> str:
    return " ".join(p.message for p in err.value.problems) + f" {err.value.hint}"


def test_a_gzip_bomb_stops_at_the_ratio_and_the_size_limit() -> None:
    data = gzip.compress(b"x" * (8 << 20))
    with pytest.raises(InputError) as err:
        gunzip(data, "b.gz", ReadLimits(floor_bytes=1 << 20))
    assert "50× its compressed size" in messages(err)
    with pytest.raises(InputError) as err:
        gunzip(data, "b.gz", ReadLimits(max_bytes=2 << 20, max_ratio=10**6))
    assert "more than 2 MiB" in messages(err)
    assert len(gunzip(data + data, "b.gz", ReadLimits())) == 16 << 20  # every member


def test_the_config_limits_raise_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = MOVES + "2025-01-10,A,new,1.00,SMB\n"
    body = "2025-01-11,A,expansion,1.00,SMB\n" * 200_000
    (tmp_path / "big.csv.gz").write_bytes(gzip.compress((head + body).encode()))
    (tmp_path / "lim.yaml").write_text("limits:\n  max_input_mb: 1\n")
    (tmp_path / "ok.yaml").write_text("limits:\n  max_input_mb: 100\n")
    monkeypatch.chdir(tmp_path)
    out = runner.invoke(app, ["nrr", "big.csv.gz", "-c", "lim.yaml", "-q"])
    assert out.exit_code == 2
    assert "limits.max_input_mb" in out.output
    assert runner.invoke(app, ["nrr", "big.csv.gz", "-c", "ok.yaml", "-q"]).exit_code == 0


def test_devices_and_fifos_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        with pytest.raises(InputError) as err:
            read_table(path)
        assert "not a regular file" in messages(err)


def test_gzip_data_is_named_as_gzip(tmp_path: Path) -> None:
    data = gzip.compress((MOVES + "2025-01-10,A,new,1.00,SMB\n").encode())
    out = runner.invoke(app, ["nrr", "-"], input=data)
    assert out.exit_code == 2
    assert "gzip" in out.output
    assert "UTF-8" not in out.output
    path = tmp_path / "z.csv"  # gzip data under a name without .gz
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_table(str(path))
    assert "gzip" in messages(err)


# --------------------------------------------------------------------------- the Low list
def test_line_numbers_count_lines_inside_quoted_values(tmp_path: Path) -> None:
    text = (
        MOVES
        + '2025-01-10,A,new,1.00,"two\nlines"\n2025-01-12,B,new,2.00,S\n2025-13-15,C,new,1,S\n'
    )
    path = write(tmp_path, text)
    assert problems(path) == [(5, "bad_date")]
    skipped = load(path, on_invalid="skip")
    assert skipped.rejects is not None
    assert skipped.rejects["line"].to_list() == [5]


def test_blank_lines_are_skipped_and_named_once(tmp_path: Path) -> None:
    text = MOVES + "2025-01-10,A,new,1.00,S\n\n2025-01-12,B,new,2.00,S\r\n\r\n"
    loaded = load(write(tmp_path, text))
    assert loaded.source.rows_read == 2
    assert loaded.frame["_line"].to_list() == [2, 4]
    assert [w for w in loaded.warnings if "blank" in w] == ["2 blank line(s) skipped (line 3, 5)"]


def test_short_rows_repeated_headers_and_nul_ids_are_errors(tmp_path: Path) -> None:
    short = write(tmp_path, MOVES + "2025-01-10,A,new,1.00,S\n2025-01-10,B,new,1.00\n")
    assert problems(short) == [(3, "short_row")]
    # the fast path reads a missing last field as blank: it declines, the full parser says why
    assert fast_load(short, columns=None, shape=None, separator=None) is None
    dup = write(
        tmp_path, "date,account_id,type,amount,segment,segment\n2025-01-10,A,new,1,S,X\n", "d.csv"
    )
    assert problems(dup) == [(1, "duplicate_header")]
    nul = write(tmp_path, MOVES + "2025-01-10,A\x00B,new,1.00,S\n", "n.csv")
    assert problems(nul) == [(2, "nul_in_id")]


def test_decimal_comma_is_hinted_and_read_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path, MOVES + '2025-01-10,A,new,"1.234,56",S\n2025-02-10,A,expansion,"12,5",S\n'
    )
    assert problems(path) == [(2, "decimal_comma"), (3, "decimal_comma")]
    assert load(path, decimal_comma=True).frame["amount"].to_list() == [123456, 1250]
    (tmp_path / "c.yaml").write_text("decimal: comma\n")
    monkeypatch.chdir(tmp_path)
    for extra in (["--decimal-comma"], ["-c", "c.yaml"]):
        out = runner.invoke(app, ["bridge", "m.csv", "-f", "csv", "-q", *extra])
        assert out.exit_code == 0
        assert "1247.06" in out.output


def test_parquet_floats_read_as_plain_decimals(tmp_path: Path) -> None:
    values = [1e-7, -2.5e-10, 1e22, 123.5, None]
    got = pl.DataFrame({"f": values}).select(float_text(pl.col("f")).alias("f"))["f"].to_list()
    assert got == ["0.0000001", "-0.00000000025", "1" + "0" * 22, "123.5", None]
    frame = pl.DataFrame(
        {"date": ["2025-01-10", "2025-02-10"], "account_id": ["A", "A"],
         "type": ["new", "expansion"], "amount": [1000.0, 1e-7]}
    )  # fmt: skip
    buf = io.BytesIO()
    frame.write_parquet(buf)
    path = tmp_path / "t.parquet"
    path.write_bytes(buf.getvalue())
    loaded = load(str(path))
    assert loaded.frame["amount"].to_list() == [100000, 0]
    assert any("rounded" in w for w in loaded.warnings)


def test_a_missing_column_is_hinted_only_with_a_close_free_header(tmp_path: Path) -> None:
    path = write(tmp_path, "date,account_id,amount,segment\n2025-01-10,A,1,S\n")
    with pytest.raises(InputError) as err:
        load(path, shape=Shape.movements)
    assert "type='date'" not in str(err.value.hint)


def test_segment_labels_the_outputs_use_are_refused_with_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        MOVES + "2025-01-10,A,new,1.00,(none)\n2025-01-10,B,new,2,\n2025-01-10,C,new,3,Total\n",
    )
    monkeypatch.chdir(tmp_path)
    out = runner.invoke(app, ["bridge", "m.csv", "--by", "segment"])
    assert out.exit_code == 2
    assert "m.csv:2" in out.output
    assert "m.csv:4" in out.output
    assert "(none)" in out.output
    assert runner.invoke(app, ["bridge", "m.csv", "-q"]).exit_code == 0  # without --by: fine


def test_the_rejects_csv_neutralises_formulas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = '2025-13-01,Z,new,-1.00,"=HYPERLINK(""http://evil.example"",""x"")"\n'
    write(tmp_path, MOVES + "2025-01-10,A,new,1.00,S\n" + bad)
    monkeypatch.chdir(tmp_path)
    args = ["bridge", "m.csv", "--on-invalid", "skip", "--rejects", "r.csv", "-q"]
    assert runner.invoke(app, args).exit_code == 0
    rows = pl.read_csv("r.csv", infer_schema=False).row(0, named=True)
    assert rows["segment"].startswith("'=HYPERLINK")
    assert rows["amount"] == "-1.00"


# --------------------------------------------------------------- review: never rounded silently
def test_a_rate_past_12_decimals_is_refused(in_tmp: Path, runner: CliRunner) -> None:
    """1e-13 would round to 0 at Decimal(38, 12) and make an account vanish."""
    (in_tmp / "f.csv").write_text(
        "account_id,date,arr,currency\na,2024-01-31,100,EUR\nb,2024-01-31,100,USD\n"
    )
    (in_tmp / "c.yaml").write_text(
        "fx:\n  reporting_currency: USD\n  rates: {EUR: 0.0000000000001}\n"
    )
    out = runner.invoke(app, ["bridge", "f.csv", "-c", "c.yaml"])
    assert out.exit_code == 2
    assert "more than 12 decimals" in out.stderr


def test_a_quantity_past_6_decimals_is_an_error(in_tmp: Path, runner: CliRunner) -> None:
    """1.0000004 × 1,000,000,000 a month is 12,000,004,800.00 ARR, not 12,000,000,000.00."""
    (in_tmp / "q.csv").write_text(
        "account_id,start_date,end_date,amount,interval,quantity\n"
        "a,2024-01-01,,1000000000,month,1.0000004\n"
    )
    cols = [
        "--column",
        "quantity=quantity",
        "--column",
        "interval=interval",
        "--column",
        "amount=amount",
    ]
    out = runner.invoke(app, ["bridge", "q.csv", "--shape", "subscriptions", *cols])
    assert out.exit_code == 2
    assert "at most 6 decimals" in out.stderr


def test_an_interval_of_zero_is_unreadable(in_tmp: Path, runner: CliRunner) -> None:
    """'0 months' gave 0 ARR and dropped the account silently."""
    (in_tmp / "i.csv").write_text(
        "account_id,start_date,end_date,amount,interval\na,2024-01-01,,100,0 months\n"
    )
    cols = ["--column", "interval=interval", "--column", "amount=amount"]
    out = runner.invoke(app, ["bridge", "i.csv", "--shape", "subscriptions", *cols])
    assert out.exit_code == 2
    assert "'0 months'" in out.stderr


def test_line_items_with_different_segments_are_an_error(in_tmp: Path, runner: CliRunner) -> None:
    """Items of one account on one date summed (100 + 900) must not all land in the
    first line's segment: SMB would show 1,000 and ENT nothing."""
    (in_tmp / "l.csv").write_text(
        "account_id,date,arr,item_id,segment\na,2024-01-31,100,x,SMB\na,2024-01-31,900,y,ENT\n"
    )
    out = runner.invoke(app, ["bridge", "l.csv", "--column", "item_id=item_id", "--by", "segment"])
    assert out.exit_code == 2
    assert "differ in 'segment'" in out.stderr
