"""Fixtures: a synthetic policy with a population of firms, and the seed policies with their case profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huiqi.cases import load_cases
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import Profile, parse_profile
from huiqi.policy.yamlio import strip_lines

from .populations import PROVISIONS, MiniFactory, firms, parse_all, write_population


class Synthetic:
    """The synthetic policy's engine, its firms and their Parquet folder."""

    def __init__(self, engine: Engine, profiles: list[tuple[str, Profile]], folder: Path) -> None:
        self.engine = engine
        self.profiles = profiles
        self.folder = folder
        self.policies = engine.base.root


@pytest.fixture
def synthetic(mini: MiniFactory, tmp_path: Path) -> Synthetic:
    engine = mini(PROVISIONS)
    profiles = parse_all(engine, firms(400, seed=3))
    return Synthetic(engine, profiles, write_population(tmp_path / "population", engine, profiles))


@pytest.fixture(scope="session")
def case_profiles(seed_engine: Engine) -> list[tuple[str, Profile]]:
    """Every policy case's profile (ledger references resolved), as one population."""
    found: list[tuple[str, Profile]] = []
    for index, case in enumerate(load_cases(seed_engine)):
        raw: dict[str, Any] = strip_lines(case.raw)
        found.append((f"C{index:04d}", parse_profile(raw["profile"], seed_engine.catalogue, document=case.document)))
    return found


@pytest.fixture(scope="session")
def case_population(seed_engine: Engine, case_profiles: list[tuple[str, Profile]], tmp_path_factory: Any) -> Path:
    return write_population(tmp_path_factory.mktemp("cases"), seed_engine, case_profiles)
