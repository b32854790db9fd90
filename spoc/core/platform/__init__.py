"""Settings and plugin loading: the hook specifications, the plugin host and its registries."""
