"""Lists of items (issue 14.3): a list fact (certificates with level, fee and year), a rule paying per item
(a rate of the item's fee, a cap per item by level) with a cap per enterprise — evaluated, explained item by
item; bad profiles and bad policy files get Chinese messages. The SQL side is tests/compile/test_per_item_parity.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from huiqi.cases import load_cases, run_case
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import parse_profile
from huiqi.errors import ProfileError
from huiqi.policy.base import PolicyBase, default_policies_dir

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policies"


def items_base(root: Path) -> Path:
    """The seed policies with the per-item test policy and its fact file."""
    shutil.copytree(default_policies_dir(), root)
    shutil.copytree(FIXTURES / "sz-test-items", root / "sz-test-items")
    shutil.copy(FIXTURES / "_facts" / "sz-test-items.yaml", root / "_facts")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(PolicyBase.load(items_base(tmp_path_factory.mktemp("base") / "policies")))


def test_the_cases_pass_item_by_item(engine: Engine) -> None:
    cases = load_cases(engine, "sz-test-items")
    assert len(cases) == 4
    assert [run_case(engine, case).failures for case in cases] == [[]] * 4


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("CMMI5", "取得的认证应为列表，每一项写成 {字段: 值}"),
        (
            [{"name": "CMMI5", "grade": "国家级"}],
            "取得的认证的项目没有字段 'grade'；可用：name（认证名称）、level（级别）",
        ),
        ([{"level": "部级"}], "级别含无效取值 ['部级']：可用 国家级、省级"),
        ([{"fee": "-3万元"}], "认证费用不能为负数"),
        (["CMMI5"], "取得的认证的第1项应为 {字段: 值} 的映射"),
    ],
)
def test_a_bad_item_is_named_in_chinese(engine: Engine, items: object, message: str) -> None:
    raw = {"entity_type": "enterprise", "facts": {"certificates_obtained": items}}
    with pytest.raises(ProfileError) as caught:
        parse_profile(raw, engine.catalogue)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("items: certificates_obtained", "items: registered_city", "items 应为列表类事实（type: items）的名称"),
        ("amount: item_fee * 50%", "amount: item_cost * 50%", "未知的名称 'item_cost'"),
        ("where: {expr: item_year == period", "where: {expr: item_level == period", "item_level"),
    ],
)
def test_validate_explains_a_wrong_per_item_rule(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = items_base(tmp_path / "policies")
    policy = root / "sz-test-items" / "policy.yaml"
    text = policy.read_text("utf-8")
    assert old in text
    policy.write_text(text.replace(old, new), "utf-8")
    errors = [str(e) for e in PolicyBase.load(root, strict=False).errors]
    assert any(message in e and "sz-test-items" in e for e in errors), errors
