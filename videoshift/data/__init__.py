"""Video data: annotation lists, frame samplers, frame-exact readers, clip transforms, datasets, synthetic data."""
