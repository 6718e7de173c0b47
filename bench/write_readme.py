"""Regenerate bench/README.md (python -m bench.write_readme): the head, the peers side by side
(``results/latest.md``, from ``python -m bench.run``), the command end to end
(``results/e2e.md``, from ``python -m bench.e2e``), the previous full run, and the tail."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def section(title: str, path: Path) -> str:
    return f"\n## {title}\n\n{path.read_text()}\n" if path.is_file() else ""


head = (HERE / "README.head.md").read_text()
tail = (HERE / "README.tail.md").read_text()
body = section("Latest results: ours and the peers side by side", HERE / "results" / "latest.md")
body += section(
    "End to end: the command, process start to files written", HERE / "results" / "e2e.md"
)
body += section("Previous full run (all baselines, 2026-11-27)", HERE / "README.previous.md")
(HERE / "README.md").write_text(head + body + tail)
