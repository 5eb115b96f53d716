"""Shapes every resource shares: pages, errors, and money as yuan strings."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from huiqi.money import format_yuan

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` with the ``total`` matching the filters."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorBody(BaseModel):
    """Every error: a stable code, a Chinese message that says what to do, and the field it is about."""

    code: str = Field(examples=["illegal_transition"])
    message: str = Field(examples=["申请当前为“草稿”，不能“批准（预留预算）”"])
    field: str | None = Field(default=None, examples=["state"])


def yuan(fen: int | None) -> str | None:
    """Integer fen as the API's money string (``"2000000.00"``)."""
    return None if fen is None else format_yuan(fen)


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "未登录或令牌无效"),
        (403, "角色无权进行此操作"),
        (404, "对象不存在或无权查看"),
        (409, "状态不允许、重复或预算不足"),
        (422, "输入有误（field 指明字段）"),
    )
}
