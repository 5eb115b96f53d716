"""Server time of the public web pages (policy library, search, document page, rule panel, 公示 and its
downloads), measured in process through the ASGI app on a temporary SQLite database with the demo data and
one call in 公示 — the time to build each response, not the network or the browser.

Usage: python bench/web_pages.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from huiqi.api.app import create_app  # noqa: E402
from huiqi.api.config import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    from tests.web.conftest import _seed_publicity

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({}, database_url=f"sqlite:///{folder}/bench.db", demo_data=True)
        app = create_app(settings)
        call_id, _ = _seed_publicity(app)
        client = TestClient(app)
        pages = {
            "政策库首页 /": "/",
            "搜索 首版次（三字以上：FTS5 trigram）": "/?q=首版次",
            "搜索 人才（两字：LIKE）": "/?q=人才",
            "文件页（原文，未选条款）": "/policies/guangzhou-software",
            "文件页（选中条款 二.5）": "/policies/guangzhou-software?provision=二.5",
            "条款说明片段（htmx）": "/policies/suzhou-software-cluster/provisions/3",
            "公示": "/publicity",
            "公示 CSV": "/publicity.csv",
            "公示通知 PDF（WeasyPrint）": f"/publicity/{call_id}/notice.pdf",
        }
        headers = {"/policies/suzhou-software-cluster/provisions/3": {"HX-Request": "true"}}
        print(f"{'page':<40} {'median ms':>10} {'p95 ms':>8}  (rounds: {args.rounds}; first call excluded)")
        for label, url in pages.items():
            extra = headers.get(url, {})
            assert client.get(url, headers=extra).status_code == 200, url  # warm: templates compiled
            rounds = max(5, args.rounds // 10) if url.endswith(".pdf") else args.rounds
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                client.get(url, headers=extra)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{label:<40} {statistics.median(times):>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
