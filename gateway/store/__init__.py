"""Storage: the engine, the tables, named locks, and the migrations."""
