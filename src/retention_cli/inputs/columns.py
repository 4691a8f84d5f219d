"""Column mapping: which of a file's headers holds each canonical column, and the shape.

:data:`COLUMN_KINDS` is the one table of canonical columns and how each is
parsed; both readers (the full parser and the one-pass reader for plain files)
build their columns from a :class:`Layout`'s :attr:`~Layout.fields`, so a
column cannot be known to one and not the other.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from retention_cli.defaults import CANONICAL_COLUMNS
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.options import Shape

Kind = Literal[
    "id",
    "date",
    "optional_date",
    "movement_type",
    "money",
    "optional_money",
    "currency",
    "number",
    "integer",
    "text",
]
"""How a canonical column's text is parsed (and which checks apply to it)."""

COLUMN_KINDS: dict[str, Kind] = {
    "account_id": "id",
    "date": "date",
    "type": "movement_type",
    "amount": "money",
    "arr": "money",
    "mrr": "money",
    "start_date": "date",
    "end_date": "optional_date",
    "currency": "currency",
    "item_id": "id",
    "parent_id": "id",
    "quantity": "number",
    "interval": "text",
    "interval_count": "integer",
    "status": "text",
    "trial_end": "optional_date",
    "canceled_at": "optional_date",
    "period_end": "optional_date",
    "discount_amount": "optional_money",
    "discount_percent": "number",
    "discount_duration": "text",
    "rank": "integer",
    "credit": "text",
}
"""Every canonical column (:data:`~retention_cli.config.CANONICAL_COLUMNS`) and its kind."""

if tuple(COLUMN_KINDS) != CANONICAL_COLUMNS:  # pragma: no cover - a programming error
    msg = "COLUMN_KINDS must list exactly config.CANONICAL_COLUMNS, in order"
    raise RuntimeError(msg)

REQUIRED: dict[Shape, tuple[str, ...]] = {
    Shape.movements: ("date", "account_id", "type", "amount"),
    Shape.snapshots: ("date", "account_id", "arr|mrr"),
    Shape.subscriptions: ("account_id", "start_date", "end_date", "arr|mrr"),
}
"""The columns each shape needs (``arr|mrr``: either)."""

REQUIRED_COLUMNS: dict[Shape, tuple[str, ...]] = {
    shape: tuple(c for c in cols if "|" not in c) for shape, cols in REQUIRED.items()
}
"""The required columns other than the value column (``arr`` or ``mrr``)."""

FIELD_ORDER: dict[Shape, tuple[str, ...]] = {
    Shape.movements: ("account_id", "date", "type", "amount"),
    Shape.snapshots: ("account_id", "date", "arr|mrr"),
    Shape.subscriptions: ("account_id", "start_date", "end_date", "arr|mrr"),
}
"""The order in which each shape's columns are parsed and checked (problems on one
line are listed in this order)."""

OPTIONAL_COLUMNS = ("currency",)
"""Canonical columns any shape uses when the file has them."""

AUTO_COLUMNS = CANONICAL_COLUMNS[: CANONICAL_COLUMNS.index("currency") + 1]
"""The canonical columns a header matches by name; the rest (:data:`RULE_COLUMNS`)
are used only when mapped (``columns:``, ``--column`` or a preset), so a file's
own ``status`` or ``quantity`` column stays a dimension unless asked for."""

RULE_COLUMNS = CANONICAL_COLUMNS[len(AUTO_COLUMNS) :]
"""The columns of issue 14's reading rules (line items, interval, status, ...), in
the order a line's problems are listed after the shape's own columns."""


def normalize_header(name: str) -> str:
    """Header key for matching: lower case, no spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@dataclass(frozen=True)
class Field:
    """One canonical column of a layout: its name, the file's header, and its kind."""

    canonical: str
    header: str
    kind: Kind


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
    for canonical in AUTO_COLUMNS:
        if canonical in mapping:
            continue
        found = by_norm.get(normalize_header(canonical))
        same = [h for h in headers if normalize_header(h) == normalize_header(canonical)]
        if len(same) > 1:  # never pick one of two look-alike headers silently
            msg = f"two columns are read as {canonical}: {', '.join(map(repr, same))}"
            hint = f"rename or drop one of them, or name the one to use: --column {canonical}={same[0]!r}"
            raise InputError(path, [Problem(msg, line=1)], hint=hint)
        if found is not None and found not in taken:
            mapping[canonical] = found
            taken.add(found)
    return mapping


def detect_shape(
    mapping: Mapping[str, str],
    headers: list[str],
    *,
    path: str,
    shape: Shape | None = None,
    amount_value: bool = False,
) -> Shape:
    """Pick the input shape from the mapped columns, or check a forced one.

    ``amount_value``: snapshots and subscriptions may give their value as
    ``amount`` (a price per billing interval, or a stated unit)."""

    def has(req: str) -> bool:
        alts = req.split("|")
        if amount_value and "arr" in alts:
            alts.append("amount")
        return any(alt in mapping for alt in alts)

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
    guesses = shape_guesses(mapping, headers, shape)
    hint = f"the file's headers are: {', '.join(map(repr, headers))}."
    if guesses:
        hint += f" Perhaps: {' '.join(guesses)}"
    else:
        hint += " Map yours with --column NAME=HEADER or `columns:` in the config."
    raise InputError(path, [Problem(lead, line=1)], hint=hint)


