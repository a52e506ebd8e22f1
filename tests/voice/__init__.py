"""Voice: Assist sentences and LLM tools against the simulators."""
