//! Test-only checks that need the engine's internals (the factor, the profiled tail, the
//! gradient workspace), kept apart from the production modules. Tests that need only the
//! public API live in the workspace's `tests/` folders.

mod marginal_likelihood;
