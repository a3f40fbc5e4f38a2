"""Study > Reading plans…: plans, progress, the blinded reading view and adjudication (#14)."""
