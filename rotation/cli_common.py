"""What every ``rotation`` command shares: the consoles, the DATA and --rules arguments, and the
one way bad input ends (one line per problem on stderr, exit 2). Kept apart from ``cli.py`` so
command modules (``cli_meeting``, …) import it without importing each other."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
import typer.main
from typer.core import TyperGroup

from .errors import DataError

if TYPE_CHECKING:  # pydantic and rich load when a command runs, not for --help
    from rich.console import Console

    from .rules import Rules


class _LazyConsole:
    """A rich ``Console`` made on first use, standing in for it (every attribute is the real
    console's): ``rotation --help`` prints through click, and rich.console and the modules it
    loads are ≈ 20 ms of its start-up."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def _real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        if name in ("_options", "_console"):  # not made through __init__ (a copy)
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __enter__(self) -> Console:  # rich's Live enters its console (implicit look-up)
        return self._real().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._real().__exit__(*exc)


console = cast("Console", _LazyConsole(highlight=False))
err = cast("Console", _LazyConsole(stderr=True, highlight=False))

DataArg = Annotated[
    Path, typer.Argument(metavar="DATA", help="CSV folder, .zip of CSVs, .xlsx workbook or .json")
]
RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="rules YAML/JSON (default: documented defaults)")
]


# =========================================================================== imports
class _Process:
    """Whether this is the ``rotation`` process itself (:func:`rotation.cli.main`), short-lived,
    rather than a caller of the commands in its own process (tests, a notebook)."""

    short_lived = False
    importing = 0  # how many ``importing()`` blocks are open (they may nest)
    written = False  # the command's files are written and closed (:func:`files_written`)


def files_written() -> None:
    """Said by a command once every file it writes is written and closed (``write_atomic``)
    and every process it started has ended: the ``rotation`` process may then end at once
    (:func:`end_at_once`)."""
    _Process.written = True


def end_at_once(code: int) -> None:
    """End the ``rotation`` process now, with ``code``, when its command said
    :func:`files_written`: the output flushed and the ``atexit`` handlers run, as at an
    ordinary ending, but without taking the interpreter down module by module, which frees
    every object pandas, numpy and the solvers made (58 M instructions, ≈ 0.02 s, on Hai Duong;
    bench/README.md). Returns (the ordinary ending follows) outside the ``rotation`` process,
    when the command did not say so, while another thread still works, or when the output
    cannot be flushed (a closed pipe: the ordinary ending reports it)."""
    import atexit
    import sys
    import threading

    if not (_Process.short_lived and _Process.written):
        return
    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main for t in threading.enumerate()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()  # what an ordinary ending runs first (and the finalizers)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 120  # as the interpreter does when the output cannot be flushed
    os._exit(code)


def short_lived_process() -> None:
    """Called by :func:`rotation.cli.main`: the command runs and the process ends.

    Pydantic's plugins (observability add-ons found through the installed packages' entry
    points) are not looked for, unless ``PYDANTIC_DISABLE_PLUGINS`` says otherwise: the search
    reads the metadata of every installed package the first time a model is built, ≈ 20 ms of
    each command, and no plugin serves a planner's command.

    NumPy's OpenBLAS works on one thread, unless ``OPENBLAS_NUM_THREADS`` says otherwise: its
    pool of threads, started when numpy loads, spins beside the command for ≈ 0.1 CPU s (Hai
    Duong's command 1.22 → 1.08 CPU s, bench/README.md) on a machine whose other core the
    province workers and the workbook's process need, and no step of a plan multiplies
    matrices large enough to gain from it."""
    _Process.short_lived = True
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """Where a command loads a heavy library on first use (pandas, pydantic, ortools, openpyxl):
    timed as the ``import`` phase; then, in the ``rotation`` process, the objects that exist
    (the modules just loaded and, at the later import phases, the tables already read) are
    frozen for the cyclic garbage collector (:func:`gc.freeze`), so its full collections,
    triggered again and again while reading, solving and writing build many small containers,
    stop walking them: ≈ 0.2 CPU s of Hai Duong's 1.4 (bench/README.md). Objects frozen are
    never collected as cycles, which for a process that ends after one command costs
    nothing. While the libraries load, the collector is off altogether in that process: what
    an import builds (modules, classes, functions) lives until the process ends, so every
    collection during an import walks a growing heap to find nothing (≈ 0.1 s of importing
    pandas, numpy and pydantic on this project's machines, bench/README.md)."""
    from .profile import phase

    short_lived = _Process.short_lived
    outermost, collecting = short_lived and not _Process.importing, gc.isenabled()
    if short_lived:
        _Process.importing += 1
        gc.disable()
    try:
        with phase("import"):
            yield
    finally:
        if short_lived:
            _Process.importing -= 1
        if outermost:
            gc.freeze()
            if collecting:
                gc.enable()


