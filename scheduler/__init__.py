"""rotapool as a library: everything but the model (``solver``) and the pages (``web``).

One folder per layer; imports point down this list only (docs/architecture.md,
checked by tests/test_architecture.py):

- ``cli``: the ``rotapool`` command line;
- ``jobs``: the solve queue, ``rotapool worker``, the scheduler process and its jobs;
- ``usecases``: what users ask for, inside one transaction each;
- ``reports`` and ``views``: the network reports, and what the pages show;
- ``outputs`` and ``bench``: exports and calendar files; benchmark runners;
- ``checks``, ``bundle`` and ``config``: the independent validator, spare
  capacity and explanations; reading scenario bundles; the deployment's settings;
- ``storage``: the database;
- ``domain``, ``horizon``, ``money`` and ``catalogue``: the network's types, the
  plan laid over dates, rounding, and the catalogue of rules.
"""
