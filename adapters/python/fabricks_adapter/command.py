"""`fabricks:app/command`: the app's own command line, run in the component.

`spin-fabricks exec DIR -- ARGS` calls `run(ARGS)` on a fresh instance, with
the app's files and environment, as a shell would run the command in the
app's directory:

- `python SCRIPT ARGS...`, `python -m MODULE ARGS...`, `python -c CODE`;
- any console script an installed package declares (`flask ...`,
  `django-admin ...`), looked up in the packages' entry points.

The exit status is what the command passes to `sys.exit` (0 when it returns).
"""

import os
import runpy
import sys
import traceback

from wit_world.imports import environment as _wasi_environment


def command_class():
    class Command:
        def run(self, args):
            return run(list(args))

    return Command


def run(args):
    if not args:
        print("fabricks exec: no command given", file=sys.stderr)
        return 2
    saved_argv = sys.argv
    # The instance's environment (the component's, plus `exec -e`): the
    # snapshot's os.environ holds what the build saw.
    os.environ.update(dict(_wasi_environment.get_environment()))
    try:
        return _exit_status(lambda: _dispatch(args))
    finally:
        sys.argv = saved_argv
        sys.stdout.flush()
        sys.stderr.flush()


def _exit_status(call):
    try:
        call()
        return 0
    except SystemExit as exit:
        code = exit.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1


def _dispatch(args):
    name, rest = os.path.basename(args[0]), args[1:]
    if name in ("python", "python3"):
        return _python(rest)
    script = _console_script(name)
    if script is None:
        print(
            f"fabricks exec: {name!r} is neither python nor a command of the app's packages "
            f"(their console scripts: {', '.join(sorted(_console_scripts())) or 'none'})",
            file=sys.stderr,
        )
        raise SystemExit(127)
    sys.argv = [name, *rest]
    raise SystemExit(script.load()())


def _python(args):
    if not args:
        print("fabricks exec: python needs a script, -m MODULE or -c CODE (there is no interactive prompt)", file=sys.stderr)
        raise SystemExit(2)
    if args[0] == "-c" and len(args) >= 2:
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
    elif args[0] == "-m" and len(args) >= 2:
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        path = args[0] if os.path.isabs(args[0]) else os.path.join(_app_dir(), args[0])
        sys.argv = [args[0], *args[1:]]
        runpy.run_path(path, run_name="__main__")


def _app_dir():
    """Where the app's own files are in the guest: the first folder on
    `sys.path` that holds the entry module's app (componentize-py's `/0`)."""
    for entry in sys.path:
        if entry.rstrip("/").endswith("/0") or entry == "/0":
            return entry
    return os.getcwd()


def _console_scripts():
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group="console_scripts")}


def _console_script(name):
    return _console_scripts().get(name)
