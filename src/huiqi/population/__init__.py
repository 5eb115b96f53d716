"""Populations: synthetic registries, and what analysts ask of them (simulate, reform, compare, budget)."""
