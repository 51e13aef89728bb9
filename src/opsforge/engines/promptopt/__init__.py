"""LLM program optimization (seed 003): not built yet."""
