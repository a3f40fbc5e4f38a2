"""Measuring: geometry of the signed Cobb angle, the measurement model, undoable commands,
mouse interaction, endplate snapping, film facing, guards and the measurement session."""
