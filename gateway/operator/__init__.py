"""What an operator runs against a CoCalc server: ``doctor`` (is everything CoCalc needs
for embedding in place; fix what the key may) and ``connect`` (get an API key by signing in)."""
