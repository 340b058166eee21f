"""The ``mlx`` command line: thin commands over the library.

One error boundary (:func:`main`) maps every :class:`AutomlYamlError` to its
named exit code and prints one clear message; tracebacks only with ``--debug``.
Heavy libraries are imported inside the commands that need them, so
``mlx --help`` and ``mlx validate`` start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

import click

from .errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    AutomlYamlError,
    Terminated,
    UsageError,
    interrupt_name,
    storage_error,
)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_set_option = click.option(
    "--set",
    "overrides",
    metavar="KEY=VALUE",
    multiple=True,
    help="Override a spec value by its dotted path, e.g. --set search.budget.trials=20 (repeatable).",
)


def _version() -> str:
    from . import __version__

    return __version__


class _Group(click.Group):
    """Lists commands in the order they were added (the order of the workflow)."""

    def list_commands(self, ctx):
        return list(self.commands)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="automl-yaml", prog_name="mlx", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """automl-yaml: declarative AutoML from one YAML spec.

    \b
    Start here:
      mlx init --template quickstart myproject   copy an example
      mlx validate myproject/spec.yaml           check it (fast, static)
      mlx plan myproject/spec.yaml               show what will run
      mlx run myproject/spec.yaml                run it, tracked in MLflow
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# ---------------------------------------------------------------------------- validate


@cli.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--check-data", is_flag=True, help="Also open the sources: columns, join keys and target must exist.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow annotations (::error file=…,line=…).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@_set_option
def validate(specs: tuple[str, ...], check_data: bool, fmt: str, strict: bool, quiet: bool, overrides: tuple[str, ...]) -> int:
    """Check specs (files, or folders of .yaml/.yml files): exit 0 when valid, 2 when not.

    Every problem is reported at once, compiler-style:
    spec.yaml:12:5: models.rf.params.max_dept: unknown parameter … did you mean 'max_depth'?
    """
    from .errors import Location, Problem
    from .spec import ValidationReport
    from .spec import validate as _validate

    files: list[str | ValidationReport] = []
    for s in specs:
        p = Path(s)
        if p.is_dir():  # a folder: every spec below it
            found = sorted(str(f) for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:  # a problem of this argument, reported with the others (and in --format json)
                problem = Problem("no .yaml or .yml file in this folder", location=Location(s), hint="give a spec file, or a folder that holds specs")
                files.append(ValidationReport(s, [problem], None))
            files.extend(found)
        else:
            files.append(s)
    reports = [f if isinstance(f, ValidationReport) else _validate(f, overrides=overrides, check_data=check_data) for f in files]
    failed = 0
    for r in reports:
        bad = not r.ok or (strict and r.problems)
        failed += bool(bad)
    if fmt == "json":
        out = [
            {"file": r.file, "valid": not (not r.ok or (strict and r.problems)), "problems": [p.to_dict() for p in r.problems]}
            for r in reports
        ]
        click.echo(json.dumps(out if len(out) > 1 else out[0], indent=2))
    elif fmt == "github":
        for r in reports:
            for p in r.problems:
                click.echo(p.github())
        if not quiet:
            click.echo(f"{len(reports) - failed} valid, {failed} invalid", err=True)
    else:
        for r in reports:
            for p in r.problems:
                click.echo(p.render(), err=True)
            if not quiet:
                n_err = len(r.errors)
                n_warn = len(r.problems) - n_err
                if r.ok and not (strict and r.problems):
                    extra = f" ({n_warn} warning{'s' if n_warn != 1 else ''})" if n_warn else ""
                    click.echo(f"{r.file}: valid{extra}")
                else:
                    n = n_err + (n_warn if strict else 0)
                    click.echo(f"{r.file}: {n} error{'s' if n != 1 else ''}", err=True)
    return EXIT_USAGE if failed else EXIT_OK


# -------------------------------------------------------------------------------- plan


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid"]), default="text", show_default=True)
@_set_option
def plan(spec: str, fmt: str, overrides: tuple[str, ...]) -> int:
    """Show the graph of steps `mlx run` executes, the search space and the fits it implies."""
    from .planner import plan as _plan
    from .spec import load_spec

    loaded = load_spec(spec, overrides=overrides)
    for w in loaded.warnings:
        click.echo(w.render(), err=True)
    p = _plan(loaded)
    if fmt == "json":
        click.echo(json.dumps(p.to_dict(), indent=2, default=str))
    elif fmt == "mermaid":
        click.echo(p.mermaid())
    else:
        click.echo(p.text())
    return EXIT_OK


# --------------------------------------------------------------------------------- run


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(path_type=str))
@_set_option
@click.option("--resume", is_flag=True, help="Continue an interrupted run (give the same spec and --set values): finished trials are not run again and count towards search.budget.trials; search.budget.time starts again. search.budget and execution may change: --resume --set search.budget.trials=100 extends a finished search.")
@click.option("--no-cache", is_flag=True, help="Read every source again instead of using the Parquet cache.")
@click.option("--output", "-o", type=click.Path(path_type=str), help="The output folder (overrides `output:`).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display; print only the result line.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option(
    "--challenge",
    metavar="MODEL",
    help="Retrain against a registered model (models:/NAME@champion): both are scored on this run's held-out rows,"
    " and the new version takes tracking.alias only if it wins under tracking.promote.",
)
def run(spec: str, overrides: tuple[str, ...], resume: bool, no_cache: bool, output: str | None, quiet: bool, as_json: bool, challenge: str | None) -> int:
    """Run the whole job: load, search, evaluate on the held-out test set, track."""
    from .runner import run as _run

    if output:
        overrides = overrides + (f"output={output}",)
    from .runner import tracking_warning

    result = _run(spec, overrides=overrides, resume=resume, cache=not no_cache, quiet=quiet or as_json, progress=not (quiet or as_json), challenge=challenge)
    if as_json:
        click.echo(json.dumps(result.summary, indent=2, default=str))
    elif quiet:
        click.echo(result.one_line())
    warning = tracking_warning(result.tracking or {})
    if warning:
        # trials missing from MLflow: a script must notice (the outputs are complete; summary.json says it too)
        if quiet or as_json:
            click.echo(f"warning: {warning}", err=True)
        return EXIT_RUNTIME
    return EXIT_OK


