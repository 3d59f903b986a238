"""Release trains: a promotion carries a set of images (`promotion_members`), and a train's
promotion names its train. Every promotion stored before reads as one of one image: its own
image is copied into the new table.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("promotions", sa.Column("train", sa.Text))
    op.create_table(
        "promotion_members",
        sa.Column("promotion_id", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("image_key", sa.Text, nullable=False),
        sa.Column("repository", sa.Text, nullable=False),
        sa.Column("tag", sa.Text),
        sa.Column("digest", sa.Text),
    )
    op.create_index("promotion_members_image", "promotion_members", ["image_key"])
    op.execute("INSERT INTO promotion_members (promotion_id, position, image_key, repository,"
               " tag, digest) SELECT id, 0, image_key, repository, tag, digest FROM promotions")


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
