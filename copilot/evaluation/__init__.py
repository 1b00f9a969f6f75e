"""Measuring the product on public customer-service data: retrieval, summaries and replies."""
