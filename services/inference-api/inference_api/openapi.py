"""The OpenAPI document, with the /predict/ body described from the loaded model's spec.

The spec is only known once a model is loaded, so the document is rebuilt per model
version instead of once at start-up.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from proyecto4_common import prediction_key
from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec
from proyecto4_common.names import PREDICT_PATH


def feature_schema(feature) -> dict:
    if isinstance(feature, CategoricalFeature):
        schema = {"type": "string", "enum": list(feature.categories)}
    else:
        schema = {"type": "integer" if feature.kind == "integer" else "number"}
    if feature.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if feature.description:
        schema["description"] = feature.description
    return schema


def record_schema(spec: FeatureSpec | None) -> dict:
    if spec is None:
        return {"type": "object", "description": "Feature values (no model loaded yet)"}
    return {
        "type": "object",
        "properties": {
            **{f.name: feature_schema(f) for f in spec.features},
            prediction_key.KEY_FIELD: prediction_key.json_schema(),
        },
        "required": spec.names,
        "additionalProperties": False,
        "example": spec.example_record(),
    }


def build_openapi(
    app: FastAPI, spec: FeatureSpec | None, max_records: int, api_keys: bool = False
) -> dict:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Record"] = record_schema(spec)
    schemas["RecordList"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Record"},
        "minItems": 1,
        "maxItems": max_records,
    }
    document["paths"][PREDICT_PATH]["post"]["requestBody"] = {
        "required": True,
        "description": "One record, or a list of records (the answer mirrors it)",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Record"},
                        {"$ref": "#/components/schemas/RecordList"},
                    ]
                }
            }
        },
    }
    if api_keys:
        # /predict/ checks its key in its own body (no dependency, for speed), so FastAPI
        # cannot see it: declared here, only while keys are on.
        schemes = document["components"].setdefault("securitySchemes", {})
        schemes["ApiKey"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "One of the API keys (INFERENCE_API_API_KEYS), as a bearer token",
        }
        document["paths"][PREDICT_PATH]["post"]["security"] = [{"ApiKey": []}]
    return document
