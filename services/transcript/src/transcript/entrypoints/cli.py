"""The ``transcript`` command.

Subcommands live in SUBCOMMANDS: a name, how to configure its arguments, and what it runs.
Subcommands that need I/O (api, consumer, relay, all, load-demo) import their modules inside
``run`` so that ``transcript parse`` starts fast and never loads FastAPI or pymongo.
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


# The catalog's demo panel video: uuid5 of its slug "msc-2026-panel-rutte-amanpour" in the
# catalog's demo namespace (services talk through events only, so the id is written here; a
# test checks it against the catalog's demo data).
DEMO_PANEL_VIDEO_ID = "d642416b-dcfb-52b0-8d76-b436900aa7d4"
DEMO_TRANSCRIPT = Path("tests/data/seed_panel_transcript.txt")


def _configure_role(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="HTTP port (default from settings)")


def _role_runner(role: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from portal_shared.runtime import parse_roles, serve

        from transcript import bootstrap
        from transcript.settings import load_settings

        settings = load_settings()
        if args.port:
            settings = settings.model_copy(update={"http_port": args.port})
        serve(bootstrap.build_app(settings, parse_roles(role)), settings)
        return EXIT_OK

    return run


def _configure_load_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", type=Path, default=DEMO_TRANSCRIPT, help=f"default: {DEMO_TRANSCRIPT}"
    )
    parser.add_argument(
        "--video", default=DEMO_PANEL_VIDEO_ID, help="video id (default: the demo panel video)"
    )
    parser.add_argument("--language", choices=("en", "fr"), default="en")


def _run_load_demo(args: argparse.Namespace) -> int:
    import asyncio

    from portal_shared.logging import configure_logging

    from transcript.domain.errors import TranscriptParseError, TranscriptTooLargeError
    from transcript.service_layer.demo import load_demo_transcript
    from transcript.settings import load_settings

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    settings = load_settings()
    configure_logging(settings.service_name, settings.log_level)
    try:
        result = asyncio.run(load_demo_transcript(settings, data, args.video, args.language))
    except (TranscriptParseError, TranscriptTooLargeError) as exc:
        return _fail(f"cannot load {args.file}: {exc}")
    state = "stored" if result.created else "already there (same content)"
    print(
        f"transcript of {result.video_id}: revision {result.revision} {state}, "
        f"{result.segment_count} segments, {len(result.speakers)} speakers"
    )
    return EXIT_OK


def _configure_operator(name: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(parser: argparse.ArgumentParser) -> None:
        from portal_shared.cli_args import configure_ops, configure_parked

        (configure_parked if name == "parked" else configure_ops)(parser)

    return configure


def _run_operator(args: argparse.Namespace) -> int:
    from portal_shared.cli import run_operator_command

    from transcript.settings import load_settings

    return run_operator_command(load_settings(), args)


SUBCOMMANDS: dict[str, Subcommand] = {
    "parse": Subcommand(
        help="parse a transcript file and print its speakers and turns as JSON",
        configure=_configure_parse,
        run=_run_parse,
    ),
    **{
        role: Subcommand(
            help=f"run the {role} role" if role != "all" else "run every role in one process",
            configure=_configure_role,
            run=_role_runner(role),
        )
        for role in ("api", "consumer", "relay", "all")
    },
    "load-demo": Subcommand(
        help="submit the demo panel transcript (skipped if unchanged); the relay publishes it",
        configure=_configure_load_demo,
        run=_run_load_demo,
    ),
    "parked": Subcommand(
        help="list or replay the parking lot (operators)",
        configure=_configure_operator("parked"),
        run=_run_operator,
    ),
    "ops": Subcommand(
        help="operator views: `ops status` (outbox backlog and age, queue lag, parked count)",
        configure=_configure_operator("ops"),
        run=_run_operator,
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
