"""Live: a voice in, the face moving frame by frame (``parley live``): the causal engine, its audio sources and
its outputs (JSON lines, OSC)."""
