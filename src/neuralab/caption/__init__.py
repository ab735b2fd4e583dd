"""Video captioning of generated moving-digit clips: grammar, clips, S2VT model, training, metrics, report section."""
