"""users.password_hash: an Argon2id hash, null for a user who cannot log in

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: batch mode
    # would copy users and drop the original, and with foreign keys on, dropping
    # it deletes every post, comment and role link by cascade.
    op.drop_column("users", "password_hash")
