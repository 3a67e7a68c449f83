"""Scenarios shipped with neuroevo (one Scenario subclass per file)."""
