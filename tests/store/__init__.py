"""Tests of huiqi.store."""
