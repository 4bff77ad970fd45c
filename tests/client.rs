//! The VPCEP client against a local test server.
