"""Where the MovieLens datasets the prior is built from are downloaded (`prior download NAME`),
apart from the downloader (`bot.prior.download`), so the command line can list the names
without loading it."""

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
DATASETS = {
    "small": GROUPLENS + "ml-latest-small.zip",  # ~1 MB: 100k ratings, 9.7k movies
    "full": GROUPLENS + "ml-latest.zip",  # ~350 MB: ~33M ratings, ~86k movies
}
