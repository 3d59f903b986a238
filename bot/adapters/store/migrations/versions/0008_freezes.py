"""Ad-hoc freezes of an environment (`hoist freeze`, `/hoist freeze`): who froze it, why and
when; a row blocks planning and merging there until `unfreeze` deletes it.

Numbered 0007: 0006 is kept for another change in flight; this revises the latest present.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "freezes",
        sa.Column("environment", sa.String(200), primary_key=True),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
