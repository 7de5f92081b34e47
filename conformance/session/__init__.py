"""The pytest plugin's plumbing: the harness a clause gets as ``target``, item selection, the
result collector and the progress lines."""