def in_background(work: Callable[[], object]) -> Callable[[], None]:
    """Start ``work`` (writing one file) beside what the command does next; returns the call
    that waits for it to end.

    In the ``rotation`` process, where the system forks, ``work`` runs in a forked child
    process on the other core: a national plan's workbook takes ≈ 0.6 s while the command
    writes the plan's JSON and prints its tables (bench/README.md). Elsewhere (tests, a
    notebook, the service, a system without ``fork``) it runs here, at once. A child that
    fails is waited for and ``work`` is done again here, so that its error is raised as it
    would have been; the files are written atomically, so a failed child leaves none
    half-written."""
    if not _Process.short_lived or not hasattr(os, "fork"):
        work()
        return lambda: None
    pid = os.fork()
    if pid == 0:  # the child: do the work and leave at once (no atexit, no buffers flushed)
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)

    def wait() -> None:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            work()

    return wait


# =========================================================================== errors and input
class _BadInput(Exception):
    """Anything the user can fix: printed line by line, exit 2."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Turn input errors into one line per problem on stderr and exit code 2."""
    with importing():  # pydantic, yaml: the first command line's import of them
        from .rules import RulesError

    try:
        yield
    except DataError as exc:
        _fail([str(p) for p in exc.problems])
    except RulesError as exc:
        _fail([f"{exc.source}: {m}" for m in exc.messages])
    except _BadInput as exc:
        _fail(exc.lines)
    except FileNotFoundError as exc:
        _fail([f"{exc.filename or exc}: no such file or folder"])


def _fail(lines: list[str], code: int = 2) -> None:
    for line in lines:
        err.print(line, style="red", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _read(path: Path):
    with importing():  # pandas, numpy: loaded on first use
        from .read import read_dataset

    data = read_dataset(path)
    for w in data.warnings:
        err.print(f"warning: {w}", style="yellow", markup=False, soft_wrap=True)
    return data


def _rules(path: Path | None, **defaults: Any) -> Rules:
    from .rules import RulesError, load_rules

    if path is None:
        return load_rules(dict(defaults))
    if not path.is_file():
        raise RulesError([f"file not found: {path}"], str(path))
    return load_rules(path)


# =========================================================================== lazy command groups
def lazy_typer(app: typer.Typer, name: str, target: str, help: str) -> None:
    """Mount the typer app at ``target`` (``"module:attribute"``) as the command group ``name``
    of ``app`` without importing it: ``rotation --help`` lists ``name`` with ``help`` (the
    first line is the short help), and the module is imported only when ``rotation NAME …``
    runs. For plugins whose commands load heavy libraries at import (the service's ``keys``
    loads SQLAlchemy and the storage layer)."""
    app.add_typer(typer.Typer(), name=name, help=help, cls=_lazy_group(target))


def load_typer(target: str) -> typer.Typer:
    """The typer app named by ``"module:attribute"``."""
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if not isinstance(found, typer.Typer):
        raise TypeError(f"{target} is not a typer.Typer")
    return found


def _lazy_group(target: str) -> type[TyperGroup]:
    class LazyGroup(TyperGroup):
        """A placeholder group: its name and help are known up front; running it (or asking
        for its help) runs the real group imported from ``target``."""

        def make_context(
            self,
            info_name: str | None,
            args: list[str],
            parent: Any = None,
            **extra: Any,
        ) -> Any:
            real = typer.main.get_group(load_typer(target))
            real.name = self.name
            return real.make_context(info_name, args, parent=parent, **extra)

    LazyGroup.__qualname__ = LazyGroup.__name__ = f"LazyGroup[{target}]"
    return LazyGroup
