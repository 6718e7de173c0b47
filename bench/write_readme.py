"""Regenerate bench/README.md (python -m bench.write_readme): the head, the peers side by side
(``results/latest.md``, from ``python -m bench.run``), the command end to end
(``results/e2e.md``, from ``python -m bench.e2e``), the previous full run, and the tail.

``bench/results/`` is not committed: a section whose results file is missing keeps the text it
has in the current README.md (a fresh checkout regenerates the README without losing it)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"


def current_section(title: str) -> str:
    """The section ``title`` of the current README.md (its heading to the next ``## ``)."""
    text = README.read_text() if README.is_file() else ""
    mark = f"\n## {title}\n"
    at = text.find(mark)
    if at < 0:
        return ""
    end = text.find("\n## ", at + len(mark))
    return text[at : end if end >= 0 else len(text)].rstrip("\n") + "\n"


def section(title: str, path: Path) -> str:
    if path.is_file():
        return f"\n## {title}\n\n{path.read_text()}\n"
    return current_section(title)


def main() -> None:
    head = (HERE / "README.head.md").read_text()
    tail = (HERE / "README.tail.md").read_text()
    body = section(
        "Latest results: ours and the peers side by side", HERE / "results" / "latest.md"
    )
    body += section(
        "End to end: the command, process start to files written", HERE / "results" / "e2e.md"
    )
    body += section("Previous full run (all baselines, 2026-11-27)", HERE / "README.previous.md")
    README.write_text(head + body + tail)


if __name__ == "__main__":
    main()
