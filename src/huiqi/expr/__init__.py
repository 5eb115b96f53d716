"""The rule expression language: a Lark grammar, typed immutable nodes, a type checker, a renderer."""
