"""The fact catalogue."""
