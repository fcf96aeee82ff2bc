"""``pip install ARGS`` through uv, with pip's configuration: what ``make install`` runs.

uv installs the same packages as pip in a fraction of the time (it resolves, downloads, unpacks and
byte-compiles in parallel): 103 s here from a cold cache, where pip took about 9 minutes. But uv does not read pip's configuration
(``pip config list``: pip.conf files and ``PIP_*`` variables), where a machine may keep its local wheels
(``find-links``), its own indexes and a machine-wide constraints file. This passes them to uv:

    global.find-links='/opt/wheels'                       → --find-links /opt/wheels
    global.extra-index-url='file:///a/simple file:///b'   → --extra-index-url file:///a/simple ...
    global.constraint='/etc/xdg/pip/constraints.txt'      → --constraint /etc/xdg/pip/constraints.txt

plus ``--index-strategy unsafe-best-match``: pip takes the best version from every index together, uv by
default only from the first index that has the package. Without uv in the environment it runs pip.

    .venv/bin/python tools/pip_install.py -c constraints.txt -e '.[all]'     # what the Makefile runs
    .venv/bin/python tools/pip_install.py --print-uv-args                     # the options it derives
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

#: pip option → uv option; the values of each are whitespace-separated lists.
OPTIONS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}


def pip_config() -> list[tuple[str, str]]:
    """(option, value) pairs of ``pip config list``, in its order; environment entries included."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            check=True).stdout
    pairs = []
    for line in listed.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pairs.append((key.rsplit(".", 1)[-1], " ".join(shlex.split(value))))
    return pairs


def uv_args(pairs: list[tuple[str, str]]) -> list[str]:
    args: list[str] = ["--index-strategy", "unsafe-best-match"]
    seen: set[tuple[str, str]] = set()
    for option, value in pairs:
        if option not in OPTIONS:
            continue
        for item in value.split():
            if (option, item) not in seen:  # a value set in pip.conf and in PIP_* is passed once
                seen.add((option, item))
                args += [OPTIONS[option], item]
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["--print-uv-args"]:
        print(shlex.join(uv_args(pip_config())))
        return 0
    uv = Path(sys.executable).with_name("uv")
    if not uv.is_file():
        uv = shutil.which("uv")
    if uv is None:
        return subprocess.call([sys.executable, "-m", "pip", "install", *argv])
    # --compile-bytecode: as pip does, at install and on every core; without it each stage's first import
    # compiles single-threaded (vLLM's alone cost the first vLLM stage about a minute here).
    return subprocess.call([str(uv), "pip", "install", "--python", sys.executable, "--compile-bytecode",
                            *uv_args(pip_config()), *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
