#!/usr/bin/env python3
"""tests/layers/check_pump_calls.py -- the pump's parts call each other
without a circle (doc/DESIGN.md): the loop (pump.c) calls the pass, the
replay and the coalescing; they call the stream lifecycle
(pump_stream.c), which calls none of them. Reads src/stream/pump*.c,
maps each pump_* function to the file that defines it, and fails naming
the files of any cycle of calls between files and the calls that make
it. Run by `make check`; by hand: python3 tests/layers/check_pump_calls.py
[SRCDIR]"""
import glob
import os
import re
import sys


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def call_graph(folder):
    """{file: {file it calls: [functions]}} over folder's pump*.c."""
    texts = {os.path.basename(f): strip_comments(open(f).read())
             for f in glob.glob(os.path.join(folder, 'pump*.c'))}
    defined = {}
    for name, text in texts.items():
        for m in re.finditer(r'^[a-z][a-z_ ]*\**\s*\**\b(pump_[a-z_0-9]+)\(',
                             text, re.M):
            defined.setdefault(m.group(1), name)
    edges = {}
    for name, text in texts.items():
        for fn in set(re.findall(r'\b(pump_[a-z_0-9]+)\(', text)):
            owner = defined.get(fn)
            if owner and owner != name:
                edges.setdefault(name, {}).setdefault(owner, []).append(fn)
    return texts, edges


def cycle_from(edges, start):
    """A path start -> ... -> start, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, {}):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('srcdir', '.')
    folder = os.path.join(top, 'src', 'stream')
    texts, edges = call_graph(folder)
    if len(texts) < 2:
        print(f'check_pump_calls: no pump*.c under {folder}', file=sys.stderr)
        return 2
    for name in sorted(texts):
        path = cycle_from(edges, name)
        if path:
            steps = [f'{a} calls {b} ({", ".join(sorted(edges[a][b]))})'
                     for a, b in zip(path, path[1:])]
            print('pump call cycle: ' + '; '.join(steps))
            return 1
    print(f'pump calls: {len(texts)} files, no cycle')
    return 0


if __name__ == '__main__':
    sys.exit(main())