def _tokens(header: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", header.lower())) - {""}


_WORDS = {"account_id": ("account", "customer"), "start_date": ("start",), "end_date": ("end",)}


def _guess(canonical: str, headers: list[str], taken: set[str]) -> str | None:
    """The header most like ``canonical``: one naming its word (``arr_amount`` for
    ``arr``), else the closest by spelling."""
    free = [h for h in headers if h not in taken]
    words = _WORDS.get(canonical, (canonical,))
    for h in free:
        if _tokens(h) & set(words):
            return h
    near = difflib.get_close_matches(canonical, free, n=1, cutoff=0.6)
    return near[0] if near else None


def shape_guesses(mapping: Mapping[str, str], headers: list[str], shape: Shape | None) -> list[str]:
    """``--column`` proposals for the shape the headers resemble most (``shape`` when forced).

    The resembled shape is the one with the largest share of its required
    columns already found: ``subscription_id, account_id, start_date, end_date,
    mrr_amount, arr_amount`` resembles subscriptions, so the proposal is
    ``--column arr='arr_amount'``, not a movement log's date and amount.
    """

    def found(req: str) -> bool:
        return any(alt in mapping for alt in req.split("|"))

    if shape is None:
        order = [Shape.subscriptions, Shape.snapshots, Shape.movements]
        shape = max(order, key=lambda s: sum(map(found, REQUIRED[s])) / len(REQUIRED[s]))
    taken = set(mapping.values())
    guesses = []
    for req in REQUIRED[shape]:
        if found(req):
            continue
        for alt in req.split("|"):
            header = _guess(alt, headers, taken)
            if header is not None:
                guesses.append(f"--column {alt}={header!r}")
                taken.add(header)
                break
    return guesses


@dataclass(frozen=True)
class Layout:
    """How a header maps to the canonical columns: shape, fields, dimensions.

    ``fields`` are the canonical columns the shape uses, in :data:`FIELD_ORDER`
    (``arr``, else ``mrr``, for the value; then the optional ones the file has).
    Every other header is a dimension, except mapped columns the shape does not use.
    """

    mapping: dict[str, str]
    shape: Shape
    fields: tuple[Field, ...]
    dimensions: list[str]
    warnings: tuple[str, ...]

    @classmethod
    def of(
        cls,
        headers: list[str],
        columns: Mapping[str, str] | None,
        shape: Shape | None,
        name: str,
        *,
        amount_value: bool = False,
        preset: str | None = None,
        typed: bool = False,
    ) -> Layout:
        """Map ``headers`` (``columns`` overrides first), detect or check the shape.

        ``amount_value``: a snapshot or subscription file may give its value as
        ``amount`` (when the rules give it a unit or a billing interval).
        Without a ``preset`` (and no rule column mapped), a header that matches
        a shipped preset's signature is an error naming the preset to add.
        ``typed``: a subscription file's mapped ``type`` column is read as each
        line's movement type (config ``movement_types``)."""
        mapping = map_columns(headers, columns or {}, path=name)
        if preset is None and not any(c in mapping for c in RULE_COLUMNS):
            from retention_cli.inputs.presets import looks_like

            found = looks_like(headers)
            if found is not None:
                key, title = found
                raise InputError(
                    name,
                    [Problem(f"this looks like a {title}: add --preset {key}", line=1)],
                    hint=f"the preset applies the export's own rules; `retention presets show {key}` "
                    "prints them (or `preset: " + key + "` in the config)",
                )
        amount_value = amount_value or "interval" in mapping
        shape = detect_shape(mapping, headers, path=name, shape=shape, amount_value=amount_value)
        warnings: list[str] = []
        value = "arr"
        if shape is not Shape.movements:
            if "arr" in mapping:
                if "mrr" in mapping:
                    warnings.append(
                        f"both an ARR column ({mapping['arr']!r}) and an MRR column "
                        f"({mapping['mrr']!r}): using ARR"
                    )
            elif "mrr" in mapping:
                value = "mrr"
            else:
                value = "amount"
        names = [value if c == "arr|mrr" else c for c in FIELD_ORDER[shape]]
        if typed and shape is Shape.subscriptions and "type" in mapping:
            names.append("type")  # a contract line's type fixes its sign
        names += [c for c in OPTIONAL_COLUMNS if c in mapping]
        names += [c for c in RULE_COLUMNS if c in mapping]
        fields = tuple(Field(c, mapping[c], COLUMN_KINDS[c]) for c in names)
        used = {f.header for f in fields}
        dims = [h for h in headers if h not in used and h not in mapping.values()]
        return cls(mapping, shape, fields, dims, tuple(warnings))


def parse_column_overrides(items: list[str] | None) -> dict[str, str]:
    """``account_id="Customer ID"`` items → ``{"account_id": "Customer ID"}``.

    Raises :class:`~retention_cli.errors.UsageError` with ``param="columns"``
    for an item that is not ``NAME=HEADER`` or names no canonical column.
    """
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        value = value.strip().strip("\"'")
        if not sep or not key or not value:
            msg = f'{item!r} is not NAME=HEADER (e.g. account_id="Customer ID")'
            raise UsageError(msg, param="columns")
        if key not in CANONICAL_COLUMNS:
            near = difflib.get_close_matches(key, CANONICAL_COLUMNS, n=1)
            extra = f"; did you mean {near[0]!r}?" if near else ""
            msg = f"unknown canonical name {key!r} (one of {', '.join(CANONICAL_COLUMNS)}){extra}"
            raise UsageError(msg, param="columns")
        result[key] = value
    return result
