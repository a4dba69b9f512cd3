"""One task run as a KubernetesExecutor task pod runs it, then its log read back as Airflow's
API server reads it; for tests/pipeline/test_task_logs.py.

`dag.test()` runs each task inside its own process with no log file, so it never uploads a
remote log. A task pod runs `python -m airflow.sdk.execution_time.execute_workload`, which
hands the ExecuteTask workload to `supervise_task()`: the supervisor forks the task runner,
writes the task's log file and, when the task ends, uploads it to remote storage
(ActivitySubprocess._upload_logs). This script calls that same `supervise_task()` with the
workload the executor would send; the one stand-in is the Execution API, reached in-process
(the one `dag.test()` uses) instead of over HTTP at the API server. Then `TaskLogReader`,
behind the API server's log endpoint, reads the log with the local copy gone.

Run as a script, in a process of its own with Airflow's environment set (importing Airflow
reads it; the test process must not fix it for the other tests), after `airflow db migrate`:
    python task_log_run.py DAG_ID TASK_ID  ->  JSON: exit_code, state, log_path, local_log_left, log
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def run(dag_id: str, task_id: str) -> dict:
    from airflow.configuration import conf
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.executors.workloads import BundleInfo, ExecuteTask
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun, get_or_create_dagrun
    from airflow.models.taskinstance import TaskInstance
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor, supervise_task
    from airflow.utils.log.log_reader import TaskLogReader
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import select

    # The DAG file parsed and stored as the DAG processor does.
    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundle = manager.get_bundle("dags-folder")
    bundle.initialize()
    sync_bag_to_db(
        BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name),
        bundle.name,
        bundle.version,
    )

    now = datetime.now(UTC)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
        run = get_or_create_dagrun(
            dag=dag,
            run_id=DagRun.generate_run_id(
                run_type=DagRunType.MANUAL, logical_date=now, run_after=now
            ),
            logical_date=now,
            data_interval=None,
            run_after=now,
            conf=None,
            triggered_by=DagRunTriggeredByType.TEST,
            triggering_user_name="test_task_logs",
            start_date=now,
            session=session,
        )
        # What the scheduler does before it hands a task to the executor.
        ti = run.get_task_instance(task_id, session=session)
        ti.try_number += 1
        ti.state = TaskInstanceState.QUEUED
        session.flush()
        workload = ExecuteTask.make(ti, bundle_info=BundleInfo(name=bundle.name))
        run_id = run.run_id

    # What execute_workload does in the task pod (BaseExecutor.run_workload).
    exit_code = supervise_task(
        ti=workload.ti,
        bundle_info=workload.bundle_info,
        dag_rel_path=workload.dag_rel_path,
        token=workload.token,
        log_path=workload.log_path,
        client=InProcessTestSupervisor._api_client(),
    )

    with create_session() as session:
        ti = session.scalar(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
            )
        )
        local_log = Path(conf.get("logging", "base_log_folder")) / workload.log_path
        stream, _ = TaskLogReader().read_log_chunks(ti, ti.try_number, {})
        log = "\n".join(
            message.model_dump_json() if hasattr(message, "model_dump_json") else str(message)
            for message in stream
        )
        return {
            "exit_code": exit_code,
            "state": str(ti.state),
            "log_path": workload.log_path,
            "local_log_left": local_log.exists(),
            "log": log,
        }


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:3])))
