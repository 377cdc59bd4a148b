"""base data: grid layer versions, component census attributes, standard addresses

Revision ID: 0002_base_data
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityloop.adapters.db.types

revision: str = "0002_base_data"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("road", sa.String(length=100), nullable=False),
        sa.Column("door", sa.String(length=20), nullable=False),
        sa.Column("compound", sa.Boolean(), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("poi_type", sa.String(length=50), nullable=False),
        sa.Column("aliases", sa.String(length=1000), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_addresses_code_valid_from")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_addresses_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index("ix_addresses_road_door", ["road", "door"], unique=False)

    op.create_table(
        "grid_layers",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("district_codes", sa.String(length=200), nullable=False),
        sa.Column("grid_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", cityloop.adapters.db.types.UtcDateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_grid_layers_created_by_users")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_grid_layers")),
    )
    op.create_table(
        "component_attributes",
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_code", sa.String(length=18), nullable=False),
        sa.Column("supervisor_name", sa.String(length=100), nullable=False),
        sa.Column("owner_code", sa.String(length=18), nullable=False),
        sa.Column("owner_name", sa.String(length=100), nullable=False),
        sa.Column("maintainer_code", sa.String(length=18), nullable=False),
        sa.Column("maintainer_name", sa.String(length=100), nullable=False),
        sa.Column("data_source", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column(
            "photos",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_component_attributes_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", name=op.f("pk_component_attributes")),
    )


def downgrade() -> None:
    op.drop_table("component_attributes")
    op.drop_table("grid_layers")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_addresses_road_door")
        batch_op.drop_index(batch_op.f("ix_addresses_district_code"))
        batch_op.drop_index(batch_op.f("ix_addresses_code"))
    op.drop_table("addresses")
