#!/usr/bin/env python3
# examples/check_doc_snippets.py — keeps the guides' code samples identical to compiled, tested code.
"""Checks (or, with --update, rewrites) the code samples of Markdown guides.

A sample is a fenced block preceded by a marker line naming where its text lives:

    <!-- snippet: examples/api_guide.cpp#eval -->
    ```cpp
    ...the lines between two `// [doc:eval]` marker lines, dedented...
    ```

`path` alone quotes the whole file. For a fence whose language is not C++ (`text`, `xpr`), the
sample is the body of the first raw string literal R"(...)" in the region, so an expected
diagnostic asserted by an example can be shown as plain text. Every ```cpp and ```xpr block of a
checked guide must carry a marker: a sample nobody compiles is a sample that rots.
"""
import argparse
import re
import sys
from pathlib import Path

MARKER = re.compile(r"^<!--\s*snippet:\s*(\S+?)(?:#([\w-]+))?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)\s*$")
CHECKED_LANGS = {"cpp", "c++", "xpr"}


def dedent(lines):
    indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(indents, default=0)
    return [l[cut:] if l.strip() else "" for l in lines]


def region(root, path, name):
    """The text a marker names, as a list of lines."""
    src = (root / path).read_text(encoding="utf-8").splitlines()
    if name is None:
        return src
    # Doxygen's \snippet convention: the same marker line opens and closes the region.
    marks = [i for i, l in enumerate(src) if l.strip() == f"// [doc:{name}]"]
    if len(marks) != 2:
        raise ValueError(f"{path}: region '{name}' needs exactly two `// [doc:{name}]` lines "
                         f"(found {len(marks)})")
    return dedent(src[marks[0] + 1:marks[1]])


def raw_string_body(lines, where):
    text = "\n".join(lines)
    m = re.search(r'R"\((.*?)\)"', text, re.S)
    if not m:
        raise ValueError(f"{where}: a non-C++ sample needs a raw string literal R\"(...)\" "
                         "in its region")
    return m.group(1).split("\n")


def process(root, md_path, update):
    """Returns (problems, new_text)."""
    lines = md_path.read_text(encoding="utf-8").split("\n")
    out, problems, i = [], [], 0
    rel = md_path.relative_to(root) if md_path.is_relative_to(root) else md_path
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        f = FENCE.match(line)
        if f and f.group(2).lower() in CHECKED_LANGS:
            problems.append(f"{rel}:{i + 1}: a ```{f.group(2)} block without a snippet marker "
                            "(put the code in examples/ and quote it)")
        if not m:
            out.append(line)
            # Skip over the body of any fence so code that looks like a marker is left alone.
            if f:
                i += 1
                while i < len(lines) and not FENCE.match(lines[i]):
                    out.append(lines[i])
                    i += 1
                if i < len(lines):
                    out.append(lines[i])
            i += 1
            continue
        out.append(line)
        path, name = m.group(1), m.group(2)
        where = f"{rel}:{i + 1}"
        if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
            problems.append(f"{where}: a snippet marker must be followed by a fenced block")
            i += 1
            continue
        open_fence = FENCE.match(lines[i + 1])
        indent, lang = open_fence.group(1), open_fence.group(2).lower()
        j = i + 2
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        if j >= len(lines):
            problems.append(f"{where}: unterminated fenced block")
            break
        shown = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[i + 2:j]]
        try:
            want = region(root, path, name)
            if lang not in ("cpp", "c++") and name is not None:
                want = raw_string_body(want, f"{path}#{name}")
            while want and not want[-1].strip():
                want.pop()
        except (OSError, ValueError) as e:
            problems.append(f"{where}: {e}")
            want = shown
        if shown != want:
            if update:
                shown = want
            else:
                problems.append(f"{where}: the sample differs from {path}" +
                                (f"#{name}" if name else "") +
                                " (run examples/check_doc_snippets.py --update)")
        out.append(lines[i + 1])
        out.extend(indent + l if l else l for l in shown)
        out.append(lines[j])
        i = j + 1
    return problems, "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent),
                    help="the repository root (default: this script's parent's parent)")
    ap.add_argument("--update", action="store_true", help="rewrite the samples from the sources")
    ap.add_argument("guides", nargs="+", help="Markdown files, relative to the root")
    args = ap.parse_args()
    root = Path(args.root).resolve()
    problems, count = [], 0
    for g in args.guides:
        md = (root / g).resolve()
        p, text = process(root, md, args.update)
        count += text.count("<!-- snippet:")
        if args.update and not [x for x in p if "differs" not in x]:
            md.write_text(text, encoding="utf-8")
        problems += [x for x in p if not (args.update and "differs" in x)]
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"check_doc_snippets: {count} samples in {len(args.guides)} guides match "
              "their sources")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
