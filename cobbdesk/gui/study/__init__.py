"""The open study in the GUI: browser, tree model, lab form, background jobs, session."""
