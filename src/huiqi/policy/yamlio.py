"""YAML reading that remembers line numbers, so errors can say file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from huiqi.errors import PolicyError


class LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings remember the line of each key (in ``__lines__``)."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {"": node.start_mark.line + 1}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise PolicyError(
                f"重复的键 {key!r}（第{key_node.start_mark.line + 1}行）：同一层级每个键只能出现一次",
                where=f"{node.start_mark.name}:{key_node.start_mark.line + 1}",
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def strip_lines(value: Any) -> Any:
    """A copy of loaded data without the ``__lines__`` bookkeeping."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != "__lines__"}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def load_yaml(path: Path) -> Any:
    """Load a YAML file with line numbers; a syntax error becomes a ``PolicyError`` naming file:line."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise PolicyError(f"YAML 语法错误：{exc.problem}", where=f"{path}:{line}") from None


def line_of(data: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest mapping key on ``path`` that is known (for error messages)."""
    best: int | None = None
    current = data
    for step in path:
        if isinstance(current, dict):
            lines = current.get("__lines__", {})
            best = lines.get(str(step), best)
            current = current.get(step)
        elif isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current):
            current = current[step]
            if isinstance(current, dict):
                best = current.get("__lines__", {}).get("", best)
        else:
            break
    return best
