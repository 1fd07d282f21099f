"""The rota blueprint: background solves, edits, publishing, versions and diffs over HTTP."""
