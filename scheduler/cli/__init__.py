"""The ``rotapool`` command line, one module per group of commands.

``main`` builds the parser from each group's ``add_commands``; ``common``
holds the arguments and helpers the groups share.  Commands call the use
cases and only print: the same all-or-nothing rules hold as in the web app."""
