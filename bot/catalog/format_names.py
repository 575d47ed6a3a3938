"""The catalog importer's file format names, apart from the parsers (`bot.catalog.formats`), so
the command line can list them without loading the storage layer."""

FORMATS = ("auto", "movielens", "ml-100k", "csv")
