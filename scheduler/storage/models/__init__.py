"""The database schema: every table, as SQLAlchemy declarative classes.

- ``base``: the declarative base, its naming convention and shared column sizes;
- ``network``: a network's imported bundle (one table per bundle file) and its rotas;
- ``app``: what the app records around a network: accounts, the audit log,
  solve jobs, requests, calendar feeds and notices, absences and demand
  changes, lending transfers, scheduled runs and week alerts.

Importing any of these modules loads them all (here), so ``Base.metadata``
always holds the whole schema: Alembic compares the migrations against it.
"""

from scheduler.storage.models import app, network, pool  # noqa: F401  (every table on Base.metadata)
