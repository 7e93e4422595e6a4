"""Sphinx extension of the book build: the API page shows lgan's documentation and nothing else.

autodoc, left alone, adds to the page what a reader of lgan's API has no use for:
- every field of a NamedTuple again, as "Alias for field number N" (the fields are already
  documented in the class's Attributes section), and tuple's own ``count`` and ``index``;
- JAX's private module path in types: ``jaxlib._jax.Array`` where the public name is ``jax.Array``.

Loaded through ``sphinx: local_extensions`` in _config.yml; tests/book/test_website.py checks the page.
"""

from __future__ import annotations

import re

from docutils import nodes

_PRIVATE_ARRAY = re.compile(r"\b(?:jax\.)?jaxlib\._jax\.(\w+)")
_TUPLE_METHODS = {"count", "index"}


def public_type_names(text: str | None) -> str | None:
    """``jaxlib._jax.Array`` (or ``jax.jaxlib._jax.Array``) -> ``jax.Array``."""
    return None if text is None else _PRIVATE_ARRAY.sub(r"jax.\1", text)


def _skip_member(app, what, name, obj, skip, options):
    if type(obj).__name__ == "_tuplegetter":  # a NamedTuple field
        return True
    if name in _TUPLE_METHODS and getattr(obj, "__objclass__", None) is tuple:
        return True
    return None  # autodoc decides


def _public_types_in_doctree(app, doctree):
    """Rewrite every text node (signatures, property types, napoleon's field types) of a page."""
    for node in list(doctree.findall(nodes.Text)):
        text = public_type_names(str(node))
        if text != str(node):
            node.parent.replace(node, nodes.Text(text))


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("doctree-read", _public_types_in_doctree)
    return {"parallel_read_safe": True}
