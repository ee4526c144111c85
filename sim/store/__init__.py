"""The results store: the only code that knows how results folders are laid out and what manifests hold."""
