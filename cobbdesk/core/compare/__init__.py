"""Admission vs month-3 comparison: the rules behind the compare view (no Qt)."""
