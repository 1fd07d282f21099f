"""The scheduler's wiring: ``[jobs]`` settings, job sync, clock changes and run-once claims."""
