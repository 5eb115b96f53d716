"""The compiled kernel: a document's rules as one numba function over aligned numpy arrays.

A third evaluator beside the scalar engine (``huiqi.engine``) and the SQL compiler (``huiqi.compile``),
generated from the same rule tree: ``codegen`` writes each document as straight-line Python over one row
(three-valued logic as value/known pairs, money as int64 fen, every other number as an int64 numerator
over a denominator fixed when the code is written, so nothing is rounded until the scalar engine rounds),
numba compiles it once into a loop over every row on every core, and ``runner`` gives back the same wide
result the document's SQL query gives (``entity_id``, each rule's status code and amount).

What it does not compile (history and ledger functions, awards the loaded ledger names under a rule,
non-duplication groups, lists of items, quarters) raises ``NoKernel``, and the caller evaluates that
document with SQL instead: nothing is approximated. docs/population.md ("The compiled kernel") has the
design and the figures.
"""
