"""Reading and validating scenario bundles: the input edge of the product.

Files in (CSV folders, zips, Excel workbooks, ``network.toml``), a frozen
domain ``Bundle`` out, or every problem at once as ``FILE:ROW: column:
message``.  Pandas-free and database-free: nothing past this package sees a
file format.

- ``tables``: the files as raw text cells with their line numbers;
- ``cells``: one small parser per kind of column;
- ``specs``: each file's columns, and the row reader that collects problems;
- ``rows``: one converter per file, raw row to domain record;
- ``consistency``: checks across rows (overlapping sessions, repeated rows);
- ``settings``: ``network.toml``;
- ``reader``: ``read_bundle``, which puts it together;
- ``rota_csv``: a rota.csv read back for ``rotapool check``."""
