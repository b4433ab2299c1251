"""make foo.bar optional

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    with op.batch_alter_table("foo") as batch_op:
        batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)


def downgrade():
    op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
    with op.batch_alter_table("foo") as batch_op:
        batch_op.alter_column("bar", existing_type=sa.String(20), nullable=False)