# ----------------------------------------------------------------------------- profile


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(path_type=str))
@_set_option
@click.option("--output", "-o", type=click.Path(path_type=str), help="Where to write the profile (default: <output>/profile).")
@click.option("--no-cache", is_flag=True, help="Read the sources again.")
@click.option("--json", "as_json", is_flag=True, help="Print profile.json on stdout.")
def profile(spec: str, overrides: tuple[str, ...], output: str | None, no_cache: bool, as_json: bool) -> int:
    """Profile the spec's data: types, missing values, statistics, correlations, plots, HTML."""
    from .runner import profile as _profile

    result = _profile(spec, overrides=overrides, output=output, cache=not no_cache, quiet=as_json)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    return EXIT_OK


# ----------------------------------------------------------------------------- predict


@cli.command(context_settings=CONTEXT)
@click.option("--model", "-m", "model", required=True, help="runs:/<run id>/model, models:/<name>@<alias>, or an output folder.")
@click.option("--input", "-i", "input_", required=True, help="A data file or URL (CSV, Parquet, JSON, Excel...), or SPEC.yaml:SOURCE for a source a spec defines.")
@click.option("--output", "-o", "output", required=True, type=click.Path(path_type=str), help="Where to write the predictions (.csv/.parquet/.json).")
@click.option("--proba", is_flag=True, help="Also write class probabilities.")
@click.option("--keep", "-k", "keep", multiple=True, metavar="COLUMN", help="Also write this input column, first (an id to join on); repeatable.")
@click.option("--tracking-uri", help="The MLflow tracking URI (for runs:/ and models:/).")
def predict(model: str, input_: str, output: str, proba: bool, keep: tuple[str, ...], tracking_uri: str | None) -> int:
    """Predict with a trained model."""
    from .predict import predict_cli

    predict_cli(model=model, input=input_, output=output, proba=proba, tracking_uri=tracking_uri, keep=keep)
    return EXIT_OK


