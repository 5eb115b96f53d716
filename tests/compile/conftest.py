"""Fixtures for the population engine: DuckDB and a shared local Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from huiqi.compile.spark_runner import spark_session


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
