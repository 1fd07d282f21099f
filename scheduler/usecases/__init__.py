"""What users ask rotapool to do, as plain functions inside the caller's transaction.

Import a bundle, plan, edit, publish, repair, lend, record absences and
demand changes, ask for leave or cover, manage accounts, hand out feed
links, send change notices.  The web app and the command line call these
and only format the results, so the same all-or-nothing behaviour holds
whichever door a request comes through.  Every change is re-checked by the
validator before it is saved, and audited in the same transaction."""
