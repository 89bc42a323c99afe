"""The ``transcript`` command.

Subcommands live in SUBCOMMANDS: a name, how to configure its arguments, and what it runs.
Subcommands that need I/O (api, consumer, relay) import their modules inside ``run`` so that
``transcript parse`` starts fast and never loads FastAPI or pymongo.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1


@dataclass(frozen=True, slots=True)
class Subcommand:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_parse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="transcript file (text, WebVTT or SRT); '-' reads stdin")
    parser.add_argument(
        "--to",
        choices=("json", "text", "labels", "webvtt", "srt"),
        default="json",
        help="output format (default: json, the contract other tools read)",
    )


def _run_parse(args: argparse.Namespace) -> int:
    from transcript.domain import export
    from transcript.domain.errors import TranscriptParseError, UntimedTranscriptError
    from transcript.domain.parser import parse_bytes

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    try:
        transcript = parse_bytes(data)
    except TranscriptParseError as exc:
        return _fail(f"cannot parse {args.file}: {exc}")
    writers: dict[str, Callable[[], str]] = {
        "json": lambda: export.to_json(transcript) + "\n",
        "text": lambda: export.to_plain_text(transcript, "headings"),
        "labels": lambda: export.to_plain_text(transcript, "labels"),
        "webvtt": lambda: export.to_webvtt(transcript),
        "srt": lambda: export.to_srt(transcript),
    }
    try:
        output = writers[args.to]()
    except UntimedTranscriptError as exc:
        return _fail(f"cannot export {args.file} as {args.to}: {exc}")
    sys.stdout.buffer.write(output.encode("utf-8"))
    sys.stdout.flush()
    return EXIT_OK


# The lead adds "api", "consumer" and "relay" here; each imports its I/O modules in ``run``.
SUBCOMMANDS: dict[str, Subcommand] = {
    "parse": Subcommand(
        help="parse a transcript file and print its speakers and turns as JSON",
        configure=_configure_parse,
        run=_run_parse,
    ),
}


def _fail(message: str) -> int:
    print(f"transcript: {message}", file=sys.stderr)
    return EXIT_FAILED


def build_parser(subcommands: dict[str, Subcommand] = SUBCOMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transcript", description="Transcript service tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, subcommand in subcommands.items():
        subparser = commands.add_parser(name, help=subcommand.help, description=subcommand.help)
        subcommand.configure(subparser)
        subparser.set_defaults(run=subcommand.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
