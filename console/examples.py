"""The console's examples: its `--help` description and its `help` command's text. Apart from
the session, so building the command line does not load discord.py."""

EXAMPLES = """\
Type slash commands as in Discord; options are name:value (quote values with spaces).
  /rate movie:"Toy Story 3" score:9     /recommend count:5        /recommend genre:Comedy
  /rate movie:matr?                     (a trailing ? lists the autocomplete suggestions)
  /movies search query:dune             /movies info movie:"The Matrix"     /ratings
  /recommend group:"@ana @ben"          /recommend voice:Cinema   (ana and ben are in Cinema)
  press Show more                       click a button on the last message that has buttons
  select "The Matrix"   select #2       pick a menu option (a prefix or its number); a form
                                        then asks for each field on the next lines
  select watchlist: #1  select 2: Heat  the same in one menu (a word of it, or its number)
  as ana /ratings                       run one command as another member
  as ana                                switch to ana until 'as you'
  help    quit (or Ctrl-D)"""
