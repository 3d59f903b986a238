"""Alembic's environment for the store: migrations run on the connection the store hands
over (inside its transaction), never on a URL of their own."""

from __future__ import annotations

from alembic import context

from bot.adapters.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
