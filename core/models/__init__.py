"""Models: the landmark PCA and (later) the motion networks, with safetensors checkpoints."""
