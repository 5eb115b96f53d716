"""``huiqi simulate`` end to end through the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from huiqi.cli import app

from .conftest import Synthetic

REFORM = 'overrides:\n  - rule: test-doc:1/scale\n    replace: {"2000万元": "1000万元"}\n'
BUDGET = "budgets:\n  test-doc:1: 500万元\n"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_simulate_writes_every_output(synthetic: Synthetic, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "-o", str(out), "--policies", str(synthetic.policies),
                           "--as-of", "2024-06-30")  # fmt: skip
    assert code == 0, output
    assert "按文件汇总" in output and "评价年度 2023" in output
    for name in ("by_document.parquet", "by_provision.csv", "results.parquet", "summary.xlsx", "report.html"):
        assert (out / name).exists(), name


def test_simulate_with_a_reform_and_a_budget(synthetic: Synthetic, tmp_path: Path) -> None:
    reform, budget = tmp_path / "reform.yaml", tmp_path / "budget.yaml"
    reform.write_text(REFORM, encoding="utf-8")
    budget.write_text(BUDGET, encoding="utf-8")
    out = tmp_path / "out"
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "-o", str(out), "--policies", str(synthetic.policies),
                           "--reform", str(reform), "--budget", str(budget))  # fmt: skip
    assert code == 0, output
    assert "改革前后：按条款" in output and "预算：需求、超额与分配" in output
    for name in ("reform_entities.parquet", "reform_changes.csv", "budget.parquet", "budget_allocation.csv"):
        assert (out / name).exists(), name


def test_compare_documents(case_population: Path, tmp_path: Path) -> None:
    code, output = _invoke("simulate", "-p", str(case_population), "-o", str(tmp_path / "out"),
                           "--compare", "suzhou-software-cluster,guangzhou-software")  # fmt: skip
    assert code == 0, output
    assert "各文件受益主体与金额" in output and "忽略属地" in output
    assert (tmp_path / "out" / "compare_entities.parquet").exists()


def test_errors_are_reported_in_chinese(synthetic: Synthetic, tmp_path: Path) -> None:
    policies = str(synthetic.policies)
    code, output = _invoke("simulate", "-p", str(tmp_path / "nowhere"), "--policies", policies)
    assert code == 2 and "找不到人口数据目录" in output
    bad = tmp_path / "bad.yaml"
    bad.write_text("overrides:\n  - rule: test-doc:1/nope\n    set: {benefit.amount: 1万元}\n", encoding="utf-8")
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "--policies", policies, "--reform", str(bad))
    assert code == 2 and "没有规则 'nope'" in output and f"{bad}:2" in output
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "--policies", policies, "-d", "nope")
    assert code == 2 and "没有编号为 'nope' 的文件" in output
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "--policies", policies, "--compare", "test-doc",
                           "--reform", str(bad))  # fmt: skip
    assert code == 2 and "不能同时使用" in output
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = _invoke("simulate", "-p", str(empty), "--policies", policies)
    assert code == 2 and "缺少 entities.parquet" in output


def test_help_has_examples() -> None:
    code, output = _invoke("simulate", "--help")
    assert code == 0 and "例：huiqi simulate" in output


def test_a_file_that_is_not_parquet_is_refused_and_left_alone(synthetic: Synthetic, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(synthetic.folder, folder)
    (folder / "history.parquet").write_text("year,revenue\n2023,1\n", encoding="utf-8")
    code, output = _invoke("simulate", "-p", str(folder), "--policies", str(synthetic.policies))
    assert code == 2 and "无法读取 history.parquet" in output
    assert (folder / "history.parquet").read_text(encoding="utf-8") == "year,revenue\n2023,1\n"


def test_simulate_on_spark(synthetic: Synthetic, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "-o", str(out), "--policies", str(synthetic.policies),
                           "--engine", "spark", "--spark-master", "local[1]")  # fmt: skip
    assert code == 0, output
    assert "规则计算引擎：Spark" in output and (out / "results.parquet").exists()
    code, output = _invoke("simulate", "-p", str(synthetic.folder), "--policies", str(synthetic.policies),
                           "--engine", "flink")  # fmt: skip
    assert code == 2 and "未知的引擎" in output


def test_simulate_within_a_small_memory_limit_spills_instead_of_failing(synthetic: Synthetic, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("simulate", "-p", str(synthetic.folder), "-o", str(out), "--policies", str(synthetic.policies))
    code, output = _invoke(*args, "--memory-limit", "64MB")
    assert code == 0, output
    assert (out / "by_document.parquet").exists()
    code, output = _invoke(*args, "--memory-limit", "lots")
    assert code == 2 and "--memory-limit" in output


def test_documents_left_out_by_status_are_named_with_the_option_that_brings_them_in(
    case_population: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = _invoke("simulate", "-p", str(case_population), "-o", str(out), "--as-of", "2024-06-30")
    assert code == 0, output
    said = " ".join(output.split())  # the console wraps long notes
    assert "文件：xinjiang-2017-software" in said
    assert "未纳入 suzhou-software-cluster：征求意见稿，尚未正式施行，加 --include-drafts 纳入" in said
    assert "未纳入 zhejiang-software-bases：已过有效期（至 2018-12-31），加 --include-expired 纳入" in said
    assert "未纳入 guangzhou-software：" in (out / "report.html").read_text("utf-8")

    code, output = _invoke("simulate", "-p", str(case_population), "-o", str(out), "--as-of", "2024-06-30",
                           "--include-drafts", "--include-expired")  # fmt: skip
    assert code == 0, output
    said = " ".join(output.split())
    assert "suzhou-software-cluster" in said.split("文件：")[1].split("规则计算引擎")[0]
    assert "zhejiang-software-bases" in said.split("文件：")[1].split("规则计算引擎")[0]
    assert "未纳入" not in said

    code, output = _invoke("simulate", "-p", str(case_population), "-o", str(out), "--as-of", "2024-06-30",
                           "--include-drafts")  # fmt: skip
    said = " ".join(output.split())
    assert code == 0 and "未纳入 zhejiang-software-bases" in said and "--include-drafts 纳入" not in said
