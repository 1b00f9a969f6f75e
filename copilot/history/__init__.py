"""Customer history: the encrypted store, import and export, digests and summaries."""
