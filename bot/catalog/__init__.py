"""Movie catalog: the starter catalog shipped in the package, importers and MovieLens download."""
