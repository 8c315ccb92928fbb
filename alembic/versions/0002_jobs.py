"""jobs: the transactional outbox every kind of background work goes through

Revision ID: 0002_jobs
Revises: 0001_initial
Create Date: 2026-11-30 15:11:04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.core.models

revision = "0002_jobs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

CLAIMABLE = "status IN ('queued', 'failed', 'running')"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "running", "failed", "done", "dead",
                name="job_status", native_enum=False, create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )  # fmt: skip
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_claimable_run_at",
            ["run_at"],
            unique=False,
            postgresql_where=sa.text(CLAIMABLE),
            sqlite_where=sa.text(CLAIMABLE),
        )
        batch_op.create_index("ix_jobs_status_updated", ["status", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_updated")
        batch_op.drop_index("ix_jobs_claimable_run_at")
    op.drop_table("jobs")
