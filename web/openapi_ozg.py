"""The OpenAPI path and schema of OZG application packages (issue 17), merged into
``web.openapi``'s document."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}

OZG_PATH: dict[str, Any] = {
    "post": {
        "operationId": "deliverOzgPackage",
        "summary": "Deliver an OZG application package (scope: intake): the applicant's PDFs, "
        "the structured data (JSON or XML) and the service key (LeiKa). The tenant's mapping for "
        "the key puts it into an org unit's inbox or creates a case under a file-plan node. The "
        "structured data becomes a searchable document (its fields listed, the original "
        "embedded). Repeating a delivery with the same external_id changes nothing (200).",
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["service_key", "external_id", "data"],
                        "properties": {
                            "service_key": {"type": "string", "maxLength": 40},
                            "external_id": {"type": "string", "maxLength": 200},
                            "applicant": {"type": "string", "maxLength": 300},
                            "data": {"type": "string", "format": "binary"},
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    },
                    "example": {
                        "service_key": "99050012104000",
                        "external_id": "portal-2026-000123",
                        "applicant": "Bäckerei Schmidt GmbH",
                        "data": '{"antragsteller": {"name": "Bäckerei Schmidt GmbH"}, '
                        '"betrieb": {"anschrift": "Hauptstraße 12, 61250 Usingen"}}',
                        "files": ["Gewerbeanmeldung.pdf"],
                    },
                }
            },
        },
        "responses": {
            "201": {
                "description": "Taken in",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/OzgDelivery"},
                        "example": {
                            "mode": "case",
                            "case": "32.10.05/0001/2026",
                            "process": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                            "documents": [
                                {"filename": "Antragsdaten.pdf", "outcome": "accepted"},
                                {"filename": "Gewerbeanmeldung.pdf", "outcome": "accepted"},
                            ],
                        },
                    }
                },
            },
            "200": {
                "description": "Delivered before (same external_id)",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/OzgDelivery"}}
                },
            },
            "400": ERROR,
            "401": ERROR,
            "403": ERROR,
            "404": ERROR,
            "413": ERROR,
        },
    }
}

OZG_DELIVERY: dict[str, Any] = {
    "type": "object",
    "required": ["mode", "documents"],
    "properties": {
        "mode": {"type": "string", "enum": ["inbox", "case"]},
        "case": {"type": "string", "nullable": True, "description": "Aktenzeichen (mode case)"},
        "process": {"type": "string", "format": "uuid", "nullable": True},
        "documents": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "filename": {"type": "string"},
                    "outcome": {"type": "string"},
                    "uuid": {"type": "string", "format": "uuid", "nullable": True},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}
