"""indicators: catalogue, targets, values, documents, report deliveries

Revision ID: 0011_indicators
Revises: 0010_services
Create Date: 2026-11-26 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ioc.core.db

revision: str = "0011_indicators"
down_revision: str | None = "0010_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = ioc.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "indicator_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("target_url", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("delivered_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_deliveries")),
    )
    op.create_index(
        op.f("ix_indicator_deliveries_period"), "indicator_deliveries", ["period"], unique=False
    )
    op.create_table(
        "indicators",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("computation", sa.String(length=48), nullable=True),
        sa.Column("rollup", sa.String(length=8), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_indicators_agency_code_agencies")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_indicators")),
    )
    op.create_index(op.f("ix_indicators_agency_code"), "indicators", ["agency_code"], unique=False)
    op.create_index(op.f("ix_indicators_domain"), "indicators", ["domain"], unique=False)
    op.create_table(
        "official_documents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("signature_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_official_documents_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["place_code"], ["places.code"], name=op.f("fk_official_documents_place_code_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_documents")),
        sa.UniqueConstraint(
            "agency_code", "number", name=op.f("uq_official_documents_agency_code")
        ),
    )
    op.create_index(
        op.f("ix_official_documents_agency_code"),
        "official_documents",
        ["agency_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_official_documents_issued_on"), "official_documents", ["issued_on"], unique=False
    )
    op.create_index(
        op.f("ix_official_documents_place_code"), "official_documents", ["place_code"], unique=False
    )
    op.create_table(
        "indicator_targets",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("indicator_code", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("green", sa.Float(), nullable=False),
        sa.Column("amber", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicators.code"],
            name=op.f("fk_indicator_targets_indicator_code_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_targets")),
        sa.UniqueConstraint(
            "indicator_code", "year", name=op.f("uq_indicator_targets_indicator_code")
        ),
    )
    op.create_index(
        op.f("ix_indicator_targets_indicator_code"),
        "indicator_targets",
        ["indicator_code"],
        unique=False,
    )
    op.create_table(
        "indicator_values",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("indicator_code", sa.String(length=32), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicators.code"],
            name=op.f("fk_indicator_values_indicator_code_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_code"], ["places.code"], name=op.f("fk_indicator_values_place_code_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_values")),
        sa.UniqueConstraint(
            "indicator_code",
            "place_code",
            "period",
            name=op.f("uq_indicator_values_indicator_code"),
        ),
    )
    op.create_index(
        op.f("ix_indicator_values_indicator_code"),
        "indicator_values",
        ["indicator_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_indicator_values_period"), "indicator_values", ["period"], unique=False
    )
    op.create_index(
        op.f("ix_indicator_values_place_code"), "indicator_values", ["place_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_indicator_values_place_code"), table_name="indicator_values")
    op.drop_index(op.f("ix_indicator_values_period"), table_name="indicator_values")
    op.drop_index(op.f("ix_indicator_values_indicator_code"), table_name="indicator_values")
    op.drop_table("indicator_values")
    op.drop_index(op.f("ix_indicator_targets_indicator_code"), table_name="indicator_targets")
    op.drop_table("indicator_targets")
    op.drop_index(op.f("ix_official_documents_place_code"), table_name="official_documents")
    op.drop_index(op.f("ix_official_documents_issued_on"), table_name="official_documents")
    op.drop_index(op.f("ix_official_documents_agency_code"), table_name="official_documents")
    op.drop_table("official_documents")
    op.drop_index(op.f("ix_indicators_domain"), table_name="indicators")
    op.drop_index(op.f("ix_indicators_agency_code"), table_name="indicators")
    op.drop_table("indicators")
    op.drop_index(op.f("ix_indicator_deliveries_period"), table_name="indicator_deliveries")
    op.drop_table("indicator_deliveries")