@cli.command(context_settings=CONTEXT)
@click.option("--model", "-m", "model", required=True, help="runs:/<run id>/model, models:/<name>@<alias>, or an output folder.")
@click.option(
    "--current",
    "-c",
    help="The current data: a file or URL, SPEC.yaml:SOURCE, or with --spec the name of one of its sources; default: the spec's monitor.current.",
)
@click.option("--spec", "spec", type=click.Path(path_type=str), help="A spec: its monitor: thresholds, its sources and its tracking URI.")
@click.option(
    "--output", "-o", type=click.Path(path_type=str), help="Folder for monitor.json, monitor.html and plots/; default: monitor/ beside the spec, else here."
)
@click.option("--prometheus", type=click.Path(dir_okay=False, path_type=str), help="Also write the figures as Prometheus metrics (node-exporter's textfile collector: *.prom).")
@click.option("--tracking-uri", help="The MLflow tracking URI (for runs:/ and models:/).")
@click.option("--no-plots", is_flag=True, help="Skip the reference-against-current plots.")
@click.option("--json", "as_json", is_flag=True, help="Print monitor.json on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line.")
def monitor(model: str, current: str | None, spec: str | None, output: str | None, prometheus: str | None, tracking_uri: str | None, no_plots: bool, as_json: bool, quiet: bool) -> int:
    """Check current data for drift against a model's training profile (exit 3 on drift)."""
    from .monitor.command import monitor_cli

    return monitor_cli(
        model=model, current=current, spec=spec, tracking_uri=tracking_uri, output=output, prometheus=prometheus, as_json=as_json, quiet=quiet, plots=not no_plots
    )


# ------------------------------------------------------------------------------ schema


@cli.command(context_settings=CONTEXT)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write to a file instead of stdout.")
def schema(output: str | None) -> int:
    """Print the spec's JSON Schema (for editors and CI)."""
    from .spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        from .io import atomic_write_text

        atomic_write_text(Path(output), text)
    else:
        click.echo(text, nl=False)
    return EXIT_OK


# -------------------------------------------------------------------------------- init


@cli.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=str))
@click.option("--template", "-t", default="quickstart", show_default=True, help="The example to copy (see --list).")
@click.option("--list", "list_", is_flag=True, help="List the templates.")
@click.option("--force", is_flag=True, help="Copy into a folder that is not empty.")
def init(directory: str | None, template: str, list_: bool, force: bool) -> int:
    """Start a project by copying a template from examples/."""
    from .templates import copy_template, templates

    if list_:
        for name, summary in templates().items():
            click.echo(f"{name:<22} {summary}")
        return EXIT_OK
    if not directory:
        raise UsageError("give the folder to create", hint=f"mlx init --template {template} my-project")
    from .templates import first_steps

    dest = copy_template(template, Path(directory), force=force)
    click.echo(f"created {dest} from the '{template}' template")
    steps = first_steps(dest)
    if steps:  # a template that needs a step before its first run (sql-source: python make_db.py) says so
        click.echo(f"next, in {dest} (from its README.md):")
        for line in steps:
            click.echo(f"  {line}")
    else:
        spec = dest / "spec.yaml"
        click.echo(f"next: read {dest / 'README.md'}, then: mlx validate {spec} && mlx run {spec}")
    return EXIT_OK


# -------------------------------------------------------------------------------- list


_FAMILIES = ["estimators", "models", "metrics", "transforms", "selectors", "strategies", "sources", "templates", "plugins"]


