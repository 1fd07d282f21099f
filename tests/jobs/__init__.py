"""Solve jobs: queued, claimed, solved, cancelled and recovered, with real solves."""
