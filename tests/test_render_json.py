"""The JSON writer's fast layout is ``json.dumps(indent=2)``'s, byte for byte (Hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from retention_cli.render.json import layout

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["},\n      {", "}, {", "\u2028", "\x7f"])
)
ROWS = st.lists(st.dictionaries(st.text(), SCALARS, max_size=5), max_size=5)
ANY = st.recursive(SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), ROWS | ANY, max_size=4))
def test_layout_is_json_dumps_indent_2(doc: dict) -> None:
    want = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    assert layout(doc) == want


HAND_MADE = (
    {},
    {"rows": []},
    {"rows": [{}]},
    {"schema_version": 1, "rows": [{"a": 1, "b": None, "c": True}, {"a": -2.5, "b": "x"}]},
    {"rows": [{"text": "},\n      {"}, {"text": "}, {", "nested": [1, {"k": "\u2028"}]}]},
    {"deep": {"rows": [{"é": "\x7f"}], "empty": {}, "list": [[], [[]], [1, [2, [3]]]]}},
    {"mixed": [{"a": 1}, 2, "three", [4]], "floats": [0.1, 1e300, -0.0]},
)
"""Documents the quick suite checks (the property above runs on random ones in the
full suite): flat rows, empty rows and lists, separator look-alikes in text, nesting."""


def test_layout_is_json_dumps_indent_2_on_hand_made_documents() -> None:
    for doc in HAND_MADE:
        want = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
        assert layout(doc) == want, doc
