"""Safe YAML: the loader every config, preset, baseline and thresholds file goes through.

Kept apart from :mod:`retention_cli.config` so that a run without any YAML
document never imports PyYAML.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

from retention_cli.config import MAX_ALIAS_NODES, MAX_SHOWN, shown


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML document that parses but is refused.

    An alias bomb, a recursive alias, a duplicate key, nesting too deep or a
    value Python cannot hold. A ``yaml.YAMLError``, so callers report it like
    any other YAML error (``problem`` and ``problem_mark``).
    """


class SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also refuses what a config never needs.

    Code tags (``!!python/...``) are an error, as in ``yaml.safe_load``; so are
    alias expansion past :data:`MAX_ALIAS_NODES`, recursive aliases, duplicate
    mapping keys and values Python cannot hold, each with its line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}
        self._open: set[str] = set()

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, counting what each alias adds when expanded."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                problem = f"the alias *{event.anchor} refers to a value that contains it"
                raise YamlLimitError(problem=problem, problem_mark=event.start_mark)
            node = super().compose_node(parent, index)
            self._alias_nodes += self._expanded(node)
            if self._alias_nodes > MAX_ALIAS_NODES:
                problem = (
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} values "
                    f"(at *{event.anchor}); write the values out instead"
                )
                raise YamlLimitError(problem=problem, problem_mark=event.start_mark)
            return node
        anchor = getattr(event, "anchor", None)
        if anchor is None or not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.discard(anchor)

    def _expanded(self, root: yaml.Node) -> int:
        """How many nodes ``root`` stands for with every alias in it written out."""
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if id(node) in self._sizes:
                continue
            kids = _children(node)
            if done:
                self._sizes[id(node)] = 1 + sum(self._sizes[id(k)] for k in kids)
            else:
                stack.append((node, True))
                stack += [(k, False) for k in kids if id(k) not in self._sizes]
        return self._sizes[id(root)]

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:  # noqa: FBT001
        """The value of ``node``.

        A value Python cannot hold (an integer of 5,000 digits, the date
        2024-13-45) is a YAML error at its line, not a crash.
        """
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            detail = "too many digits" if node.tag.endswith(":int") else str(exc)[:MAX_SHOWN]
            problem = f"cannot read the value here ({detail})"
            raise YamlLimitError(problem=problem, problem_mark=node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # noqa: FBT001
        """A mapping whose keys are all different (``<<`` merges may be overridden)."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    continue  # the base class says "found unhashable key"
                if key in seen:
                    problem = f"duplicate key {shown(key)} (first on line {seen[key] + 1})"
                    raise YamlLimitError(
                        context="while reading a mapping",
                        context_mark=node.start_mark,
                        problem=problem,
                        problem_mark=key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load_yaml(text: str) -> Any:
    r"""Parse one YAML document safely (see :class:`SafeLoader`).

    Raises ``yaml.YAMLError`` (with ``problem`` and, where known, the
    ``problem_mark`` line) for invalid YAML and for what :class:`SafeLoader`
    refuses; nesting too deep to read is one too.

    Examples
    --------
    >>> load_yaml("policies: {churn_grace: 1}")
    {'policies': {'churn_grace': 1}}
    >>> try:
    ...     load_yaml("a: 1\na: 2")
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem)
    duplicate key 'a' (first on line 1)
    """
    loader = SafeLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise YamlLimitError(problem="values nested too deeply") from None
    finally:
        loader.dispose()
