"""The storage contract's parts by theme (`catalog`, `members`, `media`), composed by
`bot.storage.contract.Storage`."""
