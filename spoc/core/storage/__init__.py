"""Storage: the database, sealed columns and their keys, and the per-plugin migrations."""
