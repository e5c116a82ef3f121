"""Settings: the validated config, flat setting names, presets, errors."""
