"""Several replicas: leases, a shared forge budget, transitions ordered by a sequence
(PostgreSQL has no rowid), and indexes for the pending inbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # transitions gains `seq`: rebuilt, copying the rows in the order they were written.
    op.create_table(
        "transitions_new",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("promotion_id", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("note", sa.Text),
    )
    order = "rowid" if op.get_bind().dialect.name == "sqlite" else "at"
    op.execute("INSERT INTO transitions_new (promotion_id, from_state, to_state, at, note)"
               f" SELECT promotion_id, from_state, to_state, at, note FROM transitions"
               f" ORDER BY {order}")
    op.drop_table("transitions")
    op.rename_table("transitions_new", "transitions")
    op.create_index("transitions_promotion", "transitions", ["promotion_id"])
    op.create_index("events_pending", "events", ["processed_at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("holder", sa.Text),
        sa.Column("expires_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("last_run", sa.Float),
    )
    op.create_table(
        "rate_limits",
        sa.Column("forge", sa.String(100), primary_key=True),
        sa.Column("quota", sa.Integer),
        sa.Column("remaining", sa.Integer),
        sa.Column("reset_at", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "forge_writes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("forge", sa.String(100), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("forge_writes_at", "forge_writes", ["forge", "at"])


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
