"""Every error as ``{"code", "message", "field"}``: workflow errors by their class, validation errors with
the field path, concurrent edits and database refusals as conflicts — never a bare 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from huiqi.api.admission import Overloaded
from huiqi.errors import HuiqiError, WorkflowError
from huiqi.store.errors import error_code
from huiqi.userfiles.structured import json_error

RETRY = {"Retry-After": "2"}
_HTTP_CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}


def body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else "")


async def _json_problem(request: Request, error: Any) -> str:
    """Where a malformed JSON body goes wrong, in Chinese: line and column, and what to fix."""
    loc = tuple(error.get("loc", ()))
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    problem = str((error.get("ctx") or {}).get("error", ""))
    try:
        text = (await request.body()).decode("utf-8")
    except (RuntimeError, UnicodeDecodeError):  # the body stream was already consumed by the route
        text = None
    if text is not None and position is not None:
        return "请求体 " + json_error(json.JSONDecodeError(problem, text, position), where="")[1]
    at = f"（第{position + 1}个字符）" if position is not None else ""
    return f"JSON 语法错误{at}：{problem or '无法解析'}；请检查引号、逗号和括号"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(WorkflowError)
    async def _workflow(_request: Request, exc: WorkflowError) -> JSONResponse:
        code, status = error_code(exc)
        return JSONResponse(body(code, exc.message, exc.where), status_code=status)

    @app.exception_handler(HuiqiError)
    async def _huiqi(_request: Request, exc: HuiqiError) -> JSONResponse:
        return JSONResponse(body("invalid_input", exc.message, exc.where), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":
            return JSONResponse(body("invalid_json", await _json_problem(request, errors[0])), status_code=422)
        if errors and errors[0].get("type") == "missing" and tuple(errors[0].get("loc", ())) == ("body",):
            return JSONResponse(body("invalid_json", "请求体为空：应为 JSON 对象"), status_code=422)
        first = errors[0] if errors else {"loc": (), "msg": "请求格式有误"}
        field = _field(tuple(first.get("loc", ())))
        detail = str(first.get("msg", "")).removeprefix("Value error, ")  # pydantic's prefix to our own messages
        message = f"字段 {field or '（请求）'} 有误：{detail}"
        if len(errors) > 1:
            message += f"（另有{len(errors) - 1}处错误）"
        return JSONResponse(body("invalid_input", message, field or None), status_code=422)

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return JSONResponse(body("conflict", "该申请刚被他人修改，请刷新后重试"), status_code=409)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return JSONResponse(body("conflict", "与已有记录冲突（重复或超出约束），操作未执行"), status_code=409)

    @app.exception_handler(DataError)
    async def _data(_request: Request, _exc: DataError) -> JSONResponse:
        return JSONResponse(body("invalid_input", "数值超出范围或格式不符，请检查输入"), status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InternalError)
    async def _operational(_request: Request, _exc: OperationalError | InternalError) -> JSONResponse:
        # lock_timeout, a deadlock broken by PostgreSQL, a lost connection: nothing was committed; retry.
        return JSONResponse(
            body("unavailable", "数据库暂时不可用或繁忙，操作未执行，请稍后重试"), status_code=503, headers=RETRY
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        return JSONResponse(
            body("unavailable", "服务繁忙：暂无可用的数据库连接，请稍后重试"), status_code=503, headers=RETRY
        )

    @app.exception_handler(Overloaded)
    async def _overloaded(_request: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse(
            body("overloaded", exc.message), status_code=503, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 400 and message == "There was an error parsing the body":
            code, message = "invalid_json", "请求体无法解析：应为 UTF-8 编码的 JSON（GBK 等其他编码请先转换为 UTF-8）"
        elif exc.status_code == 404 and message == "Not Found":
            message = "没有这个地址：API 位于 /api/v1，文档见 /api/v1/docs"
        elif exc.status_code == 405:
            message = "该地址不支持此方法"
        return JSONResponse(body(code, message), status_code=exc.status_code, headers=exc.headers)
