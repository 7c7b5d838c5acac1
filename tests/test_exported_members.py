"""The public API is what ``snake_pipe.__all__`` says, no more, no less."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import snake_pipe

INIT = Path(snake_pipe.__file__)


def test_all_is_sorted_and_unique() -> None:
    assert snake_pipe.__all__ == sorted(set(snake_pipe.__all__))


def test_every_exported_name_exists() -> None:
    for name in snake_pipe.__all__:
        assert getattr(snake_pipe, name) is not None, name


def test_every_public_name_is_exported() -> None:
    for name in snake_pipe.__all__:
        getattr(snake_pipe, name)  # load every lazy name first
    public = {
        name
        for name, value in vars(snake_pipe).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(snake_pipe.__all__), public - set(snake_pipe.__all__)


def test_lazy_names_and_type_checking_imports_match_all() -> None:
    """The name→module map, the TYPE_CHECKING imports and __all__ list the same names."""
    lazy = set(snake_pipe._LAZY)
    assert lazy == set(snake_pipe.__all__) - {"__version__"}
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "attr", None) == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    assert checked == lazy
    for name, module in snake_pipe._LAZY.items():
        assert getattr(snake_pipe, name) is getattr(sys.modules[module], name)


def test_no_exported_name_is_also_a_submodule() -> None:
    """Importing ``snake_pipe.X`` sets the package's attribute X to the module: an exported
    function X would be replaced by it."""
    submodules = {m.name for m in pkgutil.iter_modules(snake_pipe.__path__)}
    assert not submodules & set(snake_pipe.__all__)


def test_exported_names_keep_their_meaning() -> None:
    from snake_pipe.batching import BatchEngine
    from snake_pipe.errors import SnakePipeError

    assert snake_pipe.BatchEngine is BatchEngine
    assert issubclass(snake_pipe.ConfigError, SnakePipeError)
    assert snake_pipe.SnakePipeError is SnakePipeError


def test_importing_the_package_loads_no_pipeline() -> None:
    """Parser processes import the package: it must stay light until a name is used."""
    code = ("import sys, snake_pipe\n"
            "print(sorted(m for m in sys.modules if m.startswith('snake_pipe')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.strip() == "['snake_pipe']"


def test_unknown_names_raise_attribute_error() -> None:
    try:
        snake_pipe.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_package_is_typed() -> None:
    assert (INIT.parent / "py.typed").exists()
