"""Shared fixtures: a pinned terminal, example paths, a CLI runner, a PostgreSQL server.

Every test is safe under pytest-xdist (``-n 2``: each worker its own process, tests
in any order): tests write only under ``tmp_path``, and a server or a browser gets
its own port, data and profile directories, so two may run at once. (Not
``--dist loadgroup`` to start the server once: with pytest 9.2 and xdist 3.8 it
silently groups nothing, pytest-dev/pytest-xdist#1386.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.testing
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data"

QUICK_WORKERS = 2
"""Worker processes of the quick suite (``-m "not slow"``) when no ``-n`` is given."""


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The quick suite runs on :data:`QUICK_WORKERS` processes unless ``-n`` says otherwise.

    Only for exactly ``-m "not slow"`` with pytest-xdist installed, two or more CPUs,
    and no ``-n``, ``--pdb`` or ``--collect-only``; ``-n 0`` runs it in one process.
    The full suite (CI's command) is left as given.
    """
    opt = config.option
    if (
        (getattr(opt, "markexpr", "") or "").strip() == "not slow"
        and getattr(opt, "numprocesses", 0) is None
        and not os.environ.get("PYTEST_XDIST_WORKER")
        and (os.cpu_count() or 1) >= QUICK_WORKERS
        and not opt.usepdb
        and not opt.collectonly
    ):
        opt.numprocesses = QUICK_WORKERS


# Typer's CliRunner.invoke(app, ...) turns the whole Typer app into its Click command on
# every call (every command, every option: about half of an in-process CLI test's time).
# Built once per app object here, as a real process builds it once and runs it; each
# invocation still gets its own context, streams and environment. Command building
# itself stays tested where it is the point (typer.main.get_command in test_cli.py,
# test_startup.py, test_terminal.py).
_build_command = getattr(typer.testing, "_get_command", None)
_BUILT: dict[int, tuple[object, object]] = {}  # id(app) -> (app, its Click command)


def _command_once(app: object) -> object:
    """``app``'s Click command, built on first use (the app is kept, so its id stays its own)."""
    hit = _BUILT.get(id(app))
    if hit is None or hit[0] is not app:
        hit = _BUILT[id(app)] = (app, _build_command(app))  # type: ignore[misc]
    return hit[1]


# (conftest runs twice, as pytest's ``conftest`` and as ``tests.conftest``: patch once)
if _build_command is not None and not hasattr(_build_command, "built_once"):
    _command_once.built_once = True  # type: ignore[attr-defined]
    typer.testing._get_command = _command_once  # type: ignore[attr-defined]


