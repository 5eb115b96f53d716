"""The administration platform's commands: ``serve``, ``db upgrade``, ``audit verify``, ``users create``.

Registered on the main ``huiqi`` app by ``register_platform`` (the last lines of ``huiqi/cli.py``).
The database is ``--database URL``, else ``$HUIQI_DATABASE_URL``, else ``sqlite:///huiqi.db``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from huiqi.errors import HuiqiError
from huiqi.terminal import write_json

if TYPE_CHECKING:
    from huiqi.store.db import Database

# SQLAlchemy, FastAPI and the platform are imported inside the commands: `huiqi --help` and the
# evaluation commands never load them (tests/test_startup.py).

console = Console()
err = Console(stderr=True, soft_wrap=True)

db_app = typer.Typer(help="数据库：迁移。", no_args_is_help=True)
audit_app = typer.Typer(help="审计：校验哈希链。", no_args_is_help=True)
users_app = typer.Typer(help="账号：新建用户。", no_args_is_help=True)
applications_app = typer.Typer(help="申请：按所用的政策版本重放冻结的评估。", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="数据库 URL（默认 $HUIQI_DATABASE_URL 或 sqlite:///huiqi.db）")
]


def _url(database: str | None) -> str:
    from huiqi.store.db import DEFAULT_URL

    return database or os.environ.get("HUIQI_DATABASE_URL") or DEFAULT_URL


def _database(database: str | None) -> Database:
    """The database, connected once: a wrong URL or an unusable file ends the command with a Chinese error."""
    from huiqi.store.connect import open_database

    try:
        return open_database(_url(database))
    except HuiqiError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits


def _fail(exc: HuiqiError) -> None:
    where = f"{exc.where}: " if exc.where else ""
    err.print(f"[bold red]错误[/]：{where}{exc.message}", highlight=False)
    raise typer.Exit(2)


def is_fresh_sqlite(url: str) -> bool:
    """A SQLite URL whose file does not exist yet (``huiqi serve`` then loads the demo)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and bool(parsed.database) and not Path(str(parsed.database)).exists()


def default_workers(url: str) -> int:
    """Worker processes by default: one per core on PostgreSQL; one on SQLite (a single writer anyway)."""
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() == "sqlite":
        return 1
    return max(1, os.cpu_count() or 1)


def serve(
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    database: DatabaseOption = None,
    demo: Annotated[
        bool | None, typer.Option("--demo/--no-demo", help="载入演示数据（默认：新建的 SQLite 文件才载入）")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="工作进程数（默认 $HUIQI_WORKERS；否则 PostgreSQL 每个 CPU 核一个，SQLite 一个）",
        ),
    ] = None,
) -> None:
    """启动管理平台服务（REST API /api/v1，文档 /api/v1/docs）；启动时自动迁移数据库。

    例：huiqi serve --port 8000    （首次在新的 huiqi.db 上运行时载入演示数据并列出演示账号）
    例：HUIQI_DATABASE_URL=postgresql+psycopg://… huiqi serve --host 0.0.0.0 --workers 4
    """
    import uvicorn
    from sqlalchemy.engine import make_url

    from huiqi.api.app import create_app
    from huiqi.api.config import Settings
    from huiqi.store.connect import check_url

    url = _url(database)
    try:
        check_url(url)
    except HuiqiError as exc:
        _fail(exc)
    load_demo = is_fresh_sqlite(url) if demo is None else demo
    _database(database).dispose()  # a file that is not a database, a server that does not answer: said now
    if workers is None:
        workers = int(os.environ.get("HUIQI_WORKERS") or default_workers(url))
    try:
        # Migrate, create the first administrator and load the demo once, here; workers only serve.
        settings = Settings.from_env(database_url=url, demo_data=load_demo)
        app = create_app(settings)
    except HuiqiError as exc:
        _fail(exc)
        return
    console.print(f"数据库：{make_url(url).render_as_string(hide_password=True)}   工作进程：{workers}")
    for line in app.state.demo_accounts:
        console.print(f"  演示账号 {line}", highlight=False)
    base = f"http://{host}:{port}"
    console.print(f"网页：{base}/   API：{base}/api/v1   文档：{base}/api/v1/docs")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    app.state.database.dispose()
    os.environ.update({"HUIQI_DATABASE_URL": url, "HUIQI_DEMO_DATA": "false"})
    os.environ.setdefault("HUIQI_SESSION_SECRET", app.state.session_secret)  # every worker signs cookies alike
    uvicorn.run("huiqi.api.asgi:app", host=host, port=port, workers=workers, log_level="info")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """把数据库迁移到最新版本（Alembic）。

    例：huiqi db upgrade --database sqlite:///huiqi.db

    例：HUIQI_DATABASE_URL=postgresql+psycopg://… huiqi db upgrade
    """
    from huiqi.store.migrate import current_revision, upgrade

    db = _database(database)
    upgrade(db.engine)
    console.print(f"[green]✔[/] 数据库已是最新版本（{current_revision(db.engine)}）")
    db.dispose()


