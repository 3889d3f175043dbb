"""Read side: plain SQL over read-only connections, one module per kind of question."""
