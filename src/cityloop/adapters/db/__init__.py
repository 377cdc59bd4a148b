"""Storage: SQLAlchemy models (one schema for SQLite and PostgreSQL), engine, unit of work."""
