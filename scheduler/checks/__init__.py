"""The independent checks: the validator, spare capacity, shortfall explanations.

Pure functions of a bundle and a rota; no database, no solver.  The
validator re-reads every hard rule from the bundle and shares no code with
the solver, so a mistake in one shows up as a disagreement; the rule ids and
the words a manager reads come from ``scheduler.catalogue``.

- ``validator``: ``check_rota`` and coverage, the last check before any save;
- ``rota_facts``, ``hard_rules``, ``horizon_rules``, ``rule_table``: its rules;
- ``capacity``: who could still take a session, rule by rule;
- ``explain``, ``reasons``, ``wording``: why a need went unmet;
- ``fixes``: ranked ways to meet it, each checked by the validator."""
