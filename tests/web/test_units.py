"""The pieces under the pages: money and date formatting, the one document-status rule (and that the engine,
the CLI table and the library agree on it), and Chinese search."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.policy.base import PolicyBase
from huiqi.policy.search import QueryError, SearchIndex
from huiqi.policy.status import Status, document_status
from huiqi.present import policies_table
from huiqi.web.formatting import ceiling, date_cn, money


def test_money_as_officials_write_it() -> None:
    assert money(1_234_560_000) == "1,234.56万元"
    assert money(650_000_000) == "650万元"
    assert money(1_100_000_000_000 // 100) == "11,000万元"
    assert money(1_234_567) == "12,345.67元"  # not a whole 百元: exact 元
    assert money(5_000_050) == "50,000.5元" or money(5_000_050) == "50,000.50元"
    assert money(Fraction(1, 3)) == "0元（约）"
    assert money(None) == "—" and ceiling(300_000_000) == "最高300万元"
    assert date_cn(dt.date(2024, 6, 30)) == "2024年6月30日" and date_cn("2016-01-01") == "2016年1月1日"


def test_the_status_of_a_document_depends_on_the_day(seed_base: PolicyBase) -> None:
    zhejiang = seed_base.document("zhejiang-software-bases").policy.document  # 2016-01-01 … 2018-12-31, 现行有效
    assert document_status(zhejiang, dt.date(2015, 12, 31)) is Status.NOT_YET
    assert document_status(zhejiang, dt.date(2017, 1, 1)) is Status.IN_FORCE
    assert document_status(zhejiang, dt.date(2018, 12, 31)) is Status.IN_FORCE
    assert document_status(zhejiang, dt.date(2019, 1, 1)) is Status.EXPIRED
    draft = seed_base.document("guangzhou-software").policy.document
    assert document_status(draft, dt.date(2024, 6, 30)) is Status.DRAFT


def test_the_cli_list_and_the_engine_agree_on_an_expired_document(seed_base: PolicyBase, seed_engine: Engine) -> None:
    on = dt.date(2024, 6, 30)
    table = policies_table(seed_base, on)
    rows = dict(zip(table.columns[0]._cells, table.columns[4]._cells, strict=True))
    assert str(rows["zhejiang-software-bases"]).startswith("已失效")  # it said 现行有效 before
    county = parse_profile({"entity_type": "local_government", "region": ["浙江省", "杭州市"]}, seed_base.catalogue)
    skipped = {s["document"]: s["reason"] for s in seed_engine.evaluate(county, Options(as_of=on)).skipped}
    assert "已过有效期" in skipped["zhejiang-software-bases"]
    assert str(rows["xinjiang-2017-software"]) == "现行有效" and "xinjiang-2017-software" not in skipped


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("进档补差", {("guangzhou-software", "二.5"), ("suzhou-software-cluster", "3")}),
        ("首版次", {("guangzhou-software", "二.9"), ("suzhou-software-cluster", "11")}),
        ("人才", {("guangzhou-software", "二.13"), ("suzhou-software-cluster", "12")}),  # 2 characters: LIKE
        ("专精特新", {("guangzhou-software", "二.2"), ("suzhou-software-cluster", "3")}),
    ],
)
def test_chinese_search_finds_the_right_provisions(
    seed_base: PolicyBase, query: str, expected: set[tuple[str, str]]
) -> None:
    found = {(h.document, h.provision) for h in SearchIndex(seed_base).search(query)}
    assert expected <= found


def test_a_search_too_short_or_too_long_is_refused_in_chinese(seed_base: PolicyBase) -> None:
    index = SearchIndex(seed_base)
    with pytest.raises(QueryError, match="至少输入2个字"):
        index.search("人")
    with pytest.raises(QueryError, match="过长"):
        index.search("软" * 41)
    assert index.search("不存在的词语组合") == []


def test_the_library_lists_documents_in_force_first(seed_base: PolicyBase) -> None:
    from huiqi.web.documents import summaries

    found = summaries(seed_base, dt.date(2024, 6, 30))
    order = [s.status for s in found]
    assert order[0] is Status.IN_FORCE and order[-1] is Status.EXPIRED  # drafts in between
    assert order.index(Status.DRAFT) > order.index(Status.IN_FORCE)


def test_simulate_takes_the_documents_in_force_unless_others_are_named(seed_engine: Engine) -> None:
    from huiqi.errors import EvaluationError
    from huiqi.population.simulate import select_documents

    assert select_documents(seed_engine, [], on=dt.date(2024, 6, 30)) == ["xinjiang-2017-software"]
    assert select_documents(seed_engine, [], on=dt.date(2017, 12, 31)) == [
        "xinjiang-2017-software", "zhejiang-software-bases"
    ] or set(select_documents(seed_engine, [], on=dt.date(2017, 12, 31))) == {
        "xinjiang-2017-software", "zhejiang-software-bases"
    }  # fmt: skip
    named = select_documents(seed_engine, ["guangzhou-software"], on=dt.date(2024, 6, 30))
    assert named == ["guangzhou-software"]  # a draft is simulated when named
    with pytest.raises(EvaluationError, match="没有现行有效的文件"):
        select_documents(seed_engine, [], on=dt.date(2010, 1, 1))


def test_policies_list_json_gives_the_status_today_beside_the_declared_one() -> None:
    import json

    from typer.testing import CliRunner

    from huiqi.cli import app

    result = CliRunner().invoke(app, ["policies", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    by_id = {d["id"]: d for d in json.loads(result.output)}
    zhejiang = by_id["zhejiang-software-bases"]  # declared 现行有效, ran to 2018-12-31
    assert (zhejiang["status"], zhejiang["current_status"]) == ("现行有效", "已失效")
    assert "2018-12-31" in zhejiang["current_status_reason"]
