"""Tests of huiqi.workflow."""
