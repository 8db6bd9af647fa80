"""Consumer conformance: a project's own copy of the Xen headers against Xen's ABI, per arch."""
