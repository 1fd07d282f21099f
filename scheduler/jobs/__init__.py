"""Background work: solve jobs on a queue, the worker, and the scheduled jobs.

Solve jobs (the web app's Solve button, the drafts job):

- ``settings``: the queue's settings and limits, checked at start-up;
- ``records``: creating, finding and cancelling job rows (idempotent by input);
- ``claims``: one worker per job, heartbeats, jobs whose worker died;
- ``run``: what a claimed job does: read, solve, save the drafts;
- ``local`` and ``worker``: the two back ends (a thread in this process, or
  Celery on Redis with ``rotapool worker`` processes); ``queue`` picks one.

Scheduled jobs (``rotapool scheduler``, exactly one such process):

- ``timetable``: when each network's jobs fire, in Europe/London wall-clock time;
- ``scheduling``: the APScheduler process and the claim that runs each due run once;
- ``history``: the run history, for the admin page and ``rotapool jobs list``;
- ``routine``: the jobs themselves by kind: ``drafts``, ``recheck``,
  ``reminders`` and ``retention``, with ``alerts`` (week alerts and their e-mail)."""