@cli.command("list", context_settings=CONTEXT)
@click.argument("family", required=False, type=click.Choice(_FAMILIES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(family: str | None, as_json: bool) -> int:
    """List registered components (estimators, metrics, transforms, selectors, strategies, ...)."""
    from .listing import CAPTIONS, listing

    rows = listing(family)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    from .console import make_console

    console = make_console(stderr=False)
    for fam, items in rows.items():
        table = Table(title=fam, title_justify="left", show_edge=False, pad_edge=False, caption=CAPTIONS.get(fam), caption_justify="left")
        cols = list(items[0]) if items else ["name"]
        for c in cols:
            table.add_column(c)
        for it in items:
            # Text, not markup: a space such as max_depth={choice: [None, 8]} holds brackets rich would eat
            table.add_row(*(Text(str(it.get(c, ""))) for c in cols))
        console.print(table)
        console.print()
    return EXIT_OK


# ------------------------------------------------------------------------ error boundary


def main(argv: list[str] | None = None) -> int:
    """Run ``mlx``; returns the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    # our spec models need no pydantic plugins, and looking for them costs start-up time
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    debug = "--debug" in args or os.environ.get("MLX_DEBUG") == "1"
    try:
        with _sigterm_as_interrupt():
            rv = cli.main(args=args, prog_name="mlx", standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt) as exc:
        # click turns a KeyboardInterrupt into Abort (the interrupt is its __context__)
        reported = any(getattr(e, "mlx_reported", False) for e in (exc, exc.__cause__, exc.__context__))
        if not reported:  # the run has said it, with the resume command
            click.echo(f"\ninterrupted{interrupt_name(exc)}", err=True)
        return EXIT_INTERRUPTED
    except AutomlYamlError as exc:
        if debug:
            traceback.print_exc()
        click.echo(exc.render(), err=True)
        return exc.exit_code
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last line of defence: never a bare traceback
        if debug:
            traceback.print_exc()
        from .secrets import mask

        failure = storage_error(exc)  # a full or read-only disk is the machine's, not a bug to report
        if failure is not None:
            click.echo(mask(failure.render()), err=True)
            return failure.exit_code
        click.echo(mask(f"error: internal error: {type(exc).__name__}: {exc}"), err=True)
        if not debug:
            click.echo("  hint: run again with --debug for the traceback, and please report it", err=True)
        return EXIT_RUNTIME


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (``docker stop``, ``kill``, a scheduler's cancel) stops a command as Ctrl+C does.

    Its default ends the process at once: exit 143, no message, the trial
    workers left to notice alone, no resume command. Raised as
    :class:`~automl_yaml.errors.Terminated` (a ``KeyboardInterrupt``) in the
    main thread, it takes Ctrl+C's path: the workers are stopped, the journal
    kept, the resume command printed, exit 130. Only where a handler can be
    set (the main thread); the previous handler comes back after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum, frame):
        raise Terminated(signum)

    old = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def entry() -> None:  # the console script (and ``python -m automl_yaml``)
    exit_now(main())


def exit_now(code: int) -> None:
    """End the process with ``code`` without tearing down every imported module.

    After ``mlx run`` the interpreter's finalisation frees each of the ~3,000
    modules the run imported (pandas, scikit-learn, SciPy, MLflow,
    matplotlib): 0.8 s measured, of a 5-second run, for nothing the user
    sees. Everything automl-yaml writes is closed by then (temporary names,
    renamed). This does first what the interpreter does before that teardown
    - joins the threads that are not daemons, runs the ``atexit`` handlers
    (logging's flush, multiprocessing's clean-up of child processes, MLflow's),
    flushes the standard streams - then exits. ``MLX_FULL_EXIT=1`` keeps the
    normal exit (for tools that need the teardown, a leak checker say).
    """
    import atexit
    import threading

    if os.environ.get("MLX_FULL_EXIT") == "1":
        sys.exit(code)
    try:
        # What the interpreter does first: threading's own exit hooks (they
        # tell concurrent.futures' idle workers to stop: joined without them,
        # the workers of a pool never shut down wait for work for ever), then
        # the join of the threads that are not daemons.
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None and threading.current_thread() is threading.main_thread():
            shutdown()
        else:
            for t in threading.enumerate():
                if t is not threading.current_thread() and not t.daemon:
                    t.join()
        atexit._run_exitfuncs()  # CPython's own hook for this; errors in handlers are printed, not raised
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed pipe (mlx ... | head) or stream
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
