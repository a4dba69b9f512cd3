"""One task's worker pod, built by the KubernetesExecutor's own code (the cncf.kubernetes
provider's PodGenerator) from the pod template and airflow.cfg the chart renders.

Run as a script, in a process of its own (importing Airflow reads AIRFLOW_HOME, which the
test process must not fix for the other tests):
    python worker_pod.py AIRFLOW_CFG POD_TEMPLATE DAG_ID TASK_ID [MAP_INDEX]  ->  the pod as JSON
"""

from __future__ import annotations

import configparser
import json
import sys


def build(
    cfg_path: str, template_path: str, dag_id: str, task_id: str, map_index: int = -1
) -> dict:
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    config = configparser.ConfigParser(interpolation=None)
    config.read(cfg_path)
    executor = config["kubernetes_executor"]
    image = f"{executor['worker_container_repository']}:{executor['worker_container_tag']}"
    pod = PodGenerator.construct_pod(
        dag_id=dag_id,
        task_id=task_id,
        pod_id=f"{dag_id}-{task_id}{'' if map_index < 0 else f'-{map_index}'}".replace("_", "-"),
        try_number=1,
        kube_image=image,
        date=None,
        # What the executor runs for an Airflow 3 task (its workload as JSON).
        args=["python", "-m", "airflow.sdk.execution_time.execute_workload", "--json-string", "{}"],
        pod_override_object=None,
        base_worker_pod=PodGenerator.deserialize_model_file(template_path),
        namespace=executor["namespace"],
        scheduler_job_id="1",
        run_id="manual__container-test",
        map_index=map_index,
    )
    return PodGenerator.serialize_pod(pod)


if __name__ == "__main__":
    print(json.dumps(build(*sys.argv[1:5], *(int(i) for i in sys.argv[5:6]))))
