"""public services: procedures, dossiers, steps

Revision ID: 0010_services
Revises: 0009_devices
Create Date: 2026-11-26 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ioc.core.db

revision: str = "0010_services"
down_revision: str | None = "0009_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = ioc.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_procedures",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("online_level", sa.String(length=16), nullable=False),
        sa.Column("legacy_level", sa.SmallInteger(), nullable=False),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("postal_return", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_service_procedures_agency_code_agencies"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_service_procedures")),
    )
    op.create_index(
        op.f("ix_service_procedures_sector"), "service_procedures", ["sector"], unique=False
    )
    op.create_table(
        "dossiers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("current_agency", sa.String(length=32), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("paused_at", TIME, nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("completed_at", TIME, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("delivery", sa.String(length=8), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_code"],
            ["service_procedures.code"],
            name=op.f("fk_dossiers_procedure_code_service_procedures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("code", name=op.f("uq_dossiers_code")),
    )
    op.create_index("ix_dossiers_received", "dossiers", ["received_at"], unique=False)
    op.create_index(
        "ix_dossiers_completed_district",
        "dossiers",
        ["completed_at", "district_code", "on_time"],
        unique=False,
    )
    op.create_index(
        "ix_dossiers_agency_received", "dossiers", ["agency_code", "received_at"], unique=False
    )
    op.create_index(op.f("ix_dossiers_place_code"), "dossiers", ["place_code"], unique=False)
    op.create_table(
        "dossier_steps",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("dossier_id", BIG_ID, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_agency", sa.String(length=32), nullable=True),
        sa.Column("to_agency", sa.String(length=32), nullable=True),
        sa.Column("status_from", sa.String(length=24), nullable=True),
        sa.Column("status_to", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_steps_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_steps")),
    )
    op.create_index(
        op.f("ix_dossier_steps_dossier_id"), "dossier_steps", ["dossier_id"], unique=False
    )
    op.create_table(
        "dossier_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=True),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "place_code", name=op.f("pk_dossier_daily")),
    )


def downgrade() -> None:
    op.drop_table("dossier_daily")
    op.drop_index(op.f("ix_dossier_steps_dossier_id"), table_name="dossier_steps")
    op.drop_table("dossier_steps")
    op.drop_index(op.f("ix_dossiers_place_code"), table_name="dossiers")
    op.drop_index("ix_dossiers_agency_received", table_name="dossiers")
    op.drop_index("ix_dossiers_completed_district", table_name="dossiers")
    op.drop_index("ix_dossiers_received", table_name="dossiers")
    op.drop_table("dossiers")
    op.drop_index(op.f("ix_service_procedures_sector"), table_name="service_procedures")
    op.drop_table("service_procedures")