@audit_app.command("verify")
def audit_verify(
    database: DatabaseOption = None,
    reconcile_tables: Annotated[
        bool, typer.Option("--reconcile", help="再按审计链核对奖励、拨付和批次预算各表（对账），发现直接改库")
    ] = False,
) -> None:
    """重新计算审计事件的哈希链，发现任何篡改、删除或截断即报告并以1退出。  例：huiqi audit verify --reconcile"""
    from huiqi.workflow.audit import verify
    from huiqi.workflow.reconcile import reconcile, repeatable_read

    db = _database(database)
    with db.sessions() as session:
        repeatable_read(session)  # the chain and the tables from one snapshot
        result = verify(session)
        reconciliation = reconcile(session) if reconcile_tables else None
    db.dispose()
    if result.ok:
        console.print(f"[green]✔[/] 审计链完整：{result.events} 个事件")
    else:
        for problem in result.problems:
            err.print(f"[red]✘[/] {problem}", highlight=False)
        err.print(f"[bold red]审计链被篡改：{len(result.problems)} 处问题[/]（共 {result.events} 个事件）")
    if reconciliation is not None:
        for note in reconciliation.notes:
            console.print(f"[dim]说明：{note}[/]", highlight=False)
        checked = reconciliation.checked
        scope = f"{checked['calls']} 个批次、{checked['awards']} 项奖励、{checked['payments']} 笔拨付、{checked['applications']} 项申请"
        if reconciliation.ok:
            console.print(f"[green]✔[/] 对账一致：{scope}与审计链相符")
        else:
            for problem in reconciliation.problems:
                err.print(f"[red]✘[/] {problem}", highlight=False)
            err.print(f"[bold red]对账不符：{len(reconciliation.problems)} 处[/]（核对了{scope}）")
    if not result.ok or (reconciliation is not None and not reconciliation.ok):
        raise typer.Exit(1)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option("--role", help="applicant、official、expert、finance 或 administrator")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt="密码",
            hide_input=True,
            help="密码（至少10位且含大写、小写、数字、符号中的3类，或16位以上；不含用户名）",
        ),
    ],
    entity_id: Annotated[int | None, typer.Option("--entity-id", help="申报主体账号关联的主体编号")] = None,
    expert_id: Annotated[int | None, typer.Option("--expert-id", help="专家账号关联的专家编号")] = None,
    database: DatabaseOption = None,
) -> None:
    """新建账号（密码以 scrypt 散列保存）。  例：huiqi users create wang --role official"""
    from huiqi.store.migrate import upgrade
    from huiqi.store.users import create_user
    from huiqi.workflow import audit
    from huiqi.workflow.actors import SYSTEM

    db = _database(database)
    upgrade(db.engine)
    try:
        with db.transaction() as session:
            user = create_user(session, username=username, password=password, role=role, entity_id=entity_id,
                               expert_id=expert_id)  # fmt: skip
            audit.record(session, actor=SYSTEM, action="user.create", object_type="user", object_id=user.id,
                         before=None, after=audit.snapshot(user))  # fmt: skip
    except HuiqiError as exc:
        _fail(exc)
        return
    finally:
        db.dispose()
    console.print(f"[green]✔[/] 已新建用户 {username}（{role}）")


