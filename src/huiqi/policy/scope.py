"""The names one document's expressions may use: facts, definitions, reading-defined names."""

from __future__ import annotations

from dataclasses import dataclass, field

from huiqi.errors import ExpressionError
from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, Fact, Period


@dataclass
class DocumentScope:
    """Names visible to one document's expressions, with their types (the type checker's ``Scope``)."""

    catalogue: Catalogue
    document: str
    definitions: dict[str, ast.Node] = field(default_factory=dict)
    reading_names: dict[str, tuple[str, dict[str, ast.Node]]] = field(default_factory=dict)
    #: short Chinese labels of definitions (the label up to its first parenthesis)
    labels: dict[str, str] = field(default_factory=dict)
    _types: dict[str, Type] = field(default_factory=dict)
    _checking: set[str] = field(default_factory=set)

    def type_of(self, name: str) -> Type | None:
        from huiqi.expr.check import infer

        if name == "period":
            return Type.NUMBER
        if name == "as_of":
            return Type.DATE
        if name == "quarter":
            return Type.NUMBER
        if name in self._types:
            return self._types[name]
        fact = self.catalogue.get(name)
        if fact is not None:
            return fact.type
        if name in self._checking:
            raise ExpressionError(f"定义 {name!r} 循环引用了自身")
        if name in self.definitions:
            self._checking.add(name)
            try:
                self._types[name] = infer(self.definitions[name], self)
            finally:
                self._checking.discard(name)
            return self._types[name]
        if name in self.reading_names:
            key, options = self.reading_names[name]
            self._checking.add(name)
            try:
                found = {infer(node, self) for node in options.values()}
            finally:
                self._checking.discard(name)
            if len(found) != 1:
                raise ExpressionError(f"口径 {key} 的各选项对 {name!r} 的定义类型不一致")
            self._types[name] = found.pop()
            return self._types[name]
        return None

    def names(self) -> list[str]:
        """Every name an expression of this document may use (for "是否应为 …？" hints)."""
        return ["period", "quarter", "as_of", *self.catalogue.facts, *self.definitions, *self.reading_names]

    def is_annual(self, name: str) -> bool:
        fact = self.catalogue.get(name)
        return fact is not None and fact.period is Period.ANNUAL

    def is_quarterly(self, name: str) -> bool:
        fact = self.catalogue.get(name)
        return fact is not None and fact.period is Period.QUARTERLY

    def label(self, name: str) -> str:
        """The Chinese label of a name."""
        if name == "period":
            return "评价年度"
        if name == "as_of":
            return "评价日"
        if name == "quarter":
            return "评价季度"
        fact = self.catalogue.get(name)
        if fact is not None:
            return fact.name
        if name in self.labels:
            return self.labels[name]
        if name in self.reading_names:
            return f"{name}（随口径 {self.reading_names[name][0]}）"
        return name


#: Inside a ``per_item`` benefit, ``item_<field>`` names a field of the item being paid (``item_fee``).
ITEM_PREFIX = "item_"


@dataclass
class ItemDocumentScope(DocumentScope):
    """A document's scope inside a ``per_item`` benefit: also the fields of the list fact's items."""

    item_fact: Fact | None = None

    def item_type(self, name: str) -> Type | None:
        """The type of ``item_<field>``, or None when the name is not a field of the items."""
        if self.item_fact is None or not name.startswith(ITEM_PREFIX):
            return None
        item_field = self.item_fact.item_field(name.removeprefix(ITEM_PREFIX))
        return None if item_field is None else item_field.type

    def type_of(self, name: str) -> Type | None:
        return self.item_type(name) or super().type_of(name)

    def names(self) -> list[str]:
        fields = [f"{ITEM_PREFIX}{f.key}" for f in (self.item_fact.fields or [])] if self.item_fact else []
        return [*fields, *super().names()]

    def label(self, name: str) -> str:
        if self.item_type(name) is not None and self.item_fact is not None:
            item_field = self.item_fact.item_field(name.removeprefix(ITEM_PREFIX))
            assert item_field is not None
            return f"本项{item_field.name}"
        return super().label(name)


def item_scope(scope: DocumentScope, fact: Fact) -> ItemDocumentScope:
    """The document's scope with the fields of ``fact``'s items."""
    return ItemDocumentScope(catalogue=scope.catalogue, document=scope.document, definitions=scope.definitions,
                             reading_names=scope.reading_names, labels=scope.labels, item_fact=fact)  # fmt: skip
