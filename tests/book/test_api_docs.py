"""The public API's docstrings render cleanly on the API page (book/api.md).

A fast stand-in for the book build's `-W -n` on the autodoc page: each docstring of an object in
`lgan.__all__` (and of its methods and properties) goes through napoleon (Google style, as
configured in _config.yml) and docutils. Plain-text math such as |beta| or lambda_+ is reStructuredText
markup (a substitution, a link target): put it in double backquotes, ``|beta|``.
"""

import inspect
import io
import re

import pytest

pytest.importorskip("sphinx")  # the book's toolchain (requirements.txt); absent in `tasks.py lower-bounds`
from docutils.core import publish_doctree  # noqa: E402
from docutils.parsers.rst import roles  # noqa: E402
from sphinx.ext.napoleon import Config  # noqa: E402
from sphinx.ext.napoleon.docstring import GoogleDocstring  # noqa: E402
from sphinx.pycode import ModuleAnalyzer  # noqa: E402

import lgan  # noqa: E402

NAPOLEON = Config(napoleon_google_docstring=True, napoleon_numpy_docstring=False, napoleon_use_ivar=True)
SPHINX_ROLES = ["func", "class", "meth", "attr", "mod", "data", "obj", "exc", "const", "doc", "ref", "cite", "eq"]


def _generic_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from docutils import nodes

    return [nodes.literal(rawtext, text)], []


for _role in SPHINX_ROLES:
    roles.register_local_role(_role, _generic_role)
    roles.register_local_role(f"py:{_role}", _generic_role)


def public_docstrings():
    """(qualified name, kind, docstring) for every public object and its own members."""
    out = []
    for name in lgan.__all__:
        obj = getattr(lgan, name)
        if inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj):
            doc = inspect.getdoc(obj)
            if doc and not (inspect.isclass(obj) and doc == inspect.getdoc(type(obj))):
                out.append((f"lgan.{name}", "class" if inspect.isclass(obj) else "function", doc))
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                kind = "property" if isinstance(value, property) else "method"
                func = value.fget if isinstance(value, property) else value
                if not (inspect.isfunction(func) or isinstance(value, (property, staticmethod, classmethod))):
                    continue
                doc = inspect.getdoc(value)
                if doc and getattr(func, "__module__", "").startswith("lgan"):
                    out.append((f"lgan.{name}.{attr}", kind, doc))
            # Docstrings written under a field (`x: float` then `"""..."""`), as autodoc reads them.
            attr_docs = ModuleAnalyzer.for_module(obj.__module__).find_attr_docs()
            for (cls, attr), lines in attr_docs.items():
                if cls == obj.__qualname__ and not attr.startswith("_"):
                    out.append((f"lgan.{name}.{attr}", "attribute", "\n".join(lines).strip()))
    return out


DOCS = public_docstrings()


def test_public_api_is_documented():
    assert DOCS
    documented = {q.split(".")[1] for q, _, _ in DOCS}
    missing = [n for n in lgan.__all__ if callable(getattr(lgan, n)) and n not in documented]
    assert not missing, f"public callables without a docstring: {missing}"


@pytest.mark.parametrize("qualname, kind, doc", DOCS, ids=[q for q, _, _ in DOCS])
def test_docstring_renders_cleanly(qualname, kind, doc):
    rst = str(GoogleDocstring(doc, NAPOLEON, what=kind, name=qualname))
    stream = io.StringIO()
    tree = publish_doctree(rst, settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream})
    problems = [m.astext() for m in tree.findall(lambda n: n.tagname == "system_message") if int(m["level"]) >= 2]
    problems += [f"problematic: {n.astext()}" for n in tree.findall(lambda n: n.tagname == "problematic")]
    problems += [line for line in stream.getvalue().splitlines() if line.strip()]
    assert not problems, f"{qualname}: reStructuredText problems (wrap math in ``...``):\n" + "\n".join(problems)
    # napoleon reads "Attributes:" lines as ":ivar NAME:"; a list "a, b, c:" becomes a bogus type.
    bad_ivars = [line for line in rst.splitlines() if re.match(r":ivar [^:]*[, ][^:]*:", line)]
    assert not bad_ivars, f"{qualname}: one name per Attributes entry: {bad_ivars}"
    # napoleon reads a property docstring "Words: text" as "type: description" (a bogus type).
    if kind in ("property", "attribute"):
        types = [line for line in rst.splitlines() if line.startswith(":type:")]
        assert not types, f"{qualname}: property docstring starts like 'type: ...'; rephrase: {types}"


def test_api_page_is_current():
    """book/api.md lists every public name once: regenerate it with `python tools/api_page.py`."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "tools/api_page.py", "--check"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
