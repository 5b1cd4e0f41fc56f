"""The OpenAPI 3.0 document of the cases API, built from the same limits the code enforces."""

from __future__ import annotations

from collections.abc import Mapping

# The fields a client may send when opening a case, and the config key bounding each one's length.
CASE_INPUT_FIELDS: dict[str, str | None] = {
    "title": "CASE_TITLE_MAX_LENGTH",
    "description": "CASE_DESCRIPTION_MAX_LENGTH",
    "severity": None,
    "product_version": "CASE_VERSION_MAX_LENGTH",
    "product_build": "CASE_VERSION_MAX_LENGTH",
    "business_impact": "CASE_FIELD_MAX_LENGTH",
    "environment": "CASE_FIELD_MAX_LENGTH",
}

_DATETIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATETIME = {"type": "string", "format": "date-time", "nullable": True}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def build_document(config: Mapping) -> dict:
    """The whole document; field lengths come from the running configuration."""

    def text(key: str, description: str, required: bool = False) -> dict:
        schema = {"type": "string", "maxLength": int(config[key]), "description": description}
        if required:
            schema["minLength"] = 1
            # Not blank as the server reads it: NUL is dropped, and Python's str.strip() also takes
            # U+001C-U+001F and U+0085, which a JSON Schema (ECMA-262) "\S" still counts as text.
            schema["pattern"] = r"[^\s\x00\x1c-\x1f\x85]"
        else:
            schema["nullable"] = True  # the API reads null as "not given"
        return schema

    case_input = {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "description", "severity"],
        "properties": {
            "title": text("CASE_TITLE_MAX_LENGTH", "A one-line summary of the problem.", True),
            "description": text("CASE_DESCRIPTION_MAX_LENGTH", "What happens and what was tried (Markdown).", True),
            "severity": {"type": "integer", "enum": [1, 2, 3, 4],
                         "description": "1 = production replication down … 4 = a question. See /severity."},
            "product_version": text("CASE_VERSION_MAX_LENGTH", "Product version, e.g. 8.0."),
            "product_build": text("CASE_VERSION_MAX_LENGTH", "Product build number."),
            "business_impact": text("CASE_FIELD_MAX_LENGTH", "How the problem affects the business."),
            "environment": text("CASE_FIELD_MAX_LENGTH", "Sites, hypervisors, appliance versions and so on."),
        },
    }
    sla = {
        "type": "object",
        "required": ["state", "label", "seconds_left"],
        "properties": {
            "state": {"type": "string", "enum": ["on_track", "at_risk", "breached", "met", "missed", "stopped"]},
            "label": {"type": "string"},
            "seconds_left": {"type": "integer", "nullable": True,
                             "description": "Until the first response is due (negative when overdue); null once the clock stopped."},
        },
    }
    summary_properties = {
        "number": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "severity": {"type": "integer", "enum": [1, 2, 3, 4]},
        "severity_label": {"type": "string"},
        "status": {"type": "string", "enum": ["new", "open", "waiting", "resolved", "closed"]},
        "organization": {"type": "string"},
        "opened_by": {"type": "string"},
        "product_version": {"type": "string"},
        "product_build": {"type": "string"},
        "created_at": _DATETIME,
        "updated_at": _DATETIME,
        "first_response_at": _NULLABLE_DATETIME,
        "response_due_at": _DATETIME,
        "sla": {"$ref": "#/components/schemas/Sla"},
        "escalated": {"type": "boolean"},
        "escalated_at": _NULLABLE_DATETIME,
    }
    case_summary = {"type": "object", "required": sorted(summary_properties), "properties": summary_properties}
    detail_properties = dict(summary_properties)
    detail_properties.update({
        "description": {"type": "string"},
        "business_impact": {"type": "string"},
        "environment": {"type": "string"},
        "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"},
                     "description": "Public comments only; internal notes are never included."},
        "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"},
                        "description": "Files on the case and its public comments; files on internal notes never appear."},
    })
    case_detail = {"type": "object", "required": sorted(detail_properties), "properties": detail_properties}
    comment = {
        "type": "object",
        "required": ["author", "from_support", "body", "created_at"],
        "properties": {
            "author": {"type": "string"},
            "from_support": {"type": "boolean"},
            "body": {"type": "string"},
            "created_at": _DATETIME,
        },
    }
    attachment_properties = {
        "id": {"type": "integer"},
        "filename": {"type": "string", "description": "The name as it was sent."},
        "size": {"type": "integer", "description": "Bytes."},
        "content_type": {"type": "string"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "uploaded_by": {"type": "string", "nullable": True},
        "created_at": _DATETIME,
        "url": {"type": "string", "format": "uri", "description": "Download address (GET with the token; Range works)."},
    }
    attachment = {"type": "object", "required": sorted(attachment_properties), "properties": attachment_properties}
    max_files, max_bytes = int(config["ATTACHMENT_MAX_FILES"]), int(config["ATTACHMENT_MAX_BYTES"])
    attachment_input = {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "minItems": 1, "maxItems": max_files,
                      "items": {"type": "string", "format": "binary"},
                      "description": f"Up to {max_files} files of at most {max_bytes} bytes each, in parts named 'files'."},
            "comment": {"type": "string", "maxLength": int(config["CASE_COMMENT_MAX_LENGTH"]),
                        "description": "Optional: a public comment the files go with (Markdown)."},
        },
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "title", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "For 422: what is wrong with each field."},
                },
            }
        },
    }
    case_list = {
        "type": "object",
        "required": ["cases", "page", "per_page", "pages", "total"],
        "properties": {
            "cases": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }
    common = {
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "429": {"$ref": "#/components/responses/TooManyRequests"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{config.get('SITE_NAME', 'Support Center')} cases API",
            "version": "1.0.0",
            "description": "Open and follow your organisation's support cases from scripts or the product. "
                           "Authenticate with a personal API token from your account page.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/api/v1/cases": {
                "get": {
                    "operationId": "listCases",
                    "summary": "List your organisation's cases",
                    "parameters": [
                        {"name": "status", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"}},
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 999999, "default": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    ],
                    "responses": {
                        "200": {"description": "A page of cases",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseList"}}}},
                        "400": _error_response("A query parameter is invalid"),
                        **common,
                    },
                },
                "post": {
                    "operationId": "openCase",
                    "summary": "Open a case for your organisation",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseInput"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "The case was opened",
                            "headers": {"Location": {"schema": {"type": "string"}, "description": "The case's API URL"}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseDetail"}}},
                        },
                        "400": _error_response("The body is not a JSON object"),
                        "403": _error_response("The caller belongs to no customer organisation"),
                        "413": _error_response(f"The body is larger than {int(config['CASE_API_MAX_BODY'])} bytes"),
                        "415": _error_response("The body is not sent as application/json"),
                        "422": _error_response("Fields are missing or invalid; see error.fields"),
                        **common,
                    },
                },
            },
            "/api/v1/cases/{number}": {
                "get": {
                    "operationId": "getCase",
                    "summary": "One case with its public comments",
                    "parameters": [{"name": "number", "in": "path", "required": True,
                                    "schema": {"type": "integer", "minimum": 0}}],
                    "responses": {
                        "200": {"description": "The case",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseDetail"}}}},
                        "404": _error_response("No such case, or not one of your organisation's"),
                        **common,
                    },
                }
            },
            "/api/v1/cases/{number}/attachments": {
                "post": {
                    "operationId": "addAttachments",
                    "summary": "Attach files to a case, optionally with a comment",
                    "parameters": [{"name": "number", "in": "path", "required": True,
                                    "schema": {"type": "integer", "minimum": 0}}],
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/AttachmentInput"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "The files were stored",
                            "headers": {"Location": {"schema": {"type": "string"}, "description": "The case's API URL"}},
                            "content": {"application/json": {"schema": {
                                "type": "object", "required": ["attachments"],
                                "properties": {"attachments": {"type": "array",
                                                               "items": {"$ref": "#/components/schemas/Attachment"}}},
                            }}},
                        },
                        "400": _error_response("No file, an empty file, a bad file name or too many files"),
                        "404": _error_response("No such case, or not one of your organisation's"),
                        "413": _error_response("A file, or the case's files together, exceed the limits"),
                        "415": _error_response("The body is not multipart/form-data"),
                        "422": _error_response("The comment is too long"),
                        **common,
                    },
                }
            },
            "/api/v1/files/{file_id}/{name}": {
                "get": {
                    "operationId": "downloadAttachment",
                    "summary": "Download a file of a case you can see (Range requests resume a download)",
                    "parameters": [
                        {"name": "file_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"},
                         "description": "e.g. bytes=1048576- to resume"},
                    ],
                    "responses": {
                        "200": {"description": "The file, as an attachment",
                                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                        "206": {"description": "The requested part of the file",
                                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                        "404": _error_response("No such file, or not one you can see"),
                        "416": {"description": "The range lies outside the file"},
                        "429": {"$ref": "#/components/responses/TooManyRequests"},
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer",
                                                "description": "A personal API token (kbt_…) from your account page."}},
            "schemas": {
                "CaseInput": case_input,
                "CaseSummary": case_summary,
                "CaseDetail": case_detail,
                "CaseList": case_list,
                "Comment": comment,
                "Attachment": attachment,
                "AttachmentInput": attachment_input,
                "Sla": sla,
                "Error": error,
            },
            "responses": {
                "Unauthorized": _error_response("No bearer token, or one that is not valid"),
                "TooManyRequests": _error_response("Too many requests; wait and retry"),
            },
        },
    }
