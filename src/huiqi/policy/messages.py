"""pydantic's validation errors as Chinese messages an author can act on: file:line, field path, what to do.

pydantic reports in English ("Field required", "Input should be …") and, for a misspelled key, both
"extra inputs are not permitted" and "field required". Here every error of a file is turned into one
``PolicyError`` naming the file and line, the field path (``provisions[2].rules[0].benefit.form``) and,
for an unknown key, the nearest valid key (``max_year`` → ``max_years``) instead of a "missing" error.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from huiqi.errors import PolicyError
from huiqi.policy.yamlio import line_of
from huiqi.suggest import nearest

Loc = tuple[str | int, ...]

_TYPE_NAMES = {
    "str": "文本",
    "int": "整数",
    "float": "数值",
    "bool": "true 或 false",
    "list": "列表",
    "dict": "映射",
    "NoneType": "空值",
    "date": "日期",
}

#: Field names whose format deserves a specific hint when a pattern does not match.
_PATTERN_HINTS = {
    "id": "只能含字母、数字、“-”和“_”，且以字母或数字开头（document.id 只能用小写字母、数字和“-”）",
    "key": "只能含小写字母、数字和“_”，且以小写字母开头",
    "name": "只能含小写字母、数字和“_”，且以小写字母开头",
}


def validation_errors(
    exc: ValidationError, raw: Any, model: type[BaseModel], file: str, *, prefix: Loc = ()
) -> list[PolicyError]:
    """Every error of ``exc`` as a ``PolicyError`` with ``file:line``; ``raw`` is the data with ``__lines__``.

    ``prefix`` is where ``raw`` sits in the file (``("facts", 3)`` for one entry of a fact file).
    """
    grouped: dict[Loc, list[ErrorDetails]] = {}
    for error in exc.errors():
        grouped.setdefault(_clean(error["loc"], raw), []).append(error)
    # A misspelled key is an unknown key, not a missing one: fold "missing max_years" into "unknown max_year".
    suggested: dict[Loc, str] = {}
    for loc, errors in grouped.items():
        if loc and errors[0]["type"] == "extra_forbidden" and isinstance(loc[-1], str):
            parent = loc[:-1]
            missing = [m[-1] for m, e in grouped.items() if m[:-1] == parent and e[0]["type"] == "missing"]
            near = nearest(loc[-1], [str(m) for m in missing])
            if near is not None:
                suggested[loc] = near
    folded = {(*loc[:-1], name) for loc, name in suggested.items()}
    found: list[tuple[int, PolicyError]] = []
    for loc, errors in grouped.items():
        if loc in folded:
            continue
        message = _message(loc, errors, raw, model, suggested.get(loc))
        own = raw.get("__lines__", {}).get("") if isinstance(raw, dict) else None
        line = line_of(raw, loc) or line_of(raw, loc[:-1]) or own or 1
        found.append((line, PolicyError(f"{path_text((*prefix, *loc))}：{message}", where=f"{file}:{line}")))
    return [error for _, error in sorted(found, key=lambda item: item[0])]


def path_text(loc: Sequence[str | int]) -> str:
    """``provisions[2].rules[0].benefit`` from a location tuple.

    >>> path_text(("provisions", 2, "rules", 0, "benefit"))
    'provisions[2].rules[0].benefit'
    >>> path_text(())
    '（顶层）'
    """
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "（顶层）"


def _clean(loc: tuple[int | str, ...], raw: Any) -> Loc:
    """The location without pydantic's union tags (``literal[...]``, ``list[...]``, ``str``)."""
    out: list[str | int] = []
    current = raw
    for index, step in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict):
            if step in current:
                out.append(step)
                current = current[step]
            elif last and isinstance(step, str) and step.isidentifier():
                out.append(step)
            continue
        if isinstance(current, list | tuple) and isinstance(step, int):
            out.append(step)
            current = current[step] if 0 <= step < len(current) else None
            continue
        if isinstance(step, int):  # a tuple element that is missing (span: [1])
            out.append(step)
        # any other step is a union member's tag: skipped
    return tuple(out)


