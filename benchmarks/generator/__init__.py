"""The parts of the synthetic network generator (``python -m benchmarks.generate``).

``figures`` holds every sourced number and the shapes of a network; ``names``
the made-up people and places; ``sites``, ``staff`` and ``demand`` build the
network in that order; ``render`` writes it as a scenario bundle."""
