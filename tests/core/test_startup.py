"""Start-up refuses to run without its secrets (DESIGN.md section 10), with one line that
names the missing variable; *_FILE variants are read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from amparo.core.crypto import generate_master_key


def run_amparo(
    env_changes: dict[str, str | None], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "AMPARO_"))}
    env["AMPARO_DATA_DIR"] = str(tmp_path)
    for key, value in env_changes.items():
        if value is not None:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "amparo.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_amparo({"AMPARO_MASTER_KEY": generate_master_key()}, tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "amparo: SECRET_KEY is not set (give SECRET_KEY or SECRET_KEY_FILE)"
    )


def test_it_refuses_to_start_without_a_master_key(tmp_path):
    result = run_amparo({"SECRET_KEY": "k" * 50}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "amparo: AMPARO_MASTER_KEY is not set (give AMPARO_MASTER_KEY or AMPARO_MASTER_KEY_FILE)"
    ]


def test_it_reads_secrets_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 50)
    master_file = tmp_path / "master"
    master_file.write_text(generate_master_key())
    result = run_amparo(
        {"SECRET_KEY_FILE": str(secret_file), "AMPARO_MASTER_KEY_FILE": str(master_file)}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_names_an_unreadable_secret_file(tmp_path):
    result = run_amparo(
        {"SECRET_KEY_FILE": str(tmp_path / "missing"), "AMPARO_MASTER_KEY": generate_master_key()},
        tmp_path,
    )
    assert result.returncode == 2
    assert "SECRET_KEY_FILE=" in result.stderr and "cannot be read" in result.stderr


def test_it_runs_in_debug_mode_without_secrets(tmp_path):
    result = run_amparo({"AMPARO_DEBUG": "true"}, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_it_rejects_a_boolean_it_cannot_read(tmp_path, value):
    result = run_amparo({"AMPARO_DEBUG": value}, tmp_path)
    assert result.returncode == 2
    assert "AMPARO_DEBUG must be true or false" in result.stderr
