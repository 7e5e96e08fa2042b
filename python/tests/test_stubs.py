"""The stubs (axon.pyi) name every public class and function of the module, and nothing it lacks."""

import ast
from pathlib import Path

import axon

STUBS = Path(__file__).resolve().parents[1] / "axon.pyi"


def test_every_public_name_has_a_stub_and_every_stub_a_name():
    tree = ast.parse(STUBS.read_text())
    stubbed = {node.name for node in tree.body
               if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    stubbed |= {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)}
    public = {name for name in dir(axon) if not name.startswith("_")}
    helpers = {"Duration", "Name", "Callback"}  # aliases of the stubs only
    assert public - stubbed == set()
    assert {n for n in stubbed - helpers - public if not n.startswith("_")} == set()


def test_every_class_has_a_docstring():
    missing = []
    for name in dir(axon):
        cls = getattr(axon, name)
        if name.startswith("_") or not isinstance(cls, type):
            continue
        if not (cls.__doc__ or "").strip():
            missing.append(name)
    assert missing == []


def undocumented(text):
    """True when a docstring says nothing beyond pybind11's signature line."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    signature = lines and "(" in lines[0] and "->" in lines[0]
    return len(lines) - (1 if signature else 0) == 0


def test_every_method_property_and_enum_value_has_a_docstring():
    missing = []
    for name in dir(axon):
        cls = getattr(axon, name)
        if name.startswith("_"):
            continue
        if not isinstance(cls, type):
            if callable(cls) and undocumented(cls.__doc__):
                missing.append(name)
            continue
        if issubclass(cls, BaseException):
            continue  # the error classes: one docstring each, tested above
        for member, value in vars(cls).items():
            if member.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, cls):
                continue  # an enum value: its doc is in __entries
            if undocumented(getattr(value, "__doc__", None)):
                missing.append(f"{name}.{member}")
        for entry, (_, doc) in getattr(cls, "__entries", {}).items():
            if not (doc or "").strip():
                missing.append(f"{name}.{entry}")
    assert missing == []


def test_every_class_stub_names_the_members_of_its_class_and_no_other():
    tree = ast.parse(STUBS.read_text())
    wrong = []
    for node in tree.body:
        cls = getattr(axon, node.name, None) if isinstance(node, ast.ClassDef) else None
        if not isinstance(cls, type) or issubclass(cls, BaseException):
            continue
        stubbed = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
        stubbed |= {t.id for item in node.body if isinstance(item, (ast.Assign, ast.AnnAssign))
                    for t in (item.targets if isinstance(item, ast.Assign) else [item.target])
                    if isinstance(t, ast.Name)}
        entries = set(getattr(cls, "__entries", {}))
        public = {m for m in vars(cls) if not m.startswith("_")} | entries
        if entries:
            public -= {"name", "value"}  # the stub's Enum base has them
        stubbed = {m for m in stubbed if not m.startswith("_")}
        if public != stubbed:
            wrong.append((node.name, sorted(public - stubbed), sorted(stubbed - public)))
    assert wrong == []
