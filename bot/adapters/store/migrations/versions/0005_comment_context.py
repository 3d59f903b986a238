"""What a comment was written for: when its author wrote it (the forge's time) and which
promotion its change request carried when Hoist received it. Comments stored before read
as written at an unknown time for the promotion handling them finds.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("comments", sa.Column("written_at", sa.Float))
    op.add_column("comments", sa.Column("promotion_id", sa.Text))


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
