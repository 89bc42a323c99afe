"""`transcript parse` as other tools call it: a process, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
TRANSCRIPT = Path(sys.executable).parent / "transcript"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(TRANSCRIPT), *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def test_parse_prints_the_seed_as_one_json_object() -> None:
    result = run("parse", str(DATA / "seed_panel_transcript.txt"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == json.loads((DATA / "seed_panel_transcript.expected.json").read_text("utf-8"))


def test_parse_reads_stdin_and_writes_other_formats() -> None:
    result = run("parse", "-", "--to", "labels", stdin=b"Mark Rutte [NATO]: Hi.\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().endswith("Mark Rutte: Hi.\n")


def test_parse_gives_times_in_seconds_and_null_details() -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.500 --> 00:00:04.000\n<v Christiane Amanpour>Welcome.\n\n"
        "01:00:04.250 --> 01:00:09.000\n<v Mark Rutte>Thank you.\n"
    )
    result = run("parse", "-", stdin=vtt.encode())
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["speakers"][0] == {
        "id": "christiane-amanpour",
        "name": "Christiane Amanpour",
        "role": None,
        "affiliation": None,
        "is_moderator": False,
    }
    assert document["segments"] == [
        {
            "index": 0,
            "speaker_id": "christiane-amanpour",
            "text": "Welcome.",
            "start": 1.5,
            "end": 4.0,
            "cues": [{"start": 1.5, "end": 4.0, "text": "Welcome."}],
            "affiliation": None,
        },
        {
            "index": 1,
            "speaker_id": "mark-rutte",
            "text": "Thank you.",
            "start": 3604.25,
            "end": 3609.0,
            "cues": [{"start": 3604.25, "end": 3609.0, "text": "Thank you."}],
            "affiliation": None,
        },
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("directory", "Is a directory"),
        (b"\xff\xfe\xfd\x80 not text", "not UTF-8"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:99.000\nx\n", "not a valid WebVTT"),
    ],
)
def test_parse_fails_clearly_on_files_it_cannot_read(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    target = tmp_path / "input"
    if content == "directory":
        target.mkdir()
    elif isinstance(content, bytes):
        target.write_bytes(content)
    result = run("parse", str(target))
    assert result.returncode != 0
    assert result.stdout == b""
    assert message in result.stderr.decode()


def test_subtitle_export_of_an_untimed_file_fails(tmp_path: Path) -> None:
    result = run("parse", str(DATA / "seed_panel_transcript.txt"), "--to", "srt")
    assert result.returncode != 0
    assert "no times" in result.stderr.decode()


def test_usage_errors_exit_non_zero() -> None:
    assert run().returncode == 2
    assert run("parse").returncode == 2


def test_parse_path_does_not_load_the_service_stack() -> None:
    code = (
        "import sys; from transcript.entrypoints.cli import main; "
        f"main(['parse', {str(DATA / 'seed_panel_transcript.txt')!r}]); "
        "assert not {'fastapi', 'pymongo', 'aio_pika'} & set(sys.modules), sys.modules.keys()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
