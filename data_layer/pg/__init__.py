"""The PostgreSQL side: the SMARTS tables (schema, Alembic migration) and the store's sync."""
