"""The film viewer: film item and view, measurement items, tool and panel, status bar, undo."""
