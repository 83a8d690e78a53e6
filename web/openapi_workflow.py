"""The OpenAPI paths and schemas of the clerk's daily work (issue 16), merged into
``web.openapi``'s document: the desk, routes, steps and decisions, Wiedervorlagen."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}
READ_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
WRITE_ERRORS = {**READ_ERRORS, "409": ERROR}
DATE = {"type": "string", "format": "date"}
NULL_DATE = {"type": "string", "format": "date", "nullable": True}
UUID = {"type": "string", "format": "uuid"}
NULL_TEXT = {"type": "string", "nullable": True}
INSTRUCTIONS = ["kenntnis", "mitzeichnung", "stellungnahme", "bearbeitung", "schlusszeichnung"]
DECISIONS = [
    "mitgezeichnet",
    "mitgezeichnet_mit_aenderungen",
    "nicht_mitgezeichnet",
    "zur_kenntnis_genommen",
    "erledigt",
    "schlussgezeichnet",
]


def _uuid_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


WORKFLOW_SCHEMAS: dict[str, Any] = {
    "Step": {
        "type": "object",
        "required": ["uuid", "group", "status", "instruction"],
        "properties": {
            "uuid": UUID,
            "group": {"type": "integer"},
            "status": {"type": "string", "enum": ["future", "current", "done", "skipped"]},
            "instruction": {"type": "string", "enum": INSTRUCTIONS},
            "user": NULL_TEXT,
            "unit": NULL_TEXT,
            "deadline": NULL_DATE,
            "note": {"type": "string"},
            "decision": {"type": "string", "enum": DECISIONS, "nullable": True},
            "comment": {"type": "string"},
            "decided_at": {"type": "string", "format": "date-time", "nullable": True},
            "decided_by": NULL_TEXT,
            "on_behalf_of": {
                "type": "string",
                "nullable": True,
                "description": "the absent person a deputy decided for (i. V.)",
            },
        },
    },
    "Route": {
        "type": "object",
        "required": ["uuid", "title", "status", "steps"],
        "properties": {
            "uuid": UUID,
            "title": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["active", "returned", "recalled", "completed"],
            },
            "author": NULL_TEXT,
            "object": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["document", "process"]},
                    "uuid": {**UUID, "nullable": True},
                },
            },
            "signed_sha256": {
                "type": "string",
                "nullable": True,
                "description": "SHA-256 of the version the Schlusszeichnung froze",
            },
            "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}},
        },
    },
    "StepPlan": {
        "type": "object",
        "required": ["group", "instruction"],
        "description": "One step: to a user (user name) or an org unit (code); equal groups "
        "run in parallel, the final signature is the last step alone",
        "properties": {
            "group": {"type": "integer", "minimum": 1, "maximum": 1000},
            "instruction": {"type": "string", "enum": INSTRUCTIONS},
            "user": {"type": "string"},
            "unit": {"type": "string"},
            "deadline": DATE,
            "note": {"type": "string", "maxLength": 4000},
        },
    },
    "Wiedervorlage": {
        "type": "object",
        "required": ["uuid", "due", "done"],
        "properties": {
            "uuid": UUID,
            "due": DATE,
            "note": {"type": "string"},
            "user": NULL_TEXT,
            "done": {"type": "boolean"},
        },
    },
    "Desk": {
        "type": "object",
        "required": ["user", "today", "counts", "routed", "wiedervorlagen"],
        "properties": {
            "user": {"type": "string"},
            "today": DATE,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "routed": {"type": "array", "items": {"type": "object"}},
            "wiedervorlagen": {"type": "array", "items": {"type": "object"}},
            "assigned": {"type": "array", "items": {"type": "object"}},
            "my_routes": {"type": "array", "items": {"type": "object"}},
            "standing_in_for": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Desk"},
            },
        },
    },
}

WORKFLOW_PATHS: dict[str, Any] = {
    "/desk": {
        "get": {
            "operationId": "getDesk",
            "summary": "The token user's desk: routed to them now, Wiedervorlagen due, inbox "
            "documents assigned, their routes, and the desks of whom they stand in for "
            "(scope: read)",
            "parameters": [
                {"name": "due_by", "in": "query", "schema": DATE},
                {
                    "name": "order",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["deadline", "-deadline"]},
                },
            ],
            "responses": {"200": _json("Desk", "The desk"), **READ_ERRORS},
        }
    },
    "/routes": {
        "post": {
            "operationId": "startRoute",
            "summary": "Start a route (Geschäftsgang) on a document or a process (scope: workflow)",
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["steps"],
                    "properties": {
                        "document": UUID,
                        "process": UUID,
                        "title": {"type": "string", "maxLength": 500},
                        "steps": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 50,
                            "items": {"$ref": "#/components/schemas/StepPlan"},
                        },
                    },
                }
            ),
            "responses": {"201": _json("Route", "Started"), **WRITE_ERRORS},
        }
    },
    "/routes/{route}": {
        "get": {
            "operationId": "getRoute",
            "summary": "A route and its steps (scope: read)",
            "parameters": [_uuid_param("route")],
            "responses": {"200": _json("Route", "The route"), **READ_ERRORS},
        }
    },
    "/routes/{route}/recall": {
        "post": {
            "operationId": "recallRoute",
            "summary": "The author recalls an open route (scope: workflow)",
            "parameters": [_uuid_param("route")],
            "requestBody": _body(
                {"type": "object", "properties": {"reason": {"type": "string"}}}, False
            ),
            "responses": {"200": _json("Route", "Recalled"), **WRITE_ERRORS},
        }
    },
    "/steps/{step}/decision": {
        "post": {
            "operationId": "decideStep",
            "summary": "Decide a current step addressed to the token's user or to whom they "
            "stand in for (i. V.) (scope: workflow)",
            "parameters": [_uuid_param("step")],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["decision"],
                    "properties": {
                        "decision": {"type": "string", "enum": DECISIONS},
                        "comment": {"type": "string", "maxLength": 4000},
                    },
                }
            ),
            "responses": {"200": _json("Route", "The route after the decision"), **WRITE_ERRORS},
        }
    },
    "/wiedervorlagen": {
        "get": {
            "operationId": "listWiedervorlagen",
            "summary": "The token user's open Wiedervorlagen by date (scope: read)",
            "parameters": [{"name": "due_by", "in": "query", "schema": DATE}],
            "responses": {
                "200": {
                    "description": "Wiedervorlagen",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Wiedervorlage"},
                            }
                        }
                    },
                },
                **READ_ERRORS,
            },
        },
        "post": {
            "operationId": "addWiedervorlage",
            "summary": "Add a Wiedervorlage on one case, process or document (scope: workflow)",
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["due"],
                    "properties": {
                        "due": DATE,
                        "note": {"type": "string", "maxLength": 4000},
                        "user": {"type": "string"},
                        "case": UUID,
                        "process": UUID,
                        "document": UUID,
                    },
                }
            ),
            "responses": {"201": _json("Wiedervorlage", "Added"), **WRITE_ERRORS},
        },
    },
    "/wiedervorlagen/{wiedervorlage}/done": {
        "post": {
            "operationId": "finishWiedervorlage",
            "summary": "Mark a Wiedervorlage done (scope: workflow)",
            "parameters": [_uuid_param("wiedervorlage")],
            "requestBody": _body(
                {"type": "object", "properties": {"note": {"type": "string"}}}, False
            ),
            "responses": {"200": _json("Wiedervorlage", "Done"), **WRITE_ERRORS},
        }
    },
}
