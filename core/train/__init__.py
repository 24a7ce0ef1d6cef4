"""Training: datasets with augmentation, and the ``parley train`` loops for Ψ, Φ and the smoother."""
