"""Contract metadata: the clause registry, contract versions and their changes, the version
matrix, and the diff between two versions' contracts. Imports neither torch nor Lightning."""
