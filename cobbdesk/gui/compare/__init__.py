"""The admission vs month-3 compare view and its window."""
