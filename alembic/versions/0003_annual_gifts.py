"""annual gifts: the `annual` frequency and each recurring gift's interval

Revision ID: 0003_annual_gifts
Revises: 0002_jobs
Create Date: 2026-11-30 16:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_annual_gifts"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None

OLD_FREQUENCIES = "frequency IN ('one_off', 'monthly')"
NEW_FREQUENCIES = "frequency IN ('one_off', 'monthly', 'annual')"
FREQUENCY_TABLES = ("checkout_attempts", "donations")


def _replace_frequency_check(table: str, condition: str) -> None:
    # Enums are stored as checked strings: a new value is a new CHECK constraint. SQLite
    # cannot alter one, so batch mode copies the table (named checks and indexes kept).
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_frequency"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_frequency"), condition)


def upgrade() -> None:
    for table in FREQUENCY_TABLES:
        _replace_frequency_check(table, NEW_FREQUENCIES)
    with op.batch_alter_table("monthly_donations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "interval",
                sa.Enum(
                    "month", "year",
                    name="interval", native_enum=False, create_constraint=True,
                ),
                server_default="month",
                nullable=False,
            )
        )  # fmt: skip


def downgrade() -> None:
    # Annual gifts cannot be expressed in the older schema: refuse rather than lose them.
    bind = op.get_bind()
    annual = bind.execute(
        sa.text("SELECT count(*) FROM monthly_donations WHERE interval = 'year'")
    ).scalar()
    if annual:
        raise RuntimeError(f"{annual} annual gifts exist; the older schema cannot hold them")
    with op.batch_alter_table("monthly_donations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_monthly_donations_interval"), type_="check")
        batch_op.drop_column("interval")
    for table in FREQUENCY_TABLES:
        _replace_frequency_check(table, OLD_FREQUENCIES)
