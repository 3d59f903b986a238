"""Projects: one Hoist serving many manifests repositories. Every table holding one
repository's state gains a `project` column, in its key; the rows already there become the
project `default`, so a single-repository store goes on as it was.

Tables whose key changes are rebuilt (SQLite cannot alter a primary key), copying every
row; change_requests and forge_writes only gain the column (their keys stay: a promotion
id is unique across projects, and forge_writes is a log).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _project(key: bool) -> sa.Column[str]:
    if key:
        return sa.Column("project", sa.String(63), primary_key=True, server_default="default")
    return sa.Column("project", sa.String(63), nullable=False, server_default="default")


def _rebuild(name: str, *items: SchemaItem,
             indexes: tuple[tuple[str, list[str]], ...] = ()) -> None:
    """Create `name` anew with items, copy every row into it (project `default`), and put
    it in the old one's place with its indexes."""
    columns = [i.name for i in items if isinstance(i, sa.Column) and i.name != "project"]
    op.create_table(f"{name}_new", *items)
    listed = ", ".join(f'"{c}"' for c in columns)
    op.execute(f'INSERT INTO {name}_new (project, {listed}) '
               f"SELECT 'default', {listed} FROM {name}")
    op.drop_table(name)
    op.rename_table(f"{name}_new", name)
    for index, on in indexes:
        op.create_index(index, name, on)


def upgrade() -> None:
    _rebuild("events", _project(True),
             sa.Column("key", sa.Text, primary_key=True),
             sa.Column("source", sa.Text, nullable=False),
             sa.Column("registry", sa.Text),
             sa.Column("repository", sa.Text, nullable=False),
             sa.Column("tag", sa.Text),
             sa.Column("digest", sa.Text),
             sa.Column("received_at", sa.Float, nullable=False),
             sa.Column("processed_at", sa.Float),
             sa.Column("pushed_at", sa.Float),
             indexes=(("events_pending", ["project", "processed_at"]),))
    _rebuild("promotions", _project(False),
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
             sa.Column("train", sa.Text),
             sa.UniqueConstraint("project", "repository", "version_key", "environment"),
             indexes=(("promotions_active", ["project", "state"]),))
    _rebuild("comments", _project(True),
             sa.Column("key", sa.Text, primary_key=True),
             sa.Column("number", sa.Integer, nullable=False),
             sa.Column("comment_id", sa.Integer),
             sa.Column("user", sa.Text, nullable=False),
             sa.Column("body", sa.Text, nullable=False),
             sa.Column("kind", sa.Text, nullable=False),
             sa.Column("received_at", sa.Float, nullable=False),
             sa.Column("processed_at", sa.Float),
             sa.Column("written_at", sa.Float),
             sa.Column("promotion_id", sa.Text),
             sa.Column("repository_id", sa.Text),
             sa.Column("review_id", sa.Integer))
    _rebuild("quarantine", _project(True),
             sa.Column("repository", sa.Text, primary_key=True),
             sa.Column("digest", sa.Text, primary_key=True),
             sa.Column("reason", sa.Text, nullable=False),
             sa.Column("at", sa.Float, nullable=False))
    _rebuild("leases", _project(True),
             sa.Column("name", sa.String(300), primary_key=True),
             sa.Column("holder", sa.Text),
             sa.Column("expires_at", sa.Float, nullable=False, server_default="0"),
             sa.Column("last_run", sa.Float))
    _rebuild("rate_limits", _project(True),
             sa.Column("forge", sa.String(100), primary_key=True),
             sa.Column("quota", sa.Integer),
             sa.Column("remaining", sa.Integer),
             sa.Column("reset_at", sa.Float),
             sa.Column("updated_at", sa.Float, nullable=False))
    _rebuild("poll_cursors", _project(True),
             sa.Column("repository", sa.Text, primary_key=True),
             sa.Column("seen", sa.Text),
             sa.Column("next_at", sa.Float, nullable=False),
             sa.Column("failures", sa.Integer, nullable=False, server_default="0"))
    _rebuild("freezes", _project(True),
             sa.Column("environment", sa.String(200), primary_key=True),
             sa.Column("by", sa.Text, nullable=False),
             sa.Column("reason", sa.Text, nullable=False),
             sa.Column("at", sa.Float, nullable=False))
    op.add_column("change_requests", _project(False))
    op.add_column("forge_writes", _project(False))
    op.drop_index("forge_writes_at", "forge_writes")
    op.create_index("forge_writes_at", "forge_writes", ["project", "forge", "at"])


def downgrade() -> None:
    raise NotImplementedError("Hoist's store migrates forward only; restore a backup")
