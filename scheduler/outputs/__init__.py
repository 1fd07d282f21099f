"""What rotapool writes: exports (CSV, XLSX), downloads and calendar files.

Built from domain objects as headers plus rows, then written; every text
cell is neutralised against formula injection.  Pages and commands produce
the same files through the same code."""
