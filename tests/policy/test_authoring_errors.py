"""What an author sees for a broken policy file: every error at once, in Chinese, at file:line with the field path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from policy_tree import POLICY, write_tree

from huiqi.errors import PolicyError
from huiqi.policy.base import PolicyBase

_ENGLISH = re.compile(r"Field required|Input should|Extra inputs|valid|permitted|Value error")


def _errors(root: Path) -> list[str]:
    base = PolicyBase.load(root, strict=False)
    return [f"{e.where}: {e.message}" for e in base.errors]


def test_the_valid_policy_loads(tmp_path: Path) -> None:
    assert _errors(write_tree(tmp_path)) == []


def test_every_structural_error_is_listed_in_chinese_with_line_and_path(tmp_path: Path) -> None:
    broken = (
        POLICY.replace("level: city", "level: town")
        .replace("benefit: {form: fixed, amount: 50万元}", "benefit: {form: fixd, amount: 50万元}\n        once: maybe")
        .replace("applies_to: enterprise", "applies_to: firm\n        duration: {max_year: 3}")
        .replace("    kind: computable\n", "")
    )
    root = write_tree(tmp_path, broken)
    errors = _errors(root)
    text = "\n".join(errors)
    assert len(errors) == 6, text
    assert not _ENGLISH.search(text), text
    policy = root / "test-doc" / "policy.yaml"
    lines = policy.read_text("utf-8").splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    expected = {
        "document.jurisdiction.level：应为 nation、province、city、county 之一，得到 'town'": line_of("level: town"),
        "provisions[0].kind：缺少必填字段": line_of('- id: "1"'),
        "provisions[0].rules[0].applies_to：应为 enterprise、park_operator、talent、institution、project、"
        "local_government 之一，得到 'firm'（也可写成它们的列表）": line_of("applies_to: firm"),
        "provisions[0].rules[0].duration.max_year：未知的键 'max_year'；是否应为 max_years？": line_of("max_year"),
        "provisions[0].rules[0].benefit.form：应为 fixed、rate、tiers、schedule、formula、per_item、none 之一，得到 'fixd'": line_of(
            "form: fixd"
        ),
    }
    for message, line in expected.items():
        assert f"{policy}:{line}: {message}" in errors, text
    # the sixth: a boolean written as a word
    assert any("once：应为 true 或 false，得到 'maybe'" in e for e in errors), text


def test_an_unknown_key_names_the_valid_ones(tmp_path: Path) -> None:
    errors = _errors(
        write_tree(tmp_path, POLICY.replace("    kind: computable\n", "    kind: computable\n    colour: red\n"))
    )
    assert len(errors) == 1
    assert "provisions[0].colour：未知的键 'colour'（可用的键：id、number、section" in errors[0]


def test_a_misspelled_key_is_unknown_not_missing(tmp_path: Path) -> None:
    errors = _errors(write_tree(tmp_path, POLICY.replace("  source: {seed: none}", "  sorce: {seed: none}")))
    assert len(errors) == 1, errors
    assert "document.sorce：未知的键 'sorce'；是否应为 source？" in errors[0]


def test_a_short_span_says_how_to_write_it(tmp_path: Path) -> None:
    errors = _errors(write_tree(tmp_path, POLICY.replace("span: [4, 32]", "span: [4]")))
    assert len(errors) == 1, errors
    assert "provisions[0].rules[0].span[1]：应为 [起点, 终点] 两个整数" in errors[0]


def test_a_benefit_without_its_fields_says_which(tmp_path: Path) -> None:
    errors = _errors(
        write_tree(tmp_path, POLICY.replace("{form: fixed, amount: 50万元}", "{form: rate, base: paid_in_capital}"))
    )
    assert errors and "provisions[0].rules[0].benefit：form 为 rate 时需要字段 rate" in errors[0], errors


def test_an_unknown_fact_in_an_expression_suggests_the_nearest(tmp_path: Path) -> None:
    errors = _errors(write_tree(tmp_path, POLICY.replace("paid_in_capital >= 1000万元", "paid_in_captial >= 1000万元")))
    assert len(errors) == 1
    assert "provisions[0].rules[0].conditions：未知的名称 'paid_in_captial'" in errors[0]
    assert "是否应为 paid_in_capital？" in errors[0]


def test_an_unknown_function_suggests_the_nearest(tmp_path: Path) -> None:
    errors = _errors(
        write_tree(tmp_path, POLICY.replace("paid_in_capital >= 1000万元", "years_snce(established_on) >= 3"))
    )
    assert len(errors) == 1
    assert "未知的函数 years_snce()：是否应为 years_since()？" in errors[0]


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("conditions: {expr: min(paid_in_capital, registered_capital) >= 1000万元, label: 资本}", 'expr: "min('),
        ("conditions: {all: [has(paid_in_capital), max(paid_in_capital, registered_capital) >= 1万元]}", '["max('),
    ],
)
def test_an_unquoted_expression_with_a_comma_in_braces_says_to_quote_it(
    tmp_path: Path, written: str, fragment: str
) -> None:
    root = write_tree(tmp_path, POLICY.replace("conditions: paid_in_capital >= 1000万元", written))
    with pytest.raises(PolicyError) as caught:
        PolicyBase.load(root)
    message = str(caught.value)
    assert "请给整个表达式加引号" in message and fragment in message
    assert f"{root / 'test-doc' / 'policy.yaml'}:" in message


def test_a_list_inside_an_unquoted_expression_in_braces_says_to_quote_it(tmp_path: Path) -> None:
    """YAML fails to parse ``{expr: district in ['a','b']}`` at all: the syntax error itself says to quote."""
    written = "conditions: {expr: registered_city in ['苏州市','无锡市'], label: 注册地}"
    root = write_tree(tmp_path, POLICY.replace("conditions: paid_in_capital >= 1000万元", written))
    with pytest.raises(PolicyError) as caught:
        PolicyBase.load(root)
    message = str(caught.value)
    assert "加引号" in message and "Traceback" not in message
    assert f"{root / 'test-doc' / 'policy.yaml'}:" in message


def test_fact_file_errors_are_all_listed_in_chinese(tmp_path: Path) -> None:
    facts = """\
    facts:
      - key: lab_count
        name: 实验室数
        type: cout
        entity: [enterprise]
        definition: 实验室数量
      - key: lab_area
        name: 实验室面积
        type: number
        entity: [firm]
        defintion: 面积
    """
    errors = _errors(write_tree(tmp_path, facts={"test-doc.yaml": facts}))
    text = "\n".join(errors)
    assert not _ENGLISH.search(text), text
    assert (
        "facts[0]：type 应为 money、number、bool、date、text、set、list、items、count、rate、enum 之一，得到 'cout'；是否应为 count？"
        in text
    )
    assert "test-doc.yaml:2: facts[0]：type 应为" in text  # the line of the entry
    assert "facts[1].entity[0]：应为 enterprise" in text
    assert "facts[1].defintion：未知的键 'defintion'；是否应为 definition？" in text
    assert len(errors) == 3, text


def test_a_misspelled_condition_key_suggests_the_nearest(tmp_path: Path) -> None:
    errors = _errors(
        write_tree(
            tmp_path,
            POLICY.replace("conditions: paid_in_capital >= 1000万元", "conditions: {exp: 'paid_in_capital >= 1元'}"),
        )
    )
    assert len(errors) == 1 and "得到键 ['exp']；是否应为 expr？" in errors[0], errors
