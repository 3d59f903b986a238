"""When the registry says an image was pushed: kept with the push in the inbox and with
each image a promotion carries (maturity gates, the Hoist-Pushed-At trailer). Rows stored
before read as not said.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("pushed_at", sa.Float))
    op.add_column("promotion_members", sa.Column("pushed_at", sa.Float))


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
