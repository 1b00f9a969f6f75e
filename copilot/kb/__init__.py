"""The knowledge base: import, chunking, offline embeddings, hybrid retrieval."""
