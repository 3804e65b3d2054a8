//! Skein node runtime (actors arrive with the server issue).
