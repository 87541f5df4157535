#!/usr/bin/env python3
"""No file of the repository names a path of a developer's machine.

A clone must stand on its own: nothing may point into the directory tree the project was
developed in (absolute paths under the top-level work directory, such as a shared design
folder or another checkout), nor climb out of the repository into the shared folder beside
it. Scans the tracked files (`git ls-files`; a directory walk outside a git checkout),
skipping binary files and symbolic links, and prints every offending line.

usage: no_machine_paths.py [--root DIR] [files...]
Exit 0 when clean, 1 with the list otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SKIP_DIRS = {".git", ".world", ".demo-state"}

# Assembled from parts so that this file does not match itself.
_TOP = "w" + "ork"
PATTERNS = [
    # an absolute path under the top-level work directory (another checkout, a shared folder)
    ("machine path", re.compile(r"(?<![\w.~-])/" + _TOP + r"/[\w.-]+")),
    # the folder beside the checkout
    ("path outside the repository", re.compile(r"\.\./" + "sha" + r"red\b")),
]


def tracked_files(root):
    try:
        p = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True)
        files = [f for f in p.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    out = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build")]
        out += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    return sorted(out)


def scan(root, files):
    hits = []
    for rel in files:
        path = os.path.join(root, rel)
        if os.path.islink(path):
            continue  # its target is scanned under its own name
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (IsADirectoryError, FileNotFoundError, PermissionError):
            continue
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for no, line in enumerate(text.split("\n"), 1):
            for what, pattern in PATTERNS:
                m = pattern.search(line)
                if m:
                    hits.append(f"{rel}:{no}: {what} {m.group(0)!r}: {line.strip()[:160]}")
    return hits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("files", nargs="*", help="files to scan (relative to --root); default: all tracked")
    a = ap.parse_args()
    files = a.files or tracked_files(a.root)
    hits = scan(a.root, files)
    print(f"scanned {len(files)} files for machine paths: {len(hits)} found")
    for h in hits:
        print(h)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
