#!/usr/bin/env python3
"""Every rule ID a code comment cites is defined in docs/.

Scans the comments (C/C++ `//` and `/* */`; `#` comments of Python, shell, YAML and CMake
files; Python docstrings) of the tracked files under exporter/, probes/, tests/ and alerts/
for rule IDs and checks that each one has a definition in docs/verdicts.md or
docs/robustness.md. IDs are a family letter and a number, alone as a word:

  F1-F8  failures the exporter catches          T  DANE/TLSA rules     M  MX resolution
  D      DNSSEC rules        P  MTA-STS rules    S  SMTP/STARTTLS       W  worked examples
  B      real-world breakages                    R  TLS-RPT rules, or robustness findings
  O      robustness observations

plus the word "Addendum". Ranges ("T7-T10", "M1-M3") count every ID in between; "P1/P2"
counts both. A token glued to a dash, dot, underscore or letter ("-O2", "x86_64", "E5") is
not an ID.

A definition is a line of a docs page that starts an entry for the ID: a table row whose
first cell is the ID (`| F1 |`), a bold lead (`**T2 — ...**`, `* **R1 ...**`) or a heading
(`### T2 ...`). "Addendum" is defined by a heading that contains the word.

usage: doc_ids.py [--root DIR] [--list] [files...]
Exit 0 when every cited ID is defined, 1 otherwise (each undefined ID with where it is cited).
"""
import argparse
import ast
import io
import os
import re
import subprocess
import sys
import tokenize

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCANNED_DIRS = ("exporter", "probes", "tests", "alerts")
DEFINING_DOCS = ("docs/verdicts.md", "docs/robustness.md")
FAMILIES = "FTMDPSWBRO"

_ID = rf"[{FAMILIES}][0-9]{{1,2}}"
# An ID or a range of IDs of one family; not glued to a word, a dash, a dot or a slash-word.
CITATION = re.compile(
    rf"(?<![\w\-.$/\\])({_ID})(?:\s*[-\u2013]\s*({_ID}))?(?![\w]|\.[0-9]|-[0-9A-Za-z])")
SLASH_MORE = re.compile(rf"/({_ID})(?![\w]|\.[0-9])")
ADDENDUM = re.compile(r"\bAddendum\b", re.IGNORECASE)


# ----------------------------------------------------------------------- comments
def c_comments(text):
    """(line, comment text) of the // and /* */ comments of C or C++ source, skipping string
    and character literals (raw strings included)."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append((line, text[i + 2:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j
            body = text[i + 2:j]
            out.append((line, body))
            line += body.count("\n")
            i = j + 2
        elif c == "R" and text.startswith('"', i + 1) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^()\\\s]{0,16})\(', text[i:])
            if not m:
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            line += text.count("\n", i, end)
            i = end
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():
                i += 1  # a digit separator (1'000'000)
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return out


def hash_comments(text):
    """(line, comment text) of `#` comments in shell, YAML and CMake files: a # at the start
    of a line or after white space, outside quotes."""
    out = []
    for no, raw in enumerate(text.split("\n"), 1):
        quote = None
        for k, ch in enumerate(raw):
            if quote:
                if ch == quote:
                    quote = None
                elif ch == "\\" and quote == '"':
                    pass
            elif ch in "\"'" and (k == 0 or raw[k - 1] in " \t=:([{,"):
                quote = ch
            elif ch == "#" and (k == 0 or raw[k - 1] in " \t"):
                out.append((no, raw[k + 1:]))
                break
    return out


def python_comments(text):
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.string[1:]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return hash_comments(text)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return out
    for node in [tree] + [n for n in ast.walk(tree)
                          if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]:
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            out.append((body[0].lineno, body[0].value.value))
    return out


C_EXT = (".cc", ".h", ".c", ".cpp", ".hpp", ".in")
HASH_EXT = (".sh", ".yml", ".yaml", ".cmake", ".txt", ".conf", ".tpl")


def comments_of(path, text):
    name = os.path.basename(path)
    if name.endswith(C_EXT):
        return c_comments(text)
    if name.endswith(".py"):
        return python_comments(text)
    if name.endswith(HASH_EXT) or name == "CMakeLists.txt" or text.startswith("#!"):
        return hash_comments(text)
    return []


# ---------------------------------------------------------------------------- IDs
def expand(first, last):
    if not last:
        return [first]
    if first[0] != last[0]:
        return [first, last]
    a, b = int(first[1:]), int(last[1:])
    if a > b or b - a > 20:
        return [first, last]
    return [f"{first[0]}{k}" for k in range(a, b + 1)]


def cited_ids(comment):
    ids = []
    for m in CITATION.finditer(comment):
        ids += expand(m.group(1), m.group(2))
        # "P1/P2", "F5/B10": the IDs after slashes
        k = m.end()
        while True:
            more = SLASH_MORE.match(comment, k)
            if not more:
                break
            ids.append(more.group(1))
            k = more.end()
    if ADDENDUM.search(comment):
        ids.append("Addendum")
    return ids


DEFINITION = re.compile(
    rf"^\s*(?:\|\s*\**`?({_ID})`?\**\s*\||(?:[*-]\s+)?\*\*({_ID})\b|#+\s+({_ID})\b)")


def defined_ids(root):
    defined = {}
    for rel in DEFINING_DOCS:
        path = os.path.join(root, rel)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                m = DEFINITION.match(line)
                if m:
                    defined.setdefault(next(g for g in m.groups() if g), f"{rel}:{no}")
                if line.startswith("#") and ADDENDUM.search(line):
                    defined.setdefault("Addendum", f"{rel}:{no}")
    return defined


# -------------------------------------------------------------------------- files
def tracked_files(root):
    try:
        p = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", *SCANNED_DIRS],
                           capture_output=True, check=True)
        files = [f for f in p.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for d in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames[:] = [x for x in dirnames if not x.startswith(".")]
            files += [os.path.relpath(os.path.join(dirpath, f), root) for f in filenames]
    return sorted(files)


def citations(root, files):
    """{id: [where, ...]} over the comments of the given files (relative to root)."""
    found = {}
    for rel in files:
        path = os.path.join(root, rel)
        if "/corpus/" in rel or "/regressions/" in rel:
            continue  # fuzzer inputs
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for line, comment in comments_of(rel, text):
            for i in cited_ids(comment):
                found.setdefault(i, []).append(f"{rel}:{line}")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--list", action="store_true", help="print every cited ID with where")
    ap.add_argument("files", nargs="*", help="files to scan (relative to --root); default: tracked files")
    a = ap.parse_args()

    files = a.files or tracked_files(a.root)
    cited = citations(a.root, files)
    defined = defined_ids(a.root)
    if a.list:
        for i in sorted(cited):
            print(f"{i:9} {defined.get(i, 'UNDEFINED'):28} {len(cited[i]):3}x  {', '.join(cited[i][:3])}")
    missing = sorted(set(cited) - set(defined))
    print(f"{len(cited)} rule IDs cited in the comments of {len(files)} files; "
          f"{len(defined)} defined in {', '.join(DEFINING_DOCS)}")
    for i in missing:
        print(f"UNDEFINED {i}: cited at {', '.join(cited[i][:5])}{' ...' if len(cited[i]) > 5 else ''}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
