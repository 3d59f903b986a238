"""The store's tables as SQLAlchemy Core objects: the shape the queries use. The
migrations under migrations/versions build exactly this (a test compares them).

Every table holding one manifests repository's state has a `project` column in its key
(migration 0009; rows from before are the project `default`). transitions and
promotion_members belong to their promotion, whose id is unique across projects."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("key", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("registry", Text),
    Column("repository", Text, nullable=False),
    Column("tag", Text),
    Column("digest", Text),
    Column("received_at", Float, nullable=False),
    Column("processed_at", Float),
    Column("pushed_at", Float),  # the registry's push time, where its payload says
    Index("events_pending", "project", "processed_at"),
)

promotions = Table(
    "promotions", metadata,
    Column("project", String(63), nullable=False, server_default="default"),
    Column("id", Text, primary_key=True),
    Column("image_key", Text, nullable=False),
    Column("repository", Text, nullable=False),
    Column("tag", Text),
    Column("digest", Text),
    Column("version_key", Text, nullable=False),
    Column("environment", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("event_key", Text),
    Column("received_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("plan", Text),
    Column("base_sha", Text),
    Column("commit_sha", Text),
    Column("merge_sha", Text),
    Column("approved_by", Text, nullable=False, server_default="[]"),
    Column("reason", Text),
    Column("step", Integer),
    Column("step_started", Float),
    Column("last_check", Float),
    Column("tally", Text),
    Column("next_at", Float),
    Column("train", Text),  # a release train's name (then image_key is it too), else NULL
    UniqueConstraint("project", "repository", "version_key", "environment"),
    Index("promotions_active", "project", "state"),
)

# The images a promotion carries, in order: one, or every member of a release train.
promotion_members = Table(
    "promotion_members", metadata,
    Column("promotion_id", Text, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("image_key", Text, nullable=False),
    Column("repository", Text, nullable=False),
    Column("tag", Text),
    Column("digest", Text),
    Column("pushed_at", Float),
    Index("promotion_members_image", "image_key"),
)

transitions = Table(
    "transitions", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("promotion_id", Text, nullable=False),
    Column("from_state", Text),
    Column("to_state", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("note", Text),
    Index("transitions_promotion", "promotion_id"),
)

change_requests = Table(
    "change_requests", metadata,
    Column("project", String(63), nullable=False, server_default="default"),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("promotion_id", Text, nullable=False, unique=True),
    Column("branch", Text, nullable=False),
    Column("base", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("merged_at", Float),
    Column("merge_sha", Text),
    Column("number", Integer),
    Column("url", Text),
)

comments = Table(
    "comments", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("key", Text, primary_key=True),
    Column("number", Integer, nullable=False),
    Column("comment_id", Integer),
    Column("user", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("processed_at", Float),
    # When its author wrote it (the forge's clock) and the promotion its change request
    # carried on receipt: an approval counts only for what its author saw.
    Column("written_at", Float),
    Column("promotion_id", Text),
    # The repository the payload said it is about, and a review's own id: a comment from
    # another repository counts only once the forge, read back by these, confirms it.
    Column("repository_id", Text),
    Column("review_id", Integer),
)

quarantine = Table(
    "quarantine", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("repository", Text, primary_key=True),
    Column("digest", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# A unit of work claimed by one worker at a time (`lane:<image>/<env>`, `inbox`,
# `reconcile`, ...): held until expires_at unless renewed; last_run dates periodic passes.
leases = Table(
    "leases", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("name", String(300), primary_key=True),
    Column("holder", Text),
    Column("expires_at", Float, nullable=False, server_default="0"),
    Column("last_run", Float),
)

# Forge request budgets shared by every replica: the primary limit as the forge last
# reported it (one row per forge, also the lock that orders writes to forge_writes), and a
# log of the last hour's content-creating requests for the secondary limits.
rate_limits = Table(
    "rate_limits", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("forge", String(100), primary_key=True),
    Column("quota", Integer),
    Column("remaining", Integer),
    Column("reset_at", Float),
    Column("updated_at", Float, nullable=False),
)

forge_writes = Table(
    "forge_writes", metadata,
    Column("project", String(63), nullable=False, server_default="default"),
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("forge", String(100), nullable=False),
    Column("at", Float, nullable=False),
    Index("forge_writes_at", "project", "forge", "at"),
)

# Registry polling (flows/poll.py): per repository, tags seen (JSON tag -> digest, NULL
# until the first listing) and when to list them next.
poll_cursors = Table(
    "poll_cursors", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("repository", Text, primary_key=True),
    Column("seen", Text),
    Column("next_at", Float, nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
)

# Ad-hoc freezes (`hoist freeze --env`, `/hoist freeze`): an environment listed here takes
# no planning and no merging, like a `freeze:` window, until it is unfrozen.
freezes = Table(
    "freezes", metadata,
    Column("project", String(63), primary_key=True, server_default="default"),
    Column("environment", String(200), primary_key=True),
    Column("by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# Rendered differences (flows/rendering.py): per promotion, the apps rendered before and after
# its edits, their object diffs and schema checks (JSON), and why it was held, if it was.
rendered = Table(
    "rendered", metadata,
    Column("promotion_id", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# People signed in to the page (web/people.py), installation-wide: the session id's SHA-256
# (never the id), who, their groups (OIDC; JSON list) and their forge token sealed under a
# key derived from the id (adapters/store/sessions.py). Sign-ins under way: the state's
# SHA-256, the browser's, the PKCE verifier and nonce, and where to go afterwards.
sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("login", Text, nullable=False),
    Column("provider", String(20), nullable=False),
    Column("groups", Text, nullable=False, server_default="[]"),
    Column("token", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("sessions_expiry", "expires_at"),
)

signins = Table(
    "signins", metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("verifier", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("next", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("signins_age", "created_at"),
)