def _message(loc: Loc, errors: list[ErrorDetails], raw: Any, model: type[BaseModel], suggestion: str | None) -> str:
    first = errors[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if suggestion is not None:
            return f"未知的键 {key!r}；是否应为 {suggestion}？"
        valid = _fields_at(model, loc[:-1])
        near = nearest(key, valid) if valid else None
        hint = f"；是否应为 {near}？" if near else ""
        listed = f"（可用的键：{'、'.join(valid)}）" if valid else ""
        return f"未知的键 {key!r}{hint}{listed}"
    literal = next((e for e in errors if e["type"] in ("literal_error", "enum")), None)
    if literal is not None:
        also_list = any(e["type"] == "list_type" for e in errors)
        return _choices(literal) + ("（也可写成它们的列表）" if also_list else "")
    texts: list[str] = []
    for error in errors:
        text = translate(error, loc)
        if text not in texts:
            texts.append(text)
    if len(texts) > 1:
        return "不符合任何一种写法：" + "；或".join(texts)
    return texts[0]


def _choices(error: ErrorDetails) -> str:
    expected = str((error.get("ctx") or {}).get("expected", ""))
    options = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",") if part.strip()]
    return f"应为 {'、'.join(options)} 之一，得到 {_shown(error['input'])}"


def translate(error: ErrorDetails, loc: Loc = ()) -> str:
    """One pydantic error in Chinese (without the location)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error["input"]
    field = str(next((step for step in reversed(loc) if isinstance(step, str)), ""))
    got = f"，得到 {_shown(value)}"
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return "应为 [起点, 终点] 两个整数" if field == "span" else f"列表缺少第 {loc[-1] + 1} 项"
        return "缺少必填字段"
    if kind in ("literal_error", "enum"):
        return _choices(error)
    if kind in ("string_type", "string_sub_type"):
        return "应为文本" + got
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "应为整数" + got
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return "应为数值" + got
    if kind in ("bool_type", "bool_parsing"):
        return "应为 true 或 false" + got
    if kind in ("list_type", "tuple_type", "set_type"):
        return ("应为 [起点, 终点] 两个整数" if field == "span" else "应为列表（- 项 或 [a, b]）") + got
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return "应为映射（键: 值）" + got
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return "应为日期，写作 YYYY-MM-DD（如 2024-06-30）" + got
    if kind in ("too_short", "too_long"):
        if field == "span":
            return "应为 [起点, 终点] 两个整数" + got
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"应{'至少' if kind == 'too_short' else '至多'}有 {bound} 项" + got
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(field, f"应符合格式 {ctx.get('pattern')}")
        return f"格式不对：{hint}" + got
    comparisons = {"greater_than": "大于", "greater_than_equal": "大于或等于", "less_than": "小于",
                   "less_than_equal": "小于或等于"}  # fmt: skip
    if kind in comparisons:
        bound = next(iter(ctx.values()), "")
        return f"应{comparisons[kind]} {bound}" + got
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "none_required":
        return "此处应为空" + got
    return f"取值无效（{kind}）" + got


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        keys = [k for k in value if k != "__lines__"]
        return f"映射 {{{', '.join(map(str, keys))}}}"
    if isinstance(value, list):
        return f"列表（{len(value)} 项）"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model accepts at ``loc`` (empty when it is not a model there)."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            current = _element(current)
        else:
            found = _model_of(current)
            field = found.model_fields.get(step) if found else None
            if field is None:
                return []
            current = field.annotation
    found = _model_of(current)
    return list(found.model_fields) if found else []


def _members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _element(annotation: Any) -> Any:
    for member in _members(annotation):
        if typing.get_origin(member) in (list, tuple):
            args = typing.get_args(member)
            return args[0] if args else Any
    return Any
