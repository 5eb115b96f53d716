"""Bad input never gives a traceback: every command fed files in odd encodings, directories, malformed YAML,
JSON and CSV, binary, empty and old-Excel files answers in Chinese (or just works), and says where.

Each command runs in-process with ``catch_exceptions=False``: an exception that escapes fails the test with
its own traceback, and the output is checked for "Traceback" as a user would see it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.locations import default_examples_dir, default_policies_dir

EXAMPLE = (default_examples_dir() / "profiles" / "suzhou-software-firm.yaml").read_text("utf-8")
AS_OF = ["--as-of", "2024-06-30", "--include-drafts"]
ENTITIES = "entity_id,entity_type,region,paid_in_capital\nA1,enterprise,江苏省;苏州市,1234.56万元\n"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return result.exit_code, output.replace("\n", "")


# --- files that must simply work -------------------------------------------------------------------------

GOOD_ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: text.encode("utf-8-sig"),
    "utf-16-bom": lambda text: text.encode("utf-16"),
    "gbk": lambda text: text.encode("gbk"),
    "gb18030": lambda text: text.encode("gb18030"),
}


@pytest.mark.parametrize("encoding", GOOD_ENCODINGS)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_profile_in_any_windows_encoding_is_evaluated(tmp_path: Path, encoding: str, suffix: str) -> None:
    text = EXAMPLE
    if suffix == ".json":
        import json

        import yaml

        text = json.dumps(yaml.safe_load(EXAMPLE), ensure_ascii=False, default=str)
    path = tmp_path / f"firm{suffix}"
    path.write_bytes(GOOD_ENCODINGS[encoding](text))
    code, output = run("evaluate", str(path), *AS_OF)
    assert code == 0, output
    assert "苏州示例工业软件有限公司" in output  # the Chinese came through intact


@pytest.mark.parametrize("encoding", GOOD_ENCODINGS)
def test_an_import_csv_in_any_windows_encoding_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "entities.csv"
    path.write_bytes(GOOD_ENCODINGS[encoding](ENTITIES))
    code, output = run("population", "import", "--entities", str(path), "--out", str(tmp_path / "pop"))
    assert code == 0, output
    assert "1 个主体" in output


# --- files that must be refused in Chinese, naming the file and where -------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name → (path, a phrase the message must contain)."""
    files: dict[str, tuple[bytes | None, str, str]] = {
        "directory": (None, ".yaml", "是一个目录"),
        "missing": (b"", ".missing", "找不到文件"),
        "empty": (b"", ".yaml", "为空"),
        "binary": (b"\x00\x01\x02\xff\xfe\x00\x00binary", ".yaml", "二进制"),
        "xlsx-as-text": (b"PK\x03\x04\x14\x00\x06\x00", ".yaml", "Office"),
        "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ".yaml", "PDF"),
        "latin-1-bytes": (b"name: caf\xe9 \xe0 la cr\xe8me\xff\xfe\xfd", ".yaml", "编码"),
        "bad-yaml-indent": (b"facts:\n  revenue: 1\n    staff: 2\n", ".yaml", ":3:"),
        "bad-yaml-tab": (b"facts:\n\trevenue: 1\n", ".yaml", "Tab"),
        "bad-yaml-bracket": ("region: [江苏省, 苏州市\nfacts: {}\n".encode("gbk"), ".yaml", "方括号"),
        "bad-yaml-quote": (b'name: "unclosed\nfacts: {}\n', ".yaml", "引号"),
        "duplicate-key": (b"name: a\nname: b\n", ".yaml", "重复的键"),
        "bad-json-comma": (b'{"entity_type": "enterprise",}', ".json", ":1:"),
        "bad-json-quote": (b"{'entity_type': 'enterprise'}", ".json", "双引号"),
    }
    made: dict[str, tuple[Path, str]] = {}
    for name, (content, suffix, phrase) in files.items():
        path = tmp_path / f"{name}{suffix}"
        if content is None:
            path.mkdir()
        elif name != "missing":
            path.write_bytes(content)
        made[name] = (path, phrase)
    return made


