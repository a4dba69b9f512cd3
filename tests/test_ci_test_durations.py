"""ci/test_durations.py reads what pytest's --junitxml writes and names the slow tests and
folders (`.ci/run` prints it after `make test`)."""

import subprocess
import sys

from servers import REPO

DURATIONS = REPO / "ci" / "test_durations.py"


def durations(*files) -> list[str]:
    """What ci/test_durations.py prints, run as .ci/run runs it."""
    return subprocess.run(
        [sys.executable, str(DURATIONS), *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.splitlines()


def test_the_report_names_the_slowest_tests_and_the_time_per_folder(tmp_path):
    folder = tmp_path / "tests" / "slow_part"
    folder.mkdir(parents=True)
    (tmp_path / "tests" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "test_timed.py").write_text(
        "import time\ndef test_slow():\n    time.sleep(0.3)\ndef test_quick():\n    pass\n"
    )
    junit = tmp_path / "junit-helm4.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            "tests",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    report = durations(junit)

    slowest = report[1]
    assert slowest.endswith("[helm4] tests.slow_part.test_timed::test_slow")
    assert float(slowest.split()[0]) >= 0.3
    folder_line = next(line for line in report if line.endswith("[helm4] tests/slow_part"))
    assert folder_line.split()[1] == "2"  # both tests counted in their folder
    assert report[-1].endswith("[helm4] in all")


def test_no_junit_file_says_so(tmp_path):
    assert durations(tmp_path / "junit-none.xml")[0].startswith("no JUnit files")
