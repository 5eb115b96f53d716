"""Versions (docs/authoring.md "Versions"): an amended document keeps its earlier versions in ``versions/``; an
evaluation as of a day uses the version in force that day; ``huiqi policies diff`` says what changed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner
from versioned_tree import NEW, OLD, write_versioned

from huiqi.cli import app
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.policy.base import PolicyBase


def _amount(engine: Engine, on: dt.date, capital: str = "1000万元") -> tuple[str, int | None]:
    profile = parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                             "facts": {"paid_in_capital": capital}}, engine.catalogue)  # fmt: skip
    result = engine.evaluate(profile, Options(as_of=on, documents=("test-doc",)))
    rule = result.documents[0].provisions[0].rules[0]
    return rule.status.value, rule.amount_fen


def _errors(root: Path) -> list[str]:
    return [e.message for e in PolicyBase.load(root, strict=False).errors]


def test_an_evaluation_uses_the_version_in_force_on_its_day(tmp_path: Path) -> None:
    base = PolicyBase.load(write_versioned(tmp_path))
    assert [base.version_label(v) for v in base.versions_of("test-doc")] == ["2021", "2024年修订"]
    assert base.document("test-doc").policy.document.version == "2024年修订"  # the folder holds the current one
    engine = Engine(base)
    assert _amount(engine, dt.date(2023, 12, 31)) == ("eligible", 50_000_000)  # the last day of 2021's version
    assert _amount(engine, dt.date(2024, 1, 1)) == ("eligible", 80_000_000)  # the first day of the amendment
    assert _amount(engine, dt.date(2023, 12, 31), "900万元")[0] == "not_eligible"  # 1000万元 then
    assert _amount(engine, dt.date(2024, 1, 1), "800万元") == ("eligible", 80_000_000)  # 800万元 now, at the threshold
    assert _amount(engine, dt.date(2024, 1, 1), "799.99万元")[0] == "not_eligible"  # one fen below
    assert base.in_force("test-doc", dt.date(2019, 1, 1)) is base.versions_of("test-doc")[0]  # before all: the first


def test_a_document_never_amended_has_one_version(tmp_path: Path) -> None:
    base = PolicyBase.load()
    document = base.document("suzhou-software-cluster")
    assert base.versions_of("suzhou-software-cluster") == [document]
    assert base.in_force("suzhou-software-cluster", dt.date(2000, 1, 1)) is document


def test_versions_that_do_not_fit_together_are_refused_in_chinese(tmp_path: Path) -> None:
    unnamed = NEW.replace("  version: 2024年修订\n", "")
    assert any("现行版本也须写 document.version" in e for e in _errors(write_versioned(tmp_path, new=unnamed)))
    wrong_amends = NEW.replace('amends: "2021"', "amends: 2020年版")
    assert any("amends 应为它之前施行的版本 '2021'" in e for e in _errors(write_versioned(tmp_path, new=wrong_amends)))
    overlapping = OLD.replace("effective_to: 2023-12-31", "effective_to: 2024-01-01")
    assert any("应早于修订版本 2024年修订 的施行日" in e for e in _errors(write_versioned(tmp_path, old=overlapping)))
    same_day = NEW.replace("effective_from: 2024-01-01", "effective_from: 2021-01-01")
    assert any("施行日期相同" in e for e in _errors(write_versioned(tmp_path, new=same_day)))
    misnamed = OLD.replace('version: "2021"', "version: 二〇二一")
    assert any(
        "document.version 应与版本目录名 '2021' 相同" in e for e in _errors(write_versioned(tmp_path, old=misnamed))
    )
    newer_archived = OLD.replace("effective_from: 2021-01-01", "effective_from: 2025-01-01").replace(
        "  effective_to: 2023-12-31\n", ""
    )
    errors = _errors(write_versioned(tmp_path, old=newer_archived, new=NEW.replace('amends: "2021"', "amends: null")))
    assert any("policy.yaml 应为最新施行的版本" in e for e in errors), errors


def test_policies_diff_shows_what_changed(tmp_path: Path) -> None:
    root = write_versioned(tmp_path)
    runner = CliRunner()
    shown = runner.invoke(app, ["policies", "diff", "test-doc", "--policies", str(root)])
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "2021 → 2024年修订" in out
    assert "[修改] 规则 1/r：金额：50万元 → 80万元" in out
    assert "删除条件：paid_in_capital >= 1000万元" in out and "新增条件：paid_in_capital >= 800万元" in out
    assert "[新增] 条款 2" in out and "施行日期：2021-01-01 → 2024-01-01" in out
    as_json = runner.invoke(app, ["policies", "diff", "test-doc", "--from", "2021", "--to", "2024年修订", "--format",
                                  "json", "--policies", str(root)])  # fmt: skip
    changes = json.loads(as_json.output)["changes"]
    assert {"kind": "修改", "where": "规则 1/r", "text": "金额：50万元 → 80万元"} in changes
    unknown = runner.invoke(app, ["policies", "diff", "test-doc", "--from", "2019", "--policies", str(root)])
    assert unknown.exit_code == 2 and "没有名为 '2019' 的版本；现有版本：2021、2024年修订" in unknown.output
    single = runner.invoke(app, ["policies", "diff", "suzhou-software-cluster"])
    assert single.exit_code == 2 and "只有一个版本" in single.output


def test_the_population_engine_compiles_the_version_in_force_on_a_scenario_day(tmp_path: Path) -> None:
    from huiqi.compile.parity import Batch, differences, duckdb_run

    base = PolicyBase.load(write_versioned(tmp_path))
    assert base.as_of(dt.date(2024, 1, 1)).document("test-doc") is base.document("test-doc")
    full = Engine(base)
    for day, threshold in ((dt.date(2023, 12, 31), "1000万元"), (dt.date(2024, 1, 1), "800万元")):
        dated = Engine(base.as_of(day))
        profiles = [parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                                   "facts": {"paid_in_capital": capital}}, dated.catalogue)
                    for capital in (threshold, "900万元", "1200万元")]  # fmt: skip
        batch = Batch(document="test-doc", as_of=day, period=day.year - 1, readings=(), any_jurisdiction=False)
        compared, found = differences(dated, batch, profiles, duckdb_run(dated))
        assert compared == 3 and found == []  # DuckDB over that version = the scalar engine
        for capital in (threshold, "900万元", "1200万元"):  # = the scalar engine choosing the version by date
            assert _amount(dated, day, capital) == _amount(full, day, capital)
