"""Regions checked against the official administrative divisions (GB/T 2260 codes, shipped as data).

A profile's ``region`` is a path from the province down (``[江苏省, 苏州市, 苏州工业园区]``) and a document's
``jurisdiction.region`` names one division (``苏州市``); the engine compares them by name. A short form or a
typo used to compare unequal without a word ("无适用规则"); here each name is checked:

- official names and common short forms are accepted (江苏 → 江苏省, 苏州 → 苏州市, 新疆 → 新疆维吾尔自治区,
  昆山 → 昆山市, 伊犁 → 伊犁哈萨克自治州), and the path is completed upwards (``[江苏, 昆山]`` →
  ``[江苏省, 苏州市, 昆山市]``), so a provincial document finds a firm that only named its county;
- below a county-level division, and for parks or zones under a city (names ending 园区, 开发区, 高新区 …),
  names are kept as written: GB/T 2260 does not list them;
- anything else is an error naming the nearest official names (苏洲市 → 苏州市), or the places a name is
  ambiguous between (朝阳区 → 北京市朝阳区、吉林省长春市朝阳区 …).

The data (``divisions.tsv``) is dated and sourced in its header.
"""

from __future__ import annotations

from huiqi.regions.check import canonical_region, check_jurisdiction, check_region_name
from huiqi.regions.table import Division, Divisions, divisions

__all__ = ["Division", "Divisions", "canonical_region", "check_jurisdiction", "check_region_name", "divisions"]
