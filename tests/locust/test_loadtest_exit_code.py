"""A real headless locust run exits non-zero when a limit is broken, and says why."""

import loadtest
from loadtest.runner import read_totals
from proyecto4_common.net import free_port


def test_a_run_without_an_api_breaks_the_failure_limit(tmp_path, capfd):
    host = f"http://127.0.0.1:{free_port()}"

    code = loadtest.run(
        host,
        users=2,
        spawn_rate=2,
        run_time="2s",
        spec_wait=1,
        report_dir=tmp_path,
    )

    assert code == 1
    out = capfd.readouterr().out
    assert "load test threshold broken: failure ratio 1.0000 > 0.01" in out
    by_name = read_totals(tmp_path / "loadtest")
    assert by_name["/model"].failures == 2
    assert by_name["Aggregated"].requests == 2
    assert (tmp_path / "loadtest.html").read_text().lower().startswith("<!doctype html>")
