"""Repositories: SQLAlchemy Core over the tables of ``models``, mapping rows to domain records."""
