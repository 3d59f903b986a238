"""The store as Hoist kept it before migrations (commit bf71aac): a data directory made
then is stamped at this revision and upgraded from here.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("registry", sa.Text),
        sa.Column("repository", sa.Text, nullable=False),
        sa.Column("tag", sa.Text),
        sa.Column("digest", sa.Text),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("processed_at", sa.Float),
    )
    op.create_table(
        "promotions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("image_key", sa.Text, nullable=False),
        sa.Column("repository", sa.Text, nullable=False),
        sa.Column("tag", sa.Text),
        sa.Column("digest", sa.Text),
        sa.Column("version_key", sa.Text, nullable=False),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("event_key", sa.Text),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("plan", sa.Text),
        sa.Column("base_sha", sa.Text),
        sa.Column("commit_sha", sa.Text),
        sa.Column("merge_sha", sa.Text),
        sa.Column("approved_by", sa.Text, nullable=False, server_default="[]"),
        sa.Column("reason", sa.Text),
        sa.Column("step", sa.Integer),
        sa.Column("step_started", sa.Float),
        sa.Column("last_check", sa.Float),
        sa.Column("tally", sa.Text),
        sa.Column("next_at", sa.Float),
        sa.UniqueConstraint("repository", "version_key", "environment"),
    )
    op.create_table(
        "transitions",
        sa.Column("promotion_id", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("promotion_id", sa.Text, nullable=False, unique=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("base", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("merged_at", sa.Float),
        sa.Column("merge_sha", sa.Text),
        sa.Column("number", sa.Integer),
        sa.Column("url", sa.Text),
    )
    op.create_table(
        "comments",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("comment_id", sa.Integer),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("processed_at", sa.Float),
    )
    op.create_index("promotions_active", "promotions", ["state"])
    op.create_table(
        "quarantine",
        sa.Column("repository", sa.Text, primary_key=True),
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("quarantine", "comments", "change_requests", "transitions", "promotions",
                  "events"):
        op.drop_table(table)
