"""YAML reading that remembers line numbers, so errors can say file:line.

Parsing uses libyaml (PyYAML's C parser) when PyYAML was built with it: loading the policy base is most of
a command's start-up, and the C parser is several times faster than the pure-Python one. Its nodes carry the
same marks (line, column), so every file:line stays. Its syntax-error wording differs from the pure-Python
parser's, which the Chinese messages of :func:`huiqi.userfiles.structured.yaml_error` are written for, so a
file the C parser refuses is parsed again by the pure-Python loader to report the error (errors are rare;
speed matters for files that load). Without libyaml the pure-Python loader does everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from huiqi.errors import PolicyError
from huiqi.userfiles.structured import yaml_error
from huiqi.userfiles.text import read_text


class PyLineLoader(yaml.SafeLoader):
    """A safe loader whose mappings remember the line of each key (in ``__lines__``); pure Python."""


if yaml.__with_libyaml__:

    class CLineLoader(yaml.CSafeLoader):
        """:class:`PyLineLoader` on libyaml's parser."""

    LineLoader: type[PyLineLoader] | type[CLineLoader] = CLineLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml; a source build without it falls back here
    LineLoader = PyLineLoader


_QUOTE_HINT = "：在 {…} 或 […] 里，YAML 把逗号当作分隔符，未加引号的表达式在逗号处被拆开了。请给整个表达式加引号，如 "


def _unbalanced(node: yaml.Node) -> bool:
    """A plain scalar with more opening than closing brackets: the head of an expression cut at a comma."""
    if not isinstance(node, yaml.ScalarNode) or node.style:  # plain: None (Python parser) or "" (libyaml)
        return False
    text = str(node.value)
    return text.count("(") > text.count(")") or text.count("[") > text.count("]")


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _cut_at_comma(node: yaml.MappingNode) -> None:
    """Refuse ``{expr: min(a, b) >= 1}``: YAML reads it as ``{expr: "min(a", "b) >= 1": null}``."""
    if not node.flow_style:
        return
    previous: yaml.Node | None = None
    for key_node, value_node in node.value:
        if isinstance(previous, yaml.ScalarNode) and _unbalanced(previous) and _is_null(value_node):
            whole = f"{previous.value}, {key_node.value}"
            raise PolicyError(
                f'表达式 {previous.value!r} 与 {key_node.value!r} 原是一个表达式{_QUOTE_HINT}expr: "{whole}"',
                where=f"{node.start_mark.name}:{previous.start_mark.line + 1}",
            )
        previous = value_node


def _construct_sequence(
    loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.SequenceNode, deep: bool = False
) -> list[Any]:
    """A list; refuses ``[a > 1, min(a, b) > 2]``, which YAML splits into ``"min(a"`` and ``"b) > 2"``."""
    if node.flow_style:
        for first, second in zip(node.value, node.value[1:], strict=False):
            if isinstance(first, yaml.ScalarNode) and _unbalanced(first):
                whole = f"{first.value}, {second.value}" if isinstance(second, yaml.ScalarNode) else first.value
                raise PolicyError(
                    f'列表项 {first.value!r} 是被拆开的表达式{_QUOTE_HINT}["{whole}"]',
                    where=f"{node.start_mark.name}:{first.start_mark.line + 1}",
                )
    return [loader.construct_object(child, deep=True) for child in node.value]


def _construct_mapping(
    loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[str, Any]:
    _cut_at_comma(node)
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


for _loader in {PyLineLoader, LineLoader}:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def strip_lines(value: Any) -> Any:
    """A copy of loaded data without the ``__lines__`` bookkeeping."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != "__lines__"}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def load_yaml(path: Path) -> Any:
    """Load a YAML file with line numbers; a syntax error becomes a ``PolicyError`` naming file:line."""
    text = read_text(path, what="YAML 文件", error=PolicyError)  # UTF-8 ±BOM, GBK, GB18030
    try:
        try:
            return yaml.load(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader (or CSafeLoader) subclass
        except yaml.YAMLError:
            if LineLoader is PyLineLoader:
                raise
            # libyaml words its errors (and counts a reader error's position in bytes) differently:
            # the pure-Python parser reports the error the Chinese messages are written for.
            return yaml.load(text, Loader=PyLineLoader)  # noqa: S506 - a SafeLoader subclass
    except PolicyError as exc:  # raised by the constructors above, which know the line but not the file
        raise PolicyError(exc.message, where=(exc.where or "").replace("<unicode string>", str(path))) from None
    except yaml.YAMLError as exc:
        where, message = yaml_error(exc, where=str(path), text=text)  # Chinese, at file:line:column
        raise PolicyError(message, where=where) from None


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
