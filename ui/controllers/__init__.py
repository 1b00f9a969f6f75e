"""Controllers: each owns one panel's behaviour for the window, off the GUI thread."""
