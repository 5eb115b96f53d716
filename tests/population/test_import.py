"""CSV and Excel registries become population Parquet exactly, and bad cells are refused with row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.compile.document import CODE_STATUS
from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.results import Status
from huiqi.errors import HuiqiError
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.importer import import_population
from huiqi.population.profiles import tables_to_profiles

ENGINE = Engine(PolicyBase.load(default_policies_dir()))
ENTITIES = [
    ["entity_id", "entity_type", "region", "name", "paid_in_capital", "social_insurance_staff", "registered_city",
     "main_business_software", "in_miit_software_statistics", "is_industrial_software_enterprise",
     "newly_introduced_independent_entity", "established_on", "certifications"],
    ["A1", "enterprise", "江苏省/苏州市/工业园区", "甲", "1234.56万元", "56", "苏州市", "是", "是", "true", "1", "2022-03-15", "CMMI3;ITSS"],
    ["A2", "enterprise", "江苏省/苏州市", "乙", "999", "20", "苏州市", "是", "是", "否", "否", "2010-01-01", ""],
]  # fmt: skip
HISTORY = [
    ["entity_id", "year", "revenue"],
    ["A1", "2022", "4800"],
    ["A1", "2023", "13500.5"],
    ["A2", "2023", "2500万元"],
]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("write", [_csv, _xlsx], ids=["csv", "xlsx"])
def test_import_converts_exactly_and_evaluates_like_profiles(tmp_path: Path, write: object) -> None:
    suffix = ".csv" if write is _csv else ".xlsx"
    entities = write(tmp_path / f"e{suffix}", ENTITIES)  # type: ignore[operator]
    history = write(tmp_path / f"h{suffix}", HISTORY)  # type: ignore[operator]
    counts = import_population(ENGINE.catalogue, entities=entities, history=history, ledger=None,
                               out=tmp_path / "pop", money_unit="万元")  # fmt: skip
    assert counts == {"entities": 2, "history": 3, "ledger": 0}
    table = pq.read_table(tmp_path / "pop" / "entities.parquet").to_pylist()
    assert table[0]["paid_in_capital"] == 1_234_560_000  # 1234.56万元 in fen
    assert table[1]["paid_in_capital"] == 999_000_000  # bare 999 read in the declared 万元
    assert table[0]["region"] == ["江苏省", "苏州市", "工业园区"]
    assert table[0]["certifications"] == ["CMMI3", "ITSS"]
    assert table[0]["established_on"] == dt.date(2022, 3, 15)
    revenue = {
        (r["entity_id"], r["year"]): r["revenue"]
        for r in pq.read_table(tmp_path / "pop" / "history.parquet").to_pylist()
    }
    assert revenue[("A1", 2023)] == 13_500_500_000 and revenue[("A2", 2023)] == 2_500_000_000
    runner = DuckDBRunner(ENGINE)
    runner.load_parquet(tmp_path / "pop")
    query, result = runner.evaluate("suzhou-software-cluster", period=2023, as_of=dt.date(2024, 6, 30))
    capital = next(c for c in query.rules if c.ref.endswith("1/capital"))
    tables = [pq.read_table(tmp_path / "pop" / f"{n}.parquet") for n in ("entities", "history", "ledger")]
    eligible = 0
    for entity_id, profile in tables_to_profiles(*tables, ENGINE.catalogue):
        scalar = ENGINE.evaluate(profile, Options(as_of=dt.date(2024, 6, 30), documents=("suzhou-software-cluster",)))
        row = next(r for r in result.to_pylist() if r["entity_id"] == entity_id)
        expected = scalar.rule("suzhou-software-cluster:1/capital")
        assert CODE_STATUS[row[capital.status]] is expected.status
        if expected.status is Status.ELIGIBLE:
            assert row[capital.amount] == expected.amount_fen == 61_728_000  # 1234.56万元 × 5%
            eligible += 1
    assert eligible == 1  # A1 qualifies; A2 is not an industrial software firm


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["A3", "company", "", "", "", "", "", "", "", "", "", "", ""], "entity_type"),
        (["A3", "enterprise", "", "", "-5万元", "", "", "", "", "", "", "", ""], "不能为负数"),
        (["A3", "enterprise", "", "", "", "many", "", "", "", "", "", "", ""], "应为数值"),
        (["A3", "enterprise", "", "", "", "", "", "maybe", "", "", "", "", ""], "是/否"),
        (["A3", "enterprise", "", "", "", "", "", "", "", "", "", "2022/03/15", ""], "YYYY-MM-DD"),
        (["A3", "enterprise", "", "", "", "", "", "", "", "", "", "", "CMMI9"], "无效取值"),
    ],
)
def test_bad_cells_are_refused_with_row_and_column_and_nothing_written(
    tmp_path: Path, row: list[str], message: str
) -> None:
    entities = _csv(tmp_path / "e.csv", [ENTITIES[0], row])
    with pytest.raises(HuiqiError, match=message) as error:
        import_population(ENGINE.catalogue, entities=entities, history=None, ledger=None, out=tmp_path / "pop")
    assert error.value.where is not None and "第2行" in error.value.where
    assert not (tmp_path / "pop").exists()


def test_unknown_column_is_refused(tmp_path: Path) -> None:
    entities = _csv(tmp_path / "e.csv", [["entity_id", "entity_type", "revenu"], ["A", "enterprise", "1"]])
    with pytest.raises(HuiqiError, match="未知的列"):
        import_population(ENGINE.catalogue, entities=entities, history=None, ledger=None, out=tmp_path / "pop")


def test_cli_import(tmp_path: Path) -> None:
    entities = _xlsx(tmp_path / "e.xlsx", ENTITIES)
    result = CliRunner().invoke(app, ["population", "import", "--entities", str(entities), "--money-unit", "万元",
                                      "--out", str(tmp_path / "pop")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 个主体" in result.output
    bad = CliRunner().invoke(
        app, ["population", "import", "--entities", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "找不到文件" in bad.stderr


CHINESE_ENTITIES = [
    ["主体编号", "主体类型", "所在地区", "名称", "实缴注册资本（万元）", "缴纳社保员工数(人)", "登记注册地（地级市）",
     "成立日期", " 已获认证 "],
    ["C1", "企业", "江苏省;苏州市", "甲", "1234.56", "56", "苏州市", "2022-03-15", "CMMI3;ITSS"],
]  # fmt: skip
CHINESE_HISTORY = [["主体编号", "年度", "营业收入(元)", "软件业务收入（亿元）"], ["C1", "2023", "13500", "1.2"]]


def test_the_catalogues_chinese_names_and_units_are_accepted_as_headers(tmp_path: Path) -> None:
    entities = _csv(tmp_path / "e.csv", CHINESE_ENTITIES)
    history = _csv(tmp_path / "h.csv", CHINESE_HISTORY)
    import_population(ENGINE.catalogue, entities=entities, history=history, ledger=None, out=tmp_path / "pop",
                      money_unit="万元")  # fmt: skip
    row = pq.read_table(tmp_path / "pop" / "entities.parquet").to_pylist()[0]
    assert row["entity_id"] == "C1" and row["entity_type"] == "enterprise" and row["name"] == "甲"
    assert row["paid_in_capital"] == 1_234_560_000  # 1234.56 in the header's 万元
    assert row["social_insurance_staff"] == 56 and row["registered_city"] == "苏州市"
    assert row["certifications"] == ["CMMI3", "ITSS"]
    year = pq.read_table(tmp_path / "pop" / "history.parquet").to_pylist()[0]
    assert year["revenue"] == 1_350_000  # 13500 元 as the header says, not the declared 万元
    assert year["software_revenue"] == 12_000_000_000  # 1.2亿元


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("实缴注册资金", "是否应为 实缴注册资本（paid_in_capital）"),
        ("paid_in_captial", "是否应为 实缴注册资本（paid_in_capital）"),
        ("营业收入", "应放在年度历史表"),
        ("实缴注册资本（美元）", "金额列可用 元、万元、亿元"),
        ("缴纳社保员工数（万人）", "应为 人"),
    ],
)
def test_a_wrong_header_gets_the_nearest_column(tmp_path: Path, header: str, message: str) -> None:
    entities = _csv(tmp_path / "e.csv", [["主体编号", "主体类型", header], ["A", "企业", "1"]])
    with pytest.raises(HuiqiError, match=message) as error:
        import_population(ENGINE.catalogue, entities=entities, history=None, ledger=None, out=tmp_path / "pop")
    assert error.value.where is not None and "第3列" in error.value.where


def test_the_same_column_twice_is_refused(tmp_path: Path) -> None:
    entities = _csv(tmp_path / "e.csv", [["entity_id", "主体类型", "entity_type"], ["A", "企业", "enterprise"]])
    with pytest.raises(HuiqiError, match="都是"):
        import_population(ENGINE.catalogue, entities=entities, history=None, ledger=None, out=tmp_path / "pop")


def test_an_old_excel_workbook_with_chinese_headers_is_read(tmp_path: Path) -> None:
    workbook = Path(__file__).parent / "data" / "entities.xls"  # Excel 97-2003 format, written with xlwt 1.3
    import_population(ENGINE.catalogue, entities=workbook, history=None, ledger=None, out=tmp_path / "pop")
    row = pq.read_table(tmp_path / "pop" / "entities.parquet").to_pylist()[0]
    assert row["paid_in_capital"] == 1_234_560_000 and row["social_insurance_staff"] == 56
    assert row["established_on"] == dt.date(2022, 3, 15) and row["main_business_software"] is True
    assert row["entity_type"] == "enterprise"


def test_the_files_are_written_in_row_groups_of_a_fixed_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Row groups of ``ROW_GROUP_ROWS`` (131,072: DuckDB reads groups in parallel, the kernel's slices take
    whole ones), not pyarrow's default of 1,048,576 rows: here made 1 so that three entities give three."""
    from huiqi.population import importer

    rows = [*ENTITIES, ["A3", "enterprise", "江苏省/苏州市", "丙", "", "", "", "", "", "", "", "", ""]]
    monkeypatch.setattr(importer, "ROW_GROUP_ROWS", 1)
    import_population(ENGINE.catalogue, entities=_csv(tmp_path / "e.csv", rows), history=None, ledger=None,
                      out=tmp_path / "pop", money_unit="万元")  # fmt: skip
    metadata = pq.ParquetFile(tmp_path / "pop" / "entities.parquet").metadata
    assert metadata.num_row_groups == 3 and metadata.num_rows == 3
