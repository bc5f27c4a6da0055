"""Alembic environment for the keystore database; the caller passes the connection."""

from alembic import context

from strongroom.storage.keystore_tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
