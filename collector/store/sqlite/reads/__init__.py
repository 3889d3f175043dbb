"""SQLite answers to the analyst's questions: one module per kind of question, over read-only connections."""
