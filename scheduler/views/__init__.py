"""Read models of the pages: what a week, a grid or a person's rota shows.

Plain functions of the bundle and a stored rota (plus a few read-only
queries), so the pages stay thin and every figure can be tested without
HTTP.  Coverage always comes from the validator and money from the export
code, so a page never disagrees with ``coverage.csv`` or ``recharges.csv``."""
