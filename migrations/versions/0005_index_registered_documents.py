"""Index registered documents by age: the cap on them (GRAPHQL_PERSISTED_QUERIES_MAX)
finds the oldest without scanning the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 15:20:25.478394
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("persisted_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_persisted_documents_trusted_created_at", ["trusted", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("persisted_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_persisted_documents_trusted_created_at")
