//! Skein metastore migrations (arrive with the server issue).