def notify(
    call: Annotated[int | None, typer.Option("--call", help="申报批次编号", min=1)] = None,
    document: Annotated[str | None, typer.Option("--document", help="刚发布的政策文件编号（须现行有效）")] = None,
    database: DatabaseOption = None,
) -> None:
    """政策找企业：按登记信息评估全部申报主体，通知符合或接近符合本批次（或刚发布的政策文件）的主体（已通知的不重复通知）。

    设置了 HUIQI_WEBHOOK_URL（及 HUIQI_WEBHOOK_SECRET）时，新通知同时推送到该地址，并重试推送失败的通知。

    例：huiqi notify --call 3

    例：huiqi notify --document xinjiang-2017-software
    """
    from huiqi.api.config import Settings
    from huiqi.workflow.matching import notify_call, webhook_of
    from huiqi.workflow.policy import policy_engine

    if (call is None) == (document is None):
        err.print("[bold red]错误[/]：请给出 --call（申报批次编号）或 --document（政策文件编号）之一", highlight=False)
        raise typer.Exit(2)
    db = _database(database)
    try:
        settings = Settings.from_env()
        report = notify_call(db, policy_engine(settings.policies), call, document_id=document,
                             webhook=webhook_of(settings))  # fmt: skip
    except HuiqiError as exc:
        _fail(exc)
        return
    finally:
        db.dispose()
    what = f"批次 {call}" if call is not None else f"文件 {document}"
    console.print(f"[green]✔[/] {what}：评估 {report.considered} 个主体，符合 {report.qualifies}、接近符合 "
                  f"{report.nearly}；新通知 {len(report.new_notice_ids)} 条", highlight=False)  # fmt: skip
    for line in report.skipped:
        err.print(f"[yellow]未评估[/]：{line}", highlight=False)


@applications_app.command("replay")
def applications_replay(
    application_id: Annotated[int, typer.Argument(help="申请编号", min=1, max=2**31 - 1)],
    database: DatabaseOption = None,
    policies: Annotated[
        Path | None, typer.Option("--policies", help="政策库目录（默认 $HUIQI_POLICIES 或项目的 policies/）")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """按申请提交时所用的文件版本（policy_version 哈希）重新评估冻结的事实与台账，逐字节比较评估结果；不一致以1退出。
    例：huiqi applications replay 1"""

    from huiqi.workflow.policy import policy_engine
    from huiqi.workflow.replay import replay

    try:
        policy = policy_engine(policies or _policies_root())
    except HuiqiError as exc:
        _fail(exc)
        return
    db = _database(database)
    try:
        with db.sessions() as session:
            result = replay(session, application_id=application_id, policy=policy)
    except HuiqiError as exc:
        _fail(exc)
        return
    finally:
        db.dispose()
    if json_output:
        write_json(result.to_json())
    else:
        ledger = "冻结的台账" if result.ledger_source == "frozen" else "提交前已批准的奖励（该申请冻结时尚未记录台账）"
        console.print(f"申请 {result.application_id}：文件 {result.document_id}，版本 {result.version}"
                      f"（哈希 {result.policy_version[:12]}…），台账取自{ledger}", highlight=False)  # fmt: skip
        console.print(f"冻结的评估  sha256 {result.frozen_sha256}", highlight=False)
        console.print(f"重放的评估  sha256 {result.replayed_sha256}", highlight=False)
        if result.identical:
            console.print("[green]✔[/] 逐字节一致：按所用版本重放，结果与冻结的评估完全相同")
        else:
            for line in result.differences:
                err.print(f"[red]✘[/] {line}", highlight=False)
            err.print("[bold red]重放结果与冻结的评估不一致[/]")
    if not result.identical:
        raise typer.Exit(1)


def _policies_root() -> Path | None:
    value = os.environ.get("HUIQI_POLICIES")
    return Path(value) if value else None


def register_platform(app: typer.Typer) -> None:
    """Add the platform's commands to the main ``huiqi`` app."""
    app.command("serve")(serve)
    app.command("notify")(notify)
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(applications_app, name="applications")
