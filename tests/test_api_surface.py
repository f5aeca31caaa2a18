"""The public API: every public name is exported on purpose and documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import connect_sim


def public_modules() -> list[object]:
    names = ["connect_sim"] + [
        info.name
        for info in pkgutil.walk_packages(connect_sim.__path__, prefix="connect_sim.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    ]
    return [importlib.import_module(name) for name in names]


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for module in public_modules():
        if not inspect.getdoc(module):
            missing.append(module.__name__)  # type: ignore[attr-defined]
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if not inspect.getdoc(obj):
                    missing.append(f"{module.__name__}.{name}")  # type: ignore[attr-defined]
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if attr.startswith("_") or not (
                            inspect.isfunction(member) or isinstance(member, property)
                        ):
                            continue
                        if not inspect.getdoc(member):
                            missing.append(f"{module.__name__}.{name}.{attr}")  # type: ignore[attr-defined]
    assert missing == []


def test_all_lists_only_names_that_exist() -> None:
    for module in public_modules():
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{module.__name__}.{name}"  # type: ignore[attr-defined]
