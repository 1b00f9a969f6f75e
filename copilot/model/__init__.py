"""The language model: the one engine, GGUF file checks and the store of models the user added."""
