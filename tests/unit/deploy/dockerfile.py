"""A small Dockerfile reader and a .dockerignore matcher, enough to check our image recipe.

The reader joins continuation lines, drops comments and splits the file into stages at each
FROM; ``${ARG}`` in FROM lines resolves against the global ARG defaults. The matcher follows
BuildKit's rules: patterns in order, the last one that matches the path or one of its parent
folders decides, ``!`` re-includes, ``*`` stays inside one folder and ``**`` crosses them.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    def words(self) -> list[str]:
        return shlex.split(self.arguments)

    def exec_form(self) -> list[str] | None:
        try:
            value = json.loads(self.arguments)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    def resolve(self, text: str) -> str:
        return re.sub(
            r"\$\{(\w+)\}|\$(\w+)",
            lambda m: self.global_args.get(m.group(1) or m.group(2), m.group(0)),
            text,
        )


def instructions(text: str) -> list[Instruction]:
    found: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comments may sit between continuation lines
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    return found


def parse(text: str) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for item in instructions(text):
        if item.keyword == "FROM":
            words = item.words()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            if item.keyword == "ARG":
                key, _, default = item.arguments.partition("=")
                global_args[key.strip()] = default.strip()
        else:
            stages[-1].instructions.append(item)
    return Dockerfile(global_args, stages)


def assignments(item: Instruction) -> dict[str, str]:
    """Keys and values of ENV, ARG or LABEL (``K=V K2=V2``, or the old ``ENV K V``)."""
    words = item.words()
    if item.keyword == "ENV" and words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return {key: value for key, _, value in (word.partition("=") for word in words)}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    rules: tuple[tuple[re.Pattern[str], bool], ...]

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line.lstrip("!").strip().strip("/")
            rules.append((_pattern_regex(pattern), negated))
        return cls(tuple(rules))

    def excludes(self, path: str) -> bool:
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[: size + 1]) for size in range(len(parts))]
        excluded = False
        for regex, negated in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not negated
        return excluded
