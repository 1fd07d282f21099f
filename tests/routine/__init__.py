"""The scheduled jobs as ordinary functions: drafts, re-check, reminder, retention."""
