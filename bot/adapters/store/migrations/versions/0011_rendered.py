"""The rendered difference of each promotion (issue 26): the apps Kustomize and Helm render
before and after its edits, object diffs and schema checks, as JSON.

Numbered 0011: 0009 and 0010 are kept for other changes in flight; this revises the latest
present (the lead rechains it at merge).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered",
        sa.Column("promotion_id", sa.String(64), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
