"""The analyst's questions in ClickHouse SQL, one module per question (as in the SQLite engine)."""
