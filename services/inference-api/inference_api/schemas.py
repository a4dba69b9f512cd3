"""Shapes of the API's bodies, for validation of the small endpoints and for the OpenAPI
document. /predict/ writes its answers with orjson directly; these models only describe them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class ErrorDetail(BaseModel):
    detail: str = Field(description="What was wrong, in words")


class Prediction(BaseModel):
    probability: float = Field(ge=0, le=1, description="Probability that the flight is delayed")
    prediction: Literal[0, 1]
    category: Literal["on time", "delayed"]
    contributions: dict[str, float] | None = Field(
        None,
        description="Per-feature contributions in log-odds plus 'bias' (with ?contributions=true)",
    )
    key: dict | None = Field(None, description="The record's key, when it sent one")


class SinglePrediction(Prediction):
    model_name: str
    model_version: str


class PredictionList(BaseModel):
    predictions: list[Prediction]
    model_name: str
    model_version: str


class PredictResponse(RootModel[SinglePrediction | PredictionList]):
    """The answer mirrors the request: one object, or a list under `predictions`."""


class LoadModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(
        None,
        pattern=r"^[1-9][0-9]{0,9}$",
        description="Version number; default: the alias",
        examples=["1"],
    )


class LoadedModelInfo(BaseModel):
    model_name: str
    model_version: str
    loaded_at: str


class ModelInfo(LoadedModelInfo):
    run_id: str
    source: str = Field(description="What was asked for: 'alias production' or 'version N'")
    last_load_error: str | None
    feature_spec: dict


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str
