"""The policy YAML loader: libyaml's speed when PyYAML has it, the same data, lines and errors either way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from huiqi.errors import PolicyError
from huiqi.locations import default_examples_dir, default_policies_dir
from huiqi.policy import yamlio

SEED_FILES = sorted(default_policies_dir().rglob("*.yaml")) + sorted(default_examples_dir().rglob("*.yaml"))


def test_the_loader_parses_with_libyaml_when_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:  # pragma: no cover - PyYAML's wheels ship libyaml
        pytest.skip("PyYAML was built without libyaml")
    assert issubclass(yamlio.LineLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_both_parsers_give_the_same_data_and_lines(path: Path) -> None:
    text = path.read_text("utf-8")
    fast = yaml.load(text, Loader=yamlio.LineLoader)  # noqa: S506 - safe loaders
    slow = yaml.load(text, Loader=yamlio.PyLineLoader)  # noqa: S506
    assert fast == slow  # including every mapping's ``__lines__``


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("a: 1\nb: {expr: min(x, y) >= 1}\n", ":2", "请给整个表达式加引号"),  # plain scalars: style "" in libyaml
        ("a: 1\nb: [x > 1, min(x, y) > 2]\n", ":2", "请给整个表达式加引号"),
        ("a: 1\nb:\n  c: 1\n  c: 2\n", ":4", "重复的键"),
        ("rules:\n  - id: 甲\n    x: [1, 2\n  - id: 乙\n", ":4:", "方括号列表"),  # libyaml says it otherwise
        ("标题: 中文中文\n\tb: 1\n", ":2:1", "Tab"),
        ("标题: 中文中文中文\nb: '\x07'\n", ":2:5", "控制字符"),  # libyaml counts this position in bytes
    ],
)
def test_errors_name_the_file_and_line_in_chinese(tmp_path: Path, text: str, where: str, fragment: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError) as caught:
        yamlio.load_yaml(path)
    assert (caught.value.where or "").startswith(f"{path}{where}"), caught.value.where
    assert fragment in caught.value.message
    assert "expected" not in caught.value.message and "found" not in caught.value.message


def test_without_libyaml_the_pure_python_loader_is_used(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("a: 1\nb:\n  c: [x, y]\n", "utf-8")
    script = (
        "import yaml; yaml.__with_libyaml__ = False\n"
        "from pathlib import Path\n"
        "from huiqi.policy import yamlio\n"
        "assert yamlio.LineLoader is yamlio.PyLineLoader\n"
        f"print(yamlio.load_yaml(Path({str(path)!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603
    assert (
        done.stdout.strip()
        == "{'a': 1, 'b': {'c': ['x', 'y'], '__lines__': {'': 3, 'c': 3}}, '__lines__': {'': 1, 'a': 1, 'b': 2}}"
    )
