#!/usr/bin/env python3
"""Rewrites the generated blocks of docs/BENCHMARKS.md from a bench/run_all.sh result folder.

A block is the text between <!-- BEGIN bench:NAME --> and <!-- END bench:NAME -->; everything
outside the markers is hand-written and kept. Usage: update_benchmarks.py DOC RESULTS NAME...
"""
import pathlib
import re
import sys

doc_path, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
doc = doc_path.read_text()
machine = (results / "machine.md").read_text().strip()
for name in sys.argv[3:]:
    body = (results / f"{name}.md").read_text().strip()
    block = f"<!-- BEGIN bench:{name} -->\n_Machine: {machine}._\n\n{body}\n<!-- END bench:{name} -->"
    pattern = re.compile(rf"<!-- BEGIN bench:{name} -->.*?<!-- END bench:{name} -->", re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc)
    else:
        print(f"update_benchmarks: no block for '{name}' in {doc_path}; appended", file=sys.stderr)
        doc = doc.rstrip() + f"\n\n## {name}\n\n{block}\n"
doc_path.write_text(doc)