def test_evaluate_refuses_every_bad_profile_in_chinese(tmp_path: Path) -> None:
    for name, (path, phrase) in _bad_files(tmp_path).items():
        code, output = run("evaluate", str(path), *AS_OF)
        assert code == 2, (name, output)
        assert "错误" in output and phrase in output, (name, output)
        assert path.name in output, (name, output)


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "firm.yaml"
    path.write_text("entity_type: enterprise\nname: 甲: 乙\n", "gbk")
    code, output = run("evaluate", str(path))
    assert code == 2
    assert f"{path}:2:" in output and "第2行第" in output and "列" in output
    assert "mapping values" not in output  # PyYAML's English is not shown on its own


CSV_PROBLEMS: dict[str, tuple[bytes, str, str]] = {
    "unclosed-quote": (b'entity_id,entity_type\n"A1,enterprise\n', ".csv", "引号"),
    "binary": (b"\x00\x01\x02\x00\xff", ".csv", "二进制"),
    "empty": (b"", ".csv", "为空"),
    "blank-header": (b"\n\nA1,enterprise\n", ".csv", "列名"),
    "fake-xlsx": (b"entity_id,entity_type\n", ".xlsx", "另存为"),
    "fake-xls": (b"<html><table><tr><td>A1</td></tr></table></html>", ".xls", "另存为"),
    "wrong-type": (b"{}", ".json", "不支持的文件类型"),
}


@pytest.mark.parametrize("name", CSV_PROBLEMS)
@pytest.mark.parametrize("option", ["--entities", "--history", "--ledger"])
def test_population_import_refuses_every_bad_table_in_chinese(tmp_path: Path, name: str, option: str) -> None:
    content, suffix, phrase = CSV_PROBLEMS[name]
    good = tmp_path / "entities.csv"
    good.write_text(ENTITIES, "utf-8")
    bad = tmp_path / f"{name}{suffix}"
    bad.write_bytes(content)
    args = ["population", "import", "--out", str(tmp_path / "pop")]
    args += ["--entities", str(bad)] if option == "--entities" else ["--entities", str(good), option, str(bad)]
    code, output = run(*args)
    assert code == 2, output
    assert phrase in output and bad.name in output, output
    assert not (tmp_path / "pop" / "entities.parquet").exists()  # nothing written


def test_population_import_refuses_a_directory(tmp_path: Path) -> None:
    (tmp_path / "entities.csv").mkdir()
    code, output = run("population", "import", "--entities", str(tmp_path / "entities.csv"), "--out", str(tmp_path))
    assert code == 2 and "是一个目录" in output


@pytest.mark.parametrize(
    "command",
    [
        ["population", "generate", "--n", "5"],
        ["population", "import", "--entities", "ENTITIES"],
        ["simulate", "--population", "POPULATION"],
    ],
    ids=["generate", "import", "simulate"],
)
def test_an_output_folder_blocked_by_a_file_is_said(tmp_path: Path, command: list[str]) -> None:
    blocked = tmp_path / "out"
    blocked.write_text("a file, not a folder")
    entities = tmp_path / "entities.csv"
    entities.write_text(ENTITIES, "utf-8")
    args = [{"ENTITIES": str(entities), "POPULATION": str(tmp_path)}.get(a, a) for a in command]
    code, output = run(*args, "--out", str(blocked))
    assert code == 2 and "不是目录" in output, output


@pytest.mark.parametrize("option", ["--reform", "--budget"])
@pytest.mark.parametrize("name", ["bad-yaml-bracket", "binary", "directory", "empty", "latin-1-bytes"])
def test_simulate_plans_are_refused_in_chinese(tmp_path: Path, option: str, name: str) -> None:
    path, phrase = _bad_files(tmp_path)[name]
    code, output = run("simulate", "--population", str(tmp_path / "nowhere"), option, str(path))
    assert code == 2 and "错误" in output and path.name in output, output
    if name != "empty":  # an empty plan is told what it should contain
        assert phrase in output, output


def test_a_gbk_reform_plan_is_read(tmp_path: Path) -> None:
    source = default_examples_dir() / "reforms" / "suzhou-threshold.yaml"
    path = tmp_path / "reform.yaml"
    path.write_bytes(source.read_text("utf-8").encode("gbk"))
    code, output = run("simulate", "--population", str(tmp_path / "nowhere"), "--reform", str(path))
    assert code == 2 and "人口数据目录" in output, output  # the plan was read; the population is what is missing


