"""Opening the database a command names, so that a wrong URL or an unusable file is said in Chinese.

``Database(url)`` fails lazily and in SQLAlchemy's English (``NoSuchModuleError: Can't load plugin``,
``file is not a database``); ``open_database`` connects once up front and turns each of those into a
``HuiqiError`` that says what to fix.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from huiqi.errors import HuiqiError
from huiqi.store.db import Database

EXAMPLES = "例：sqlite:///huiqi.db 或 postgresql+psycopg://用户@主机/数据库"


def shown(url: str) -> str:
    """The URL with any password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def check_url(url: str) -> None:
    """Refuse a database URL that is not even a URL (before anything is created)."""
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise HuiqiError(f"数据库 URL 格式不对：{url!r}；{EXAMPLES}", where="--database") from None


def open_database(url: str) -> Database:
    """A ``Database`` for ``url`` that has connected once; any failure is a Chinese ``HuiqiError``."""
    check_url(url)
    try:
        database = Database(url)
    except NoSuchModuleError:
        raise HuiqiError(
            f"不支持的数据库类型：{shown(url)}；可用 SQLite 或 PostgreSQL（{EXAMPLES}）", where="--database"
        ) from None
    except (ArgumentError, ImportError, ValueError) as exc:
        raise HuiqiError(f"数据库 URL 无效（{exc}）：{EXAMPLES}", where="--database") from None
    try:
        with database.engine.connect():
            pass
    except DBAPIError as exc:
        database.dispose()
        raise HuiqiError(f"无法打开数据库 {shown(url)}：{_reason(exc)}", where="--database") from None
    except SQLAlchemyError as exc:  # pragma: no cover - other connection failures
        database.dispose()
        raise HuiqiError(f"无法打开数据库 {shown(url)}（{type(exc).__name__}）", where="--database") from None
    return database


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig)
    if "file is not a database" in text:
        return "该文件不是 SQLite 数据库（可能选错了文件）"
    if "unable to open database file" in text:
        return "无法打开数据库文件：目录不存在、路径是一个目录，或没有权限"
    if "Connection refused" in text or "could not connect" in text or "connection failed" in text:
        return "无法连接数据库服务器：请检查主机、端口和服务是否已启动"
    if "password authentication failed" in text:
        return "用户名或密码不对"
    if "does not exist" in text:
        return "数据库或用户不存在"
    return f"数据库报告：{text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__}"
