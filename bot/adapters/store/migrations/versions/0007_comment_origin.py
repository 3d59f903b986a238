"""Where a comment came from: the id of the repository its webhook named, and a review's own
id, so that one naming another repository is confirmed with the forge before it counts.
Comments stored before name no repository: they are confirmed the same way.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("comments", sa.Column("repository_id", sa.Text))
    op.add_column("comments", sa.Column("review_id", sa.Integer))


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
