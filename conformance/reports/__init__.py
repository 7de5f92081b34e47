"""Reports: the terminal summary, and the Markdown, HTML and JUnit renderings of the JSON
reports (``lightning-conformance report``)."""
