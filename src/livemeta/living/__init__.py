"""The living review: what changed between revisions, and the cumulative meta-analysis."""
