"""Search engines behind kb.search.engine.Engine, one package each."""