def pin_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same bytes on every machine: fixed width, no colour, no ambient config."""
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")


@pytest.fixture(autouse=True)
def _pinned_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`pin_terminal` for every test (a module-scoped fixture calls it itself)."""
    pin_terminal(monkeypatch)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory (no stray retention.yaml)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ----------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback (tests/test_sql*.py): its URI.

    One per test process: once in a serial run, once per xdist worker that runs a
    test using it; tests replace the tables they use."""
    yield from postgres_server()


def postgres_server(attempts: int = 3) -> Iterator[str]:
    """Start a throwaway PostgreSQL server on loopback (Debian's binaries; skipped with
    the reason where there are none, or no ADBC driver), yield its URI, stop it.

    Its data and socket directory is a fresh temporary one; its port is a free one,
    picked again when another process took it between the pick and the start."""
    import shutil
    import socket
    import subprocess
    import tempfile

    pytest.importorskip("adbc_driver_postgresql", reason="the warehouse extra's ADBC driver")
    found = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    if found is None or shutil.which("psql") is None:
        pytest.skip("no PostgreSQL server binaries (initdb, psql); .ci/run installs them when root")
    bindir = Path(found).resolve().parent
    base = Path(tempfile.mkdtemp(prefix="retention-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    port = 0
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "retention", "--auth=trust"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        for attempt in range(attempts):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            try:
                subprocess.run(
                    [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                     "-w", "-o", f"-k {base} -p {port} -c listen_addresses=127.0.0.1", "start"],
                    check=True, capture_output=True, timeout=120,
                )  # fmt: skip
                break
            except subprocess.CalledProcessError:
                if attempt == attempts - 1:
                    raise
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {exc}")
    try:
        yield f"postgresql://retention@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


# ----------------------------------------------------------------------------- the quick suite
# `pytest -m "not slow"` is the quick suite; CI runs everything. A test is slow when
# it is marked so in its file, or listed here: subprocess-heavy, a server to start,
# or many examples, and each concern keeps a quick sibling or a sample in the quick set
# (tests/test_quick_suite.py checks that every entry still names a collected test).
HOSTILE = "tests/test_hostile.py::test_hostile"
SLOW: frozenset[str] = frozenset(
    # ---- real processes (about 1-7 s each); quick siblings: the in-process cases, the
    # dev_zero and disk_full_json cases, tests/test_bounds.py, tests/test_output_safety.py
    [f"{HOSTILE}[{case}]" for case in (
        "date_0000", "date_0001", "date_9999", "date_9999_nrf", "dates_1900_9999",
        "sentinel_end_9999", "gzip_bomb", "sigint_stdin", "window_huge", "yaml_alias_bomb",
        "disk_full_csv", "disk_full_xlsx",
    )]
    # every command and format on terminal control text (ansi_colour stays quick) and on
    # Rich markup in data (markup_in_error stays quick)
    + [f"{HOSTILE}[{case}]" for case in (
        "osc_clipboard", "clear_screen", "rtl_override", "osc_title",
        "markup_red", "markup_link", "markup_legacy", "markup_close_tag",
    )]
    + [
        "tests/test_output_safety.py::test_kill_during_an_xlsx_write_keeps_the_previous_file",
        "tests/test_cli.py::test_broken_pipe_is_a_quiet_exit[table]",  # [csv] stays quick
        "tests/test_config_safety.py::test_the_auto_loaded_config_bomb_through_the_cli",
        # ---- headless chromium (the HTML itself is checked in-process)
        "tests/test_report_outputs.py::test_printed_report_shows_every_column_header",
        "tests/test_outputs.py::test_html_renders_in_headless_chromium",
        # ---- a PostgreSQL server per module; the DuckDB differential tests stay quick
        "tests/test_sql.py::test_postgres_equals_the_core",
        "tests/test_sql.py::test_postgres_cli_output_equals_the_file",
        "tests/test_sql.py::test_postgres_failure_masks_the_password",
        "tests/test_sql_segments.py::test_postgres_segments_equal_the_core",
        "tests/test_sql_segments.py::test_postgres_generated_segment_histories_equal_the_core",
        # ---- Hypothesis properties with hand-made siblings in the same file
        "tests/test_sql.py::test_generated_snapshot_histories_equal_the_core",
        "tests/test_fx.py::test_bridge_identity_with_fx_holds_to_the_cent",
        "tests/test_fx.py::test_roll_up_never_creates_churn_when_only_the_child_changes",
        "tests/test_fx.py::test_credit_split_sums_exactly_to_the_bridge",
        "tests/test_fuzz_load.py::test_random_csv",  # test_random_bytes, test_known stay
        # test_render_json: ..._on_hand_made_documents is its quick sibling
        "tests/test_render_json.py::test_layout_is_json_dumps_indent_2",
        # test_paths: test_the_paths_agree_on_hand_made_histories runs each of these
        "tests/test_paths.py::test_a_huge_reactivation_window_is_no_window",
        "tests/test_paths.py::test_monthly_path_sums_to_the_join_path",
        "tests/test_paths.py::test_steps_without_joins_match_the_join_path",
        "tests/test_paths.py::test_quarter_and_year_steps_without_joins_match_the_join_path",
        "tests/test_paths.py::test_explain_rows_sum_to_the_bridge",
        "tests/test_paths.py::test_returns_excluded_without_per_account_windows_matches_the_join_path",
        # test_paths: test_the_ledgers_agree_on_hand_made_cases runs these two
        "tests/test_paths.py::test_subscription_ledger_matches_month_by_month_expansion",
        "tests/test_paths.py::test_variants_grace_ledger_from_the_built_one_matches_a_fresh_build",
        "tests/test_bounds.py::test_sums_near_the_limit_are_exact_or_refused",  # hand-made sibling
        "tests/test_fast_reader.py::test_random_plain_snapshots_agree",
        "tests/test_reads.py::test_exact_cents_matches_decimal_half_up",
        "tests/test_sql_segments.py::test_generated_segment_histories_equal_the_core",
        "tests/test_owners.py::test_distribution_invariants",  # test_distribution_by_hand
        "tests/test_owners.py::test_summary_split_sums_to_net_new_exactly",  # test_summary_by_hand
        "tests/test_owners2.py::test_report_credit_section_sums_to_the_bridge",
        "tests/test_bands.py::test_distribution_lists_every_segment_and_keeps_its_intervals",
        "tests/test_bands.py::test_band_order_holds_for_any_history",
        # test_fast_dimensions: the hand-made decline cases and the six commands' outputs
        "tests/test_fast_dimensions.py::test_random_files_load_the_same_with_and_without_the_hint",
    ]
)  # fmt: skip
"""Tests (``file::function``, or one parametrization) the quick suite leaves to CI."""

SAMPLED: dict[str, int] = {
    "tests/test_sql.py::test_hand_made_cases_equal_the_core": 5,
    "tests/test_sql.py::test_longer_grains_equal_the_core": 5,
    "tests/test_sql.py::test_windows_and_methods_equal_the_core": 5,
    "tests/test_sql_segments.py::test_segment_moves_equal_the_core": 5,
    "tests/test_sql_segments.py::test_segment_transfers_at_longer_grains_equal_the_core": 5,
    "tests/test_sql_engines.py::test_engine_runs_end_to_end_through_its_dialect": 3,
    "tests/test_check.py::test_weakened_baseline_fails_with_exit_2": 5,
    "tests/test_terminal.py::test_no_line_is_wider_than_the_terminal": 3,
    "tests/test_escaping.py::test_human_formats_show_escapes": 4,
    "tests/test_load_paths.py::test_running_arr_in_one_pass_agrees_with_the_detailed_check": 10,
    # seeded random histories (one parameter, the seed): the first seed stays quick
    "tests/test_explain_dimensions.py::test_snapshot_dimensions_as_the_ledger_carries_them": 4,
    "tests/test_explain_dimensions.py::test_movement_dimensions_as_the_ledger_carries_them": 3,
    "tests/test_explain_dimensions.py::test_without_blank_values": 2,
    "tests/test_explain_dimensions.py::test_restricted_to_a_segment": 2,
}
"""Parametrized sweeps the quick suite samples: every n-th case (the first included)
stays quick, the rest are slow. Each n is coprime with the sweep's parameter counts
(3 shapes, 2 widths, 3 formats, ...), so the sample still covers every value of each;
a sweep over seeds alone keeps its first seed."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the :data:`SLOW` tests and the unsampled cases of :data:`SAMPLED` as slow."""
    seen: dict[str, int] = {}
    for item in items:
        function = item.nodeid.split("[", 1)[0]
        if item.nodeid in SLOW or function in SLOW:
            item.add_marker(pytest.mark.slow)
        elif function in SAMPLED:
            n = seen.get(function, 0)
            seen[function] = n + 1
            if n % SAMPLED[function]:
                item.add_marker(pytest.mark.slow)
