"""The taste prior: movie factors learned from a public ratings dataset (MovieLens), linked to
the catalog, so a small server's model starts from meaningful movie features.

* `readers`: open a MovieLens folder or zip (ml-latest-small, ml-latest, ml-25m, ml-32m, or
  ML-100K) and read its ratings fast (numpy, chunked) and its movie list.
* `linking`: match the dataset's movies to catalog movies (ids, then titles and years).
* `build`: read, learn (`recommender.prior.build_prior`), link, store.
* `download`: fetch a MovieLens zip from GroupLens and build from it.
* `cli`: `python -m bot prior build|download|status|remove`.
"""
