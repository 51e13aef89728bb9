"""Import a generated package straight from its source texts (no files), and use its models.

Template validation and the planner use the very code ``opsforge ranconfig compile`` writes,
so a constraint behaves the same in a compiled package and in memory.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, cast

from opsforge.core.errors import NotFoundError
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.mom import Mom, mom_class_name
from opsforge.engines.ranconfig.runtime import MoBase

__all__ = ["ModelSet", "compile_models", "load_package"]


class _SourceLoader(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and executes the modules of one generated package held in memory."""

    def __init__(self, package: str, files: Mapping[str, str]) -> None:
        self._package = package
        self._sources: dict[str, str] = {}
        for path, text in files.items():
            if not path.endswith(".py"):
                continue
            stem = path[:-3]
            name = package if stem == "__init__" else f"{package}.{stem}"
            self._sources[name] = text

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._sources:
            return None
        return importlib.util.spec_from_loader(
            fullname, self, origin=f"<generated {fullname}>", is_package=fullname == self._package
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = compile(self._sources[module.__name__], f"<generated {module.__name__}>", "exec")
        exec(code, module.__dict__)


def load_package(files: Mapping[str, str], package: str) -> ModuleType:
    """Import the generated package ``package`` from ``files`` (path -> text).

    Earlier modules of the same name are dropped first.
    """
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    sys.meta_path[:] = [
        f for f in sys.meta_path if not (isinstance(f, _SourceLoader) and f._package == package)
    ]
    sys.meta_path.insert(0, _SourceLoader(package, files))
    return importlib.import_module(package)


class ModelSet:
    """The models of one MOM, looked up by MOM class name."""

    def __init__(self, mom: Mom, package: ModuleType) -> None:
        self.mom = mom
        self.package = package

    def model(self, mo_class: str, *, writable: bool = False) -> type[MoBase]:
        """The (writable) model of ``mo_class``; ``vsData`` names accepted.

        Raises
        ------
        NotFoundError
            The model has no such class.
        """
        name = mom_class_name(mo_class)
        classes = cast(dict[str, Any], self.package.MO_CLASSES)
        if name not in classes:
            raise NotFoundError(
                f"MO class {mo_class!r} is not in model {self.mom.name!r}", mo_class=mo_class
            )
        model = self.package.model_for(name, writable=writable)
        return cast(type[MoBase], model)


def compile_models(mom: Mom, package: str | None = None) -> ModelSet:
    """Generate the models of ``mom`` and import them in memory (lazily, class by class).

    Without ``package`` the name is derived from the generated code, so compiling the same
    model again reuses the package already imported instead of loading another copy.
    """
    if package is not None:
        return ModelSet(mom, load_package(generate_package(mom, package), package))
    files = generate_package(mom, "models")
    digest = hashlib.sha256("\0".join(f"{k}\0{v}" for k, v in sorted(files.items())).encode())
    name = f"_opsforge_ranconfig_models_{digest.hexdigest()[:16]}"
    module = sys.modules.get(name)
    if module is None:
        module = load_package(files, name)
    return ModelSet(mom, module)
