"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from web.params import MAX_PAGE

ERROR = {"$ref": "#/components/responses/Error"}


def _uuid_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "eAkte API",
            "version": "1",
            "description": "Deliver applications from online service portals, search, read "
            "and download case records. Authenticate with `Authorization: Bearer <token>`; "
            "tokens are issued by an administrator with scopes.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error with a machine-readable code",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": SCHEMAS,
        },
    }


SCHEMAS: dict[str, Any] = {
    "SearchResult": {
        "type": "object",
        "required": ["total", "page", "hits"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "suggestion": {"type": "string", "nullable": True},
            "hits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["case", "document"]},
                        "uuid": {"type": "string", "format": "uuid", "nullable": True},
                        "title": {"type": "string"},
                        "file_reference": {"type": "string"},
                        "snippet_html": {
                            "type": "string",
                            "description": "HTML-escaped text with <mark> around the hits",
                        },
                        "date": {"type": "string", "format": "date", "nullable": True},
                    },
                },
            },
            "facets": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"value": {"type": "string"}, "count": {"type": "integer"}},
                    },
                },
            },
        },
    },
    "Delivery": {
        "type": "object",
        "required": ["case", "process", "documents"],
        "properties": {
            "case": {"$ref": "#/components/schemas/Case"},
            "process": {"type": "string", "format": "uuid"},
            "documents": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "filename": {"type": "string"},
                        "outcome": {
                            "type": "string",
                            "enum": ["accepted", "duplicate", "existing", "quarantined"],
                        },
                        "uuid": {"type": "string", "format": "uuid", "nullable": True},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Version": {
        "type": "object",
        "required": ["uuid", "kind", "filename", "mime", "size", "sha256"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "kind": {"type": "string", "enum": ["original", "rendition"]},
            "filename": {"type": "string"},
            "mime": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
        },
    },
    "Document": {
        "type": "object",
        "required": ["uuid", "title", "status", "sha256", "versions"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "title": {"type": "string"},
            "doc_type": {"type": "string"},
            "correspondent": {"type": "string"},
            "received_date": {"type": "string", "format": "date", "nullable": True},
            "status": {"type": "string"},
            "page_count": {"type": "integer", "nullable": True},
            "sha256": {"type": "string"},
            "case": {"type": "string", "format": "uuid", "nullable": True},
            "process": {"type": "string", "format": "uuid", "nullable": True},
            "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}},
            "signatures": {"type": "array", "items": {"$ref": "#/components/schemas/Signature"}},
            "fields": {
                "type": "array",
                "description": "Fields read from the content (an e-invoice's number, seller, ...)",
                "items": {"$ref": "#/components/schemas/Field"},
            },
        },
    },
    "Signature": {
        "type": "object",
        "description": "A validated signature of a signed PDF (issue 25)",
        "properties": {
            "field": {"type": "string"},
            "signer": {"type": "string"},
            "organisation": {"type": "string"},
            "email": {"type": "string"},
            "signing_time": {"type": "string", "format": "date-time", "nullable": True},
            "timestamp_time": {"type": "string", "format": "date-time", "nullable": True},
            "status": {
                "type": "string",
                "enum": ["valid", "invalid", "tampered", "untrusted", "expired", "unknown"],
            },
            "trusted": {"type": "boolean"},
            "whole_document": {"type": "boolean"},
            "modified_after_signing": {"type": "boolean"},
            "qualified": {"type": "boolean"},
            "details": {"type": "string"},
            "validated_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "Field": {
        "type": "object",
        "required": ["name", "value", "source"],
        "properties": {
            "name": {"type": "string"},
            "value": {"type": "string"},
            "date": {"type": "string", "format": "date", "nullable": True},
            "number": {"type": "string", "nullable": True},
            "unit": {"type": "string", "nullable": True},
            "source": {"type": "string"},
        },
    },
    "Case": {
        "type": "object",
        "required": ["uuid", "file_reference", "title", "status", "processes"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "file_reference": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "closed_at": {"type": "string", "format": "date", "nullable": True},
            "retention_end": {"type": "string", "format": "date", "nullable": True},
            "file_plan": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "title": {"type": "string"}},
            },
            "processes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "uuid": {"type": "string", "format": "uuid"},
                        "number": {"type": "integer"},
                        "title": {"type": "string"},
                        "status": {"type": "string"},
                        "documents": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "uuid": {"type": "string", "format": "uuid"},
                                    "title": {"type": "string"},
                                    "status": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

INTAKE_METADATA = (
    "JSON: {external_id?, case: {file_plan, title, description?} or {file_reference}, "
    "process?: {title} or {number}, documents?: [{title?, doc_type?, correspondent?, "
    "received_date?}] (one per file, in order)}"
)

PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "operationId": "search",
            "summary": "Search cases and documents the token's user may open (scope: search)",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                {
                    "name": "advanced",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["0", "1"]},
                },
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                {
                    "name": "sort",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["relevance", "newest", "oldest"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "Hits",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SearchResult"}
                        }
                    },
                },
                "400": ERROR,
                "401": ERROR,
                "403": ERROR,
            },
        }
    },
    "/intake": {
        "post": {
            "operationId": "intakeApplication",
            "summary": "Deliver an application: creates a case (or fills the one named) with a "
            "new process and takes in every file (scope: intake). Repeating a delivery with the "
            "same external_id changes nothing and answers 200.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["metadata", "files"],
                            "properties": {
                                "metadata": {
                                    "type": "string",
                                    "description": INTAKE_METADATA,
                                },
                                "files": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Taken in",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Delivery"}}
                    },
                },
                "200": {
                    "description": "Delivered before (same external_id)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Delivery"}}
                    },
                },
                "400": ERROR,
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
                "409": ERROR,
                "413": ERROR,
                "415": ERROR,
            },
        }
    },
    "/cases/{case}": {
        "get": {
            "operationId": "getCase",
            "summary": "Read a case with its processes and documents (scope: read)",
            "parameters": [_uuid_param("case")],
            "responses": {
                "200": {
                    "description": "The case",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}
                    },
                },
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
            },
        }
    },
    "/documents/{document}": {
        "get": {
            "operationId": "getDocument",
            "summary": "Read a document's metadata and versions (scope: read)",
            "parameters": [_uuid_param("document")],
            "responses": {
                "200": {
                    "description": "The document",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Document"}}
                    },
                },
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
            },
        }
    },
    "/versions/{version}/content": {
        "get": {
            "operationId": "downloadVersion",
            "summary": "Download a file version; its SHA-256 is verified while streaming "
            "(scope: download)",
            "parameters": [_uuid_param("version")],
            "responses": {
                "200": {
                    "description": "The bytes",
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
            },
        }
    },
    "/documents/{document}/suggestions": {
        "get": {
            "operationId": "getSuggestions",
            "summary": "Suggested title, letter date, sender and type, and the top three open "
            "cases and file-plan nodes the token's user may file the document into (scope: read)",
            "parameters": [_uuid_param("document")],
            "responses": {
                "200": {
                    "description": "The suggestions",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
            },
        }
    },
    "/batches/{batch}/quality": {
        "get": {
            "operationId": "getBatchQuality",
            "summary": "Recognition quality of a scan batch's pages, those below the "
            "thresholds first (scope: read)",
            "parameters": [_uuid_param("batch")],
            "responses": {
                "200": {
                    "description": "The summary and the pages",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
            },
        }
    },
}

# The clerk's daily work (issue 16): its operations and schemas, kept in a module of their own.
from web.openapi_workflow import WORKFLOW_PATHS, WORKFLOW_SCHEMAS  # noqa: E402

PATHS.update(WORKFLOW_PATHS)
SCHEMAS.update(WORKFLOW_SCHEMAS)

# OZG application packages (issue 17), likewise.
from web.openapi_ozg import OZG_DELIVERY, OZG_PATH  # noqa: E402

PATHS["/ozg"] = OZG_PATH
SCHEMAS["OzgDelivery"] = OZG_DELIVERY
