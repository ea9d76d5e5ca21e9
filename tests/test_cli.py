"""The command line: version, help everywhere, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from sitegen import __version__
from sitegen.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", [[], ["ingest"], ["build"], ["serve"]])
def test_help_everywhere(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_usage_error_exit_2_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--root", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "no content/ folder" in result.stderr and "Traceback" not in result.stderr
    unknown = subprocess.run([sys.executable, "-m", "sitegen", "build", "--bogus"], capture_output=True, text=True)
    assert unknown.returncode == 2


def test_ingest_skips_binary_file_names_it_and_fails_at_end(tmp_path, seeds_dir):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (raw / "ok.txt").write_text((seeds_dir / "004_0d26c65f52efd78b.txt").read_text("utf-8"), "utf-8")
    result = subprocess.run([sys.executable, "-m", "sitegen", "ingest", str(raw), "--content", str(tmp_path / "c")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "image.txt" in result.stderr and "binary" in result.stderr
    assert "written: 1" in result.stdout


def test_ingest_reads_gbk_and_big5(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    text = "工业和信息化部召开座谈会\n2月21日，工业和信息化部召开第十三次制造业企业座谈会，听取企业意见建议。"
    (raw / "gbk.txt").write_bytes(text.encode("gbk"))
    traditional = "工業和資訊化部召開座談會\n2月21日，工業和資訊化部召開第十三次製造業企業座談會，聽取企業意見建議。"
    (raw / "big5.txt").write_bytes(traditional.encode("big5"))
    result = CliRunner().invoke(cli, ["ingest", str(raw), "--content", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    written = "\n".join(p.read_text("utf-8") for p in (tmp_path / "c").rglob("*.md"))
    assert "工业和信息化部召开第十三次制造业企业座谈会" in written
    after_title = written.split("工业和信息化部召开座谈会")[-1]
    assert "召开第十三次制造业企业座谈会，听取企业意见建议" in after_title or "召开座谈会" in written
    assert "original_script: traditional" in written
