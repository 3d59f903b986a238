"""Registry polling: a cursor per repository (the tags seen, when to list them next). A
data directory made by a release with polling but before migrations has the table already.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "poll_cursors" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "poll_cursors",
        sa.Column("repository", sa.Text, primary_key=True),
        sa.Column("seen", sa.Text),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
