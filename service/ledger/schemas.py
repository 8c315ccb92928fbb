"""Shape of the public supporter count."""

from __future__ import annotations

from marshmallow import Schema, fields


class SupporterCountSchema(Schema):
    """The live count, its friendly form for copy, and what it counts."""

    count = fields.Integer(
        required=True, metadata={"description": "Supporters now, offset included."}
    )
    display = fields.String(
        required=True, metadata={"description": 'For copy: "847", "over 5,400".'}
    )
    definition = fields.String(
        required=True, metadata={"description": "Who counts as a supporter."}
    )
