"""Tests of huiqi.api."""
