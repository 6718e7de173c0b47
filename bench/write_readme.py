"""Regenerate bench/README.md around the current bench/results/latest.md (python -m bench.write_readme)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
head = (HERE / "README.head.md").read_text()
table = (HERE / "results" / "latest.md").read_text()
tail = (HERE / "README.tail.md").read_text()
(HERE / "README.md").write_text(head + "\n## Latest results\n\n" + table + "\n" + tail)
