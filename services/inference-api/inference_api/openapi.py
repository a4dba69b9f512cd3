"""The OpenAPI document: FastAPI's routes as FastAPI documents them, and POST /predict/
(a raw ASGI route, fast_path.py, which FastAPI cannot see) built here, its body described
from the loaded model's spec.

The spec is only known once a model is loaded, so the document is rebuilt per model
version instead of once at start-up.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from proyecto4_common import prediction_key
from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec
from proyecto4_common.names import PREDICT_PATH
from pydantic.json_schema import models_json_schema

from inference_api.schemas import ErrorDetail, PredictResponse

REF = "#/components/schemas/{model}"
# What POST /predict/ answers besides 200, each with {"detail": ...}.
PREDICT_ERRORS = (400, 401, 403, 413, 415, 422, 503)


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


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def predict_operation(api_keys: bool) -> dict:
    """POST /predict/ as FastAPI would document a route with these parameters and answers;
    the body's schemas (Record, RecordList) are added to the components by build_openapi."""
    operation = {
        "summary": "Predict whether flights arrive delayed",
        # The id FastAPI gave the endpoint while it was a FastAPI route: generated clients
        # keep their method name.
        "operationId": "predict_predict__post",
        "parameters": [
            {
                "name": "contributions",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean", "default": False, "title": "Contributions"},
                "description": "Add per-feature LightGBM contributions (log-odds, plus bias)",
            }
        ],
        "requestBody": {
            "required": True,
            "description": "One record, or a list of records (the answer mirrors it)",
            "content": _json({"oneOf": [_ref("Record"), _ref("RecordList")]}),
        },
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": _json(_ref("PredictResponse")),
            },
            **{
                str(status): {
                    "description": HTTPStatus(status).phrase,
                    "content": _json(_ref("ErrorDetail")),
                }
                for status in PREDICT_ERRORS
            },
        },
    }
    if api_keys:
        # Checked by the route itself (no dependency, for speed): declared only while keys are on.
        operation["security"] = [{"ApiKey": []}]
    return operation


def build_openapi(
    app: FastAPI, spec: FeatureSpec | None, max_records: int, api_keys: bool = False
) -> dict:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    # First, as the router matches it first.
    document["paths"] = {PREDICT_PATH: {"post": predict_operation(api_keys)}, **document["paths"]}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # The answers' models, made by pydantic as FastAPI makes those of its routes.
    _, models = models_json_schema(
        [(PredictResponse, "serialization"), (ErrorDetail, "serialization")], ref_template=REF
    )
    for name, schema in models["$defs"].items():
        schemas.setdefault(name, schema)
    schemas["Record"] = record_schema(spec)
    schemas["RecordList"] = {
        "type": "array",
        "items": _ref("Record"),
        "minItems": 1,
        "maxItems": max_records,
    }
    if api_keys:
        schemes = document["components"].setdefault("securitySchemes", {})
        schemes["ApiKey"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "One of the API keys (INFERENCE_API_API_KEYS), as a bearer token",
        }
    return document
