"""The MLflow model registry over its REST API (what MlflowClient does, without MLflow)."""

from __future__ import annotations

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.http import Service, detail
from proyecto4_plugin.names import MODEL_NAME, PRODUCTION_ALIAS

API = "/api/2.0/mlflow"


def tags_of(model_version: dict) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in model_version.get("tags", [])}


class Registry:
    def __init__(self, mlflow: Service, model_name: str = MODEL_NAME):
        self.mlflow = mlflow
        self.model_name = model_name

    def production(self) -> dict | None:
        """The version the `production` alias points at, or None when it points nowhere."""
        response = self.mlflow.call(
            "GET",
            f"{API}/registered-models/alias",
            params={"name": self.model_name, "alias": PRODUCTION_ALIAS},
            expect=(200, 400, 404),
        )
        if response.status_code == 200:
            return response.json()["model_version"]
        # MLflow answers 400 INVALID_PARAMETER_VALUE "... alias production not found."
        # for a missing alias, 404 for a missing model: both mean "no production model".
        if "not found" not in response.text:
            raise PluginError(
                f"MLflow answered {response.status_code} for alias {PRODUCTION_ALIAS}: "
                f"{detail(response)}"
            )
        return None

    def version(self, version: str) -> dict:
        response = self.mlflow.call(
            "GET",
            f"{API}/model-versions/get",
            params={"name": self.model_name, "version": version},
            expect=(200, 404),
        )
        if response.status_code == 404:
            raise PluginError(f"model {self.model_name} has no version {version} in MLflow")
        return response.json()["model_version"]

    def versions(self) -> list[dict]:
        body = self.mlflow.json(
            "GET",
            f"{API}/model-versions/search",
            params={"filter": f"name='{self.model_name}'", "max_results": 1000},
        )
        return body.get("model_versions", [])

    def run_metrics(self, run_id: str) -> dict[str, float]:
        run = self.mlflow.json("GET", f"{API}/runs/get", params={"run_id": run_id})["run"]
        return {m["key"]: m["value"] for m in run.get("data", {}).get("metrics", [])}

    def set_production(self, version: str) -> None:
        self.mlflow.call(
            "POST",
            f"{API}/registered-models/alias",
            json={"name": self.model_name, "alias": PRODUCTION_ALIAS, "version": version},
        )

    def set_tags(self, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.mlflow.call(
                "POST",
                f"{API}/model-versions/set-tag",
                json={"name": self.model_name, "version": version, "key": key, "value": value},
            )

    def delete_tag(self, version: str, key: str) -> None:
        self.mlflow.call(
            "DELETE",
            f"{API}/model-versions/delete-tag",
            json={"name": self.model_name, "version": version, "key": key},
        )
