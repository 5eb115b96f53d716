"""YAML and JSON from users, with every syntax error in Chinese at file:line:column.

PyYAML and the json module explain problems in English parser terms ("mapping values are not allowed
here"); here each common problem is said as what to fix, with the place it was found. The YAML loader is
safe (no tags that build objects) and refuses a key written twice in one mapping, which PyYAML would
silently resolve by keeping the last value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from huiqi.errors import HuiqiError, InputFileError
from huiqi.userfiles.text import read_text

# (pattern of PyYAML's problem or context, Chinese explanation); the first that matches is used.
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"found character '\\t'", "含制表符（Tab）：YAML 只能用空格缩进，请把 Tab 换成空格"),
    (r"tab character", "含制表符（Tab）：YAML 只能用空格缩进，请把 Tab 换成空格"),
    (r"mapping values are not allowed", "此处不能出现“键: 值”：可能是缩进不一致，或值里含“: ”（请给整个值加引号）"),
    (r"unknown escape character", "双引号字符串中含无效的转义（\\）：请改用单引号，或把 \\ 写成 \\\\"),
    (r"quoted scalar", "引号未闭合：请检查这一行和上面几行的引号是否成对"),
    (
        r"expected ',' or '\]'",
        "方括号列表 [...] 未闭合，或元素之间缺少逗号；若这是含逗号或方括号的表达式，请整体加引号，"
        "如 expr: \"district in ['a', 'b']\"",
    ),
    (
        r"expected ',' or '\}'",
        "花括号映射 {...} 未闭合，或项之间缺少逗号；若值是含逗号或方括号的表达式，请整体加引号，"
        "如 {expr: \"district in ['a', 'b']\"}",
    ),
    (r"could not find expected ':'", "缺少冒号：每个键后应写“: ”再写值"),
    (r"expected <block end>", "缩进不一致：同一层级的键应对齐，列表项“- ”应与上下文对齐"),
    (r"did not find expected key", "缩进不一致或缺少键：同一层级的键应对齐"),
    (r"did not find expected '-' indicator", "列表缩进不一致：每项应以对齐的“- ”开头"),
    (r"undefined alias", "含未定义的别名（*名称）：若是普通文字，请给值加引号"),
    (r"cannot start any token", "某个字符不能出现在值的开头（如 @ 或 `）：请给值加引号"),
    (r"could not determine a constructor", "含不允许的标签（!!…）：请删除标签，只写普通的值"),
    (r"single document", "文件含多个文档（---）：一个文件只能有一个文档"),
    (r"expected alphabetic or numeric character", "& 或 * 后应为名称：若是普通文字，请给值加引号"),
    (r"unexpected end of stream", "文件意外结束：请检查引号和括号是否成对"),
    (r"found duplicate anchor", "锚点（&名称）重复"),
)

_JSON_PROBLEMS: tuple[tuple[str, str], ...] = (
    (
        "Expecting property name enclosed in double quotes",
        "此处应为双引号括起的键名（JSON 不允许末尾多余的逗号、单引号或注释）",
    ),
    ("Expecting ',' delimiter", "缺少逗号：相邻的项之间应以逗号分隔"),
    ("Expecting ':' delimiter", "缺少冒号：键后应写冒号再写值"),
    ("Expecting value", "此处应为一个值（字符串须用双引号；JSON 不允许末尾多余的逗号）"),
    ("Unterminated string", "字符串未闭合：缺少结尾的双引号"),
    ("Invalid control character", "字符串中含换行或控制字符：请写成 \\n 等转义"),
    ("Invalid \\escape", "字符串中含无效的转义（\\）：反斜杠应写成 \\\\"),
    ("Extra data", "一个完整的 JSON 值之后还有多余内容"),
)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(None, None, "键不能是列表或映射", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的键 {key!r}（第{seen[key]}行已出现）：同一层级每个键只能写一次", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def yaml_error(exc: yaml.YAMLError, *, where: str, text: str) -> tuple[str, str]:
    """``(where with :line:column, Chinese message)`` for a PyYAML error raised while reading ``text``."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return (
            f"{where}:{line}:{column}",
            f"YAML 语法错误（第{line}行第{column}列）：含不允许的控制字符 U+{ord(str(exc.character)) if isinstance(exc.character, str) else exc.character:04X}：请删除它",
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        found = f"{exc.context or ''} {exc.problem or ''}"
        problem = exc.problem or ""
        if any("\u4e00" <= ch <= "\u9fff" for ch in problem):  # our own messages (duplicate keys)
            message = problem
        else:
            message = next((zh for pattern, zh in _YAML_PROBLEMS if re.search(pattern, found)), "")
            message = message or f"YAML 语法错误，请检查这一行及上一行（解析器：{problem or found.strip()}）"
        return f"{where}:{line}:{column}", f"YAML 语法错误（第{line}行第{column}列）：{message}"
    return where, f"YAML 语法错误：{exc}"  # pragma: no cover - every PyYAML error is a ReaderError or marked


def json_error(exc: json.JSONDecodeError, *, where: str) -> tuple[str, str]:
    """``(where with :line:column, Chinese message)`` for a JSON syntax error."""
    message = next((zh for english, zh in _JSON_PROBLEMS if exc.msg.startswith(english)), f"语法错误（{exc.msg}）")
    return f"{where}:{exc.lineno}:{exc.colno}", f"JSON 语法错误（第{exc.lineno}行第{exc.colno}列）：{message}"


def load_yaml_text(text: str, *, where: str, error: type[HuiqiError] = InputFileError) -> Any:
    """Parse YAML safely; a syntax error or a duplicate key is an ``error`` at ``where:line:column``."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        at, message = yaml_error(exc, where=where, text=text)
        raise error(message, where=at) from None


def load_json_text(text: str, *, where: str, error: type[HuiqiError] = InputFileError) -> Any:
    """Parse JSON; a syntax error is an ``error`` at ``where:line:column``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at, message = json_error(exc, where=where)
        raise error(message, where=at) from None
    except RecursionError:
        raise error("JSON 嵌套层数过多", where=where) from None


def load_structured_file(path: Path, *, what: str = "文件", error: type[HuiqiError] = InputFileError) -> Any:
    """A ``.json`` file as JSON, any other as YAML (JSON is valid YAML); an empty file is an ``error``."""
    text = read_text(path, what=what, error=error)
    if not text.strip():
        raise error(f"{what}为空", where=str(path))
    if path.suffix.lower() == ".json":
        return load_json_text(text, where=str(path), error=error)
    return load_yaml_text(text, where=str(path), error=error)