def _policy_base(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), root)
    return root


def test_a_gbk_policy_file_is_read(tmp_path: Path) -> None:
    root = _policy_base(tmp_path)
    path = root / "urumqi-reply-2009" / "policy.yaml"
    path.write_bytes(path.read_text("utf-8").encode("gb18030"))
    code, output = run("validate", "--policies", str(root))
    assert code == 0, output


@pytest.mark.parametrize(
    "command", [["validate"], ["facts"], ["policies", "list"], ["policies", "spans"], ["cases"], ["demo"]]
)
@pytest.mark.parametrize("target", ["file", "missing", "binary-policy"])
def test_policy_commands_refuse_a_bad_policy_base(tmp_path: Path, command: list[str], target: str) -> None:
    if target == "file":
        root = tmp_path / "policies.yaml"
        root.write_text("not a folder")
    elif target == "missing":
        root = tmp_path / "nowhere"
    elif command == ["facts"]:
        pytest.skip("facts reads only _facts/, not the policy files")
    else:
        root = _policy_base(tmp_path)
        (root / "urumqi-reply-2009" / "policy.yaml").write_bytes(b"\x00\x01binary\x00")
    code, output = run(*command, "--policies", str(root))
    assert code in (1, 2), output
    assert "错误" in output or "✘" in output or "跳过" in output, output


@pytest.mark.parametrize(
    "url", ["sqlite:///BINARY", "sqlite:///DIRECTORY", "nonsense://x", "::::", "postgresql+psycopg://u@127.0.0.1:1/x"]
)
@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["audit", "verify"], ["users", "create", "wang"], ["serve", "--port", "1"]]
)
def test_platform_commands_refuse_a_bad_database_in_chinese(tmp_path: Path, url: str, command: list[str]) -> None:
    (tmp_path / "binary.db").write_bytes(b"\x00\x01 not sqlite" * 100)
    (tmp_path / "folder.db").mkdir()
    url = url.replace("BINARY", str(tmp_path / "binary.db")).replace("DIRECTORY", str(tmp_path / "folder.db"))
    extra = ["--role", "official", "--password", "Aa1!aaaaaaaa"] if command[0] == "users" else []
    code, output = run(*command, *extra, "--database", url)
    assert code == 2, output
    assert "数据库" in output and "错误" in output, output


def test_the_api_says_where_malformed_json_goes_wrong(tmp_path: Path) -> None:
    from huiqi.store.db import Database
    from huiqi.store.migrate import upgrade
    from platform_fixtures import TestClient, make_app

    database = Database(f"sqlite:///{tmp_path / 'api.db'}")
    upgrade(database.engine)
    client = TestClient(make_app(database))
    json_headers = {"Content-Type": "application/json"}
    reply = client.post("/api/v1/evaluate", content=b'{"profile": {\n  "entity_type": "enterprise",\n}}',
                        headers=json_headers)  # fmt: skip
    assert reply.status_code == 422
    message = reply.json()["message"]
    assert "第3行第1列" in message and "JSON" in message and "逗号" in message, message
    gbk = client.post("/api/v1/evaluate", content='{"profile": {"name": "苏州"}}'.encode("gbk"), headers=json_headers)
    assert gbk.status_code in (400, 422) and "UTF-8" in gbk.json()["message"]
    empty = client.post("/api/v1/evaluate", content=b"", headers=json_headers)
    assert empty.status_code == 422 and "为空" in empty.json()["message"]
    database.dispose()


def test_an_excel_workbook_given_as_a_profile_is_named(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["entity_type", "enterprise"])
    book.save(tmp_path / "firm.xlsx")
    code, output = run("evaluate", str(tmp_path / "firm.xlsx"))
    assert code == 2 and "Office" in output


def test_ask_refuses_a_misspelt_region_and_an_unwritable_save(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ask", "--region", "江苏 苏洲", "--as-of", "2024-06-30"], input="q\n",
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 2 and "是否应为 苏州市" in result.stderr.replace("\n", "")
    (tmp_path / "answers.yaml").mkdir()
    result = CliRunner().invoke(app, ["ask", "--region", "江苏 苏州", "--as-of", "2024-06-30", "--save",
                                      str(tmp_path / "answers.yaml")], input="q\n", catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 2 and "这是一个目录" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.output
