"""funcgrad internals: the core, the transforms and the primitive declarations."""
