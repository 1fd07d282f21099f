"""The database: its schema, migrations, and the reads and writes of every other layer."""
