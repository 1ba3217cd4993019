"""feedback

Revision ID: 0002_feedback
Revises: 0001_core
Create Date: 2026-11-26 12:17:34.685184
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "0002_feedback"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "feedback_services",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("group", sa.String(length=120), nullable=False),
        sa.Column("group_en", sa.String(length=120), nullable=False),
        sa.Column("keywords", sa.String(length=400), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("route_to", sa.String(length=16), nullable=False),
        sa.Column("sla_days", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_feedback_services_agency_code_agencies"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_feedback_services")),
    )
    op.create_table(
        "feedback_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("address_id", sa.String(length=100), nullable=True),
        sa.Column("media_url", sa.String(length=1000), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=True),
        sa.Column("requested_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "duplicate_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "likely_duplicate_of",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(length=32), nullable=True),
        sa.Column("escalated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column(
            "api_key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_feedback_requests_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_feedback_requests_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["feedback_requests.id"],
            name=op.f("fk_feedback_requests_duplicate_of_feedback_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["escalated_to"],
            ["agencies.code"],
            name=op.f("fk_feedback_requests_escalated_to_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["place_code"], ["places.code"], name=op.f("fk_feedback_requests_place_code_places")
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["feedback_services.code"],
            name=op.f("fk_feedback_requests_service_code_feedback_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feedback_requests_token_hash")),
    )
    with op.batch_alter_table("feedback_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_requests_agency_code"), ["agency_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_requests_place_code"), ["place_code"], unique=False
        )
        batch_op.create_index("ix_feedback_requests_requested", ["requested_at"], unique=False)
        batch_op.create_index(
            "ix_feedback_requests_service_requested", ["service_code", "requested_at"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_requests_status_requested", ["status", "requested_at"], unique=False
        )

    op.create_table(
        "feedback_notes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=True),
        sa.Column("agency_from", sa.String(length=32), nullable=True),
        sa.Column("agency_to", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feedback_requests.id"],
            name=op.f("fk_feedback_notes_request_id_feedback_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_notes")),
    )
    with op.batch_alter_table("feedback_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_notes_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("feedback_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_notes_request_id"))

    op.drop_table("feedback_notes")
    with op.batch_alter_table("feedback_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_requests_status_requested")
        batch_op.drop_index("ix_feedback_requests_service_requested")
        batch_op.drop_index("ix_feedback_requests_requested")
        batch_op.drop_index(batch_op.f("ix_feedback_requests_place_code"))
        batch_op.drop_index(batch_op.f("ix_feedback_requests_agency_code"))

    op.drop_table("feedback_requests")
    op.drop_table("feedback_services")
