"""Title search quality on a few hundred real MovieLens-style titles (fixture below)."""

from __future__ import annotations

import pytest

from bot.domain.title_forms import parse_title
from bot.storage import MovieRow

# 301 titles as MovieLens writes them: "Title, The (Alt title) (Year)".
TITLES = """\
Toy Story (1995)
City of Lost Children, The (Cité des enfants perdus, La) (1995)
Misérables, Les (1995)
Crossing Guard, The (1995)
Batman Forever (1995)
Die Hard: With a Vengeance (1995)
French Kiss (1995)
Star Wars: Episode IV - A New Hope (1977)
Léon: The Professional (a.k.a. The Professional) (Léon) (1994)
Pulp Fiction (1994)
Shawshank Redemption, The (1994)
Cliffhanger (1993)
Blade Runner (1982)
Terminator 2: Judgment Day (1991)
Batman (1989)
Daylight (1996)
Tales from the Crypt Presents: Bordello of Blood (1996)
Godfather, The (1972)
That Darn Cat! (1965)
Die Hard (1988)
Get on the Bus (1996)
Dial M for Murder (1954)
E.T. the Extra-Terrestrial (1982)
Star Wars: Episode V - The Empire Strikes Back (1980)
Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark) (1981)
Aliens (1986)
Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)
Star Wars: Episode VI - Return of the Jedi (1983)
Alien (1979)
Godfather: Part II, The (1974)
Amadeus (1984)
Harold and Maude (1971)
Terminator, The (1984)
Back to the Future (1985)
Cool Hand Luke (1967)
Indiana Jones and the Last Crusade (1989)
Unbearable Lightness of Being, The (1988)
Man Who Would Be King, The (1975)
Alien³ (a.k.a. Alien 3) (1992)
Audrey Rose (1977)
Blood and Wine (Blood & Wine) (1996)
Die Hard 2 (1990)
Star Trek VI: The Undiscovered Country (1991)
Batman Returns (1992)
Portrait of a Lady, The (1996)
Austin Powers: International Man of Mystery (1997)
Pillow Book, The (1996)
Batman & Robin (1997)
In & Out (1997)
Assignment, The (1997)
Alien: Resurrection (1997)
Great Expectations (1998)
Last Days of Disco, The (1998)
Misérables, Les (1998)
Quest for Camelot (1998)
Mulan (1998)
Rocky (1976)
Take the Money and Run (1969)
Back to the Future Part II (1989)
Back to the Future Part III (1990)
Seven Samurai (Shichinin no samurai) (1954)
Dune (1984)
Godfather: Part III, The (1990)
Hot Lead and Cold Feet (1978)
L.A. Story (1991)
Lord of the Rings, The (1978)
Maximum Overdrive (1986)
Torn Curtain (1966)
Thing, The (1982)
Pleasantville (1998)
Rocky II (1979)
Rocky III (1982)
Rocky IV (1985)
Rocky V (1990)
Matrix, The (1999)
Entrapment (1999)
Castle, The (1997)
Black Mask (Hak hap) (1996)
Star Wars: Episode I - The Phantom Menace (1999)
Rocky Horror Picture Show, The (1975)
Run Lola Run (Lola rennt) (1998)
Frances (1982)
Big (1988)
Jakob the Liar (1999)
Fever Pitch (1997)
Little Big Man (1970)
Toy Story 2 (1999)
Five Easy Pieces (1970)
Batman: Mask of the Phantasm (1993)
Woman in the Dunes (Suna no onna) (1964)
Hand That Rocks the Cradle, The (1992)
Next Best Thing, The (2000)
Ogre, The (Unhold, Der) (1996)
On the Beach (1959)
Let's Get Harry (1986)
Turtle Diary (1985)
Postman Always Rings Twice, The (1981)
Class of Nuke 'Em High (1986)
Alien Nation (1988)
Mad Max (1979)
Road Warrior, The (Mad Max 2) (1981)
Mad Max Beyond Thunderdome (1985)
Sunshine (1999)
Adventures of Rocky and Bullwinkle, The (2000)
Perfect Storm, The (2000)
Meet the Parents (2000)
Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)
Finding Forrester (2000)
House of Games (1987)
Amazon Women on the Moon (1987)
Longest Yard, The (1974)
My Stepmother Is an Alien (1988)
Turner & Hooch (1989)
Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Philosopher's Stone) (2001)
Out Cold (2001)
Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)
Joe Somebody (2001)
Lord of the Rings: The Fellowship of the Ring, The (2001)
Storytelling (2001)
Scratch (2001)
Sweetest Thing, The (2002)
Star Wars: Episode II - Attack of the Clones (2002)
Requiem for a Heavyweight (1962)
Silver Bullet (Stephen King's Silver Bullet) (1985)
Powerpuff Girls, The (2002)
Spirited Away (Sen to Chihiro no kamikakushi) (2001)
Knockaround Guys (2002)
Without Warning (a.k.a. Alien Warning) (a.k.a. It Came Without Warning) (1980)
Roger Dodger (2002)
Harry Potter and the Chamber of Secrets (2002)
Attila (Attila Flagello di Dio) (1982)
Lord of the Rings: The Two Towers, The (2002)
Devils on the Doorstep (Guizi lai le) (2000)
Matrix Reloaded, The (2003)
Treasure Island (1950)
Terminator 3: Rise of the Machines (2003)
Sure Thing, The (1985)
THX 1138 (1971)
Alien Contamination (1980)
Radio (2003)
Alien from L.A. (1988)
You'll Never Get Rich (1941)
Matrix Revolutions, The (2003)
Last Boy Scout, The (1991)
Life with Father (1947)
King of Hearts (1966)
Cooler, The (2003)
Lord of the Rings: The Return of the King, The (2003)
Wuthering Heights (1992)
Pride and Prejudice (1995)
He Said, She Said (1991)
Postman Always Rings Twice, The (1946)
Children of Dune (2003)
Dune (2000)
Day of the Jackal, The (1973)
Used People (1992)
Harry Potter and the Prisoner of Azkaban (2004)
Anna Christie (1930)
White Chicks (2004)
Tokyo Godfathers (2003)
Thunderbirds (2004)
Harold and Kumar Go to White Castle (2004)
AVP: Alien vs. Predator (2004)
Guerrilla: The Taking of Patty Hearst (2004)
Batman (1966)
Batman/Superman Movie, The (1998)
Batman Beyond: Return of the Joker (2000)
Dead or Alive: Final (2002)
Ginger Snaps: Unleashed (2004)
Slasher (2004)
Boys Town (1938)
Oh, God! You Devil (1984)
Mutant Aliens (2001)
Star Wars: Episode III - Revenge of the Sith (2005)
Rock School (2005)
Batman Begins (2005)
Grizzly Man (2005)
Roll Bounce (2005)
Harry Potter and the Goblet of Fire (2005)
Samurai Rebellion (Jôi-uchi: Hairyô tsuma shimatsu) (1967)
Freedomland (2006)
Evil Aliens (2005)
Hard Candy (2005)
Land of Plenty (Angst and Alienation in America) (2004)
Feast (2005)
Rocky Balboa (2006)
Unknown (2006)
Ocean's Thirteen (2007)
Live Free or Die Hard (2007)
Transformers (2007)
Harry Potter and the Order of the Phoenix (2007)
Electroma (2006)
Gone Baby Gone (2007)
No Country for Old Men (2007)
Itty Bitty Titty Committee (2007)
I Am Legend (2007)
AVPR: Aliens vs. Predator - Requiem (2007)
Hellboy II: The Golden Army (2008)
Harold & Kumar Escape from Guantanamo Bay (2008)
Batman: Gotham Knight (2008)
Star Wars: The Clone Wars (2008)
How to Lose Friends & Alienate People (2008)
Bolt (2008)
Bride Wars (2009)
Gamers, The: Dorkness Rising (2008)
Outlander (2008)
Push (2009)
Good, the Bad, the Weird, The (Joheunnom nabbeunnom isanghannom) (2008)
Monsters vs. Aliens (2009)
Inglourious Basterds (2009)
Terminator Salvation (2009)
Up (2009)
Fired Up (2009)
Garfield's Pet Force (2009)
Harry Potter and the Half-Blood Prince (2009)
Tetro (2009)
Burma VJ: Reporting from a Closed Country (Burma VJ: Reporter i et lukket land) (2008)
Did You Hear About the Morgans? (2009)
Toy Story 3 (2010)
Empire of Dreams: The Story of the 'Star Wars' Trilogy (2004)
Batman: Under the Red Hood (2010)
Machete (2010)
Next Three Days, The (2010)
First Beautiful Thing, The (La prima cosa bella) (2010)
Harry Potter and the Deathly Hallows: Part 1 (2010)
Fighter, The (2010)
Cowboys & Aliens (2011)
Brother 2 (Brat 2) (2000)
Arthur (2011)
Atlas Shrugged: Part 1 (2011)
Harry Potter and the Deathly Hallows: Part 2 (2011)
Very Harold & Kumar 3D Christmas, A (2011)
Bill Cunningham New York (2011)
Thing, The (2011)
Batman: Year One (2011)
Jack and Jill (2011)
Walking with Monsters (2005)
Superman/Batman: Public Enemies (2009)
Batman: The Dark Knight Returns, Part 1 (2012)
Jack Reacher (2012)
Misérables, Les (2012)
Misérables, Les (2000)
Batman: The Dark Knight Returns, Part 2 (2013)
Codependent Lesbian Space Alien Seeks Same (2011)
Good Day to Die Hard, A (2013)
Admission (2013)
Ivan Vasilievich: Back to the Future (Ivan Vasilievich menyaet professiyu) (1973)
LEGO Batman: The Movie - DC Heroes Unite (2013)
Craig Ferguson: I'm Here To Help (2013)
Batman: Mystery of the Batwoman (2003)
Grown Ups 2 (2013)
Rush (2013)
Family, The (2013)
To Do List, The (2013)
Edge of Tomorrow (2014)
Batman: Assault on Arkham (2014)
Maze Runner, The (2014)
Rudderless (2014)
Terminator Genisys (2015)
Mad Max: Fury Road (2015)
Star Wars: Episode VII - The Force Awakens (2015)
Mistress America (2015)
Batman vs. Robin (2015)
Patlabor 2: The Movie (1993)
Phir Hera Pheri (2006)
The Star Wars Holiday Special (1978)
The Secret Life of Pets (2016)
Batman v Superman: Dawn of Justice (2016)
The Revenant (2015)
Confessions of a Dangerous Mind (2002)
Le Maître d'école (1981)
Doctor Who: The Doctor, the Widow and the Wardrobe (2011)
Truth (2015)
Get a Job (2016)
The Boss (2016)
The BFG (2016)
The Do-Over (2016)
Batman: The Killing Joke (2016)
Winnie Pooh (1969)
All Roads Lead to Rome (2016)
The Rocky Horror Picture Show: Let's Do the Time Warp Again (2016)
Joe Rogan: Triggered (2016)
Rogue One: A Star Wars Story (2016)
The Lego Batman Movie (2017)
Alien: Covenant (2017)
Dave Chappelle: The Age of Spin (2017)
A Plasticine Crow (1981)
Generation Iron 2
The Godfather Trilogy: 1972-1990 (1992)
Cheburashka (1971)
Rory Scovel Tries Stand-Up for the First Time (2017)
Blade Runner 2049 (2017)
Mother! (2017)
Wonder Wheel (2017)
Star Wars: The Last Jedi (2017)
Annihilation (2018)
De platte jungle (1978)
Elsa & Fred (2005)
Solo: A Star Wars Story (2018)
Silver Spoon (2014)
Wonder Woman (2017)
"""

GUILD = 111


@pytest.fixture
async def store(store):
    """The contract `store` (SQLite, then PostgreSQL) with the titles above."""
    storage = store
    rows = []
    for raw in TITLES.splitlines():
        parsed = parse_title(raw)
        rows.append(MovieRow(parsed.title, parsed.year, (), alt_title=parsed.alt_title))
    result = await storage.add_movies_bulk(rows)
    assert result.added == len(rows)
    return storage


async def labels(store, query, limit=10, guild=GUILD):
    return [m.label for m in await store.search_movies(guild, query, limit=limit)]


async def test_missing_article_finds_the_title_first(store):
    found = await labels(store, "Matrix")
    assert found[0] == "The Matrix (1999)"
    assert {"The Matrix Reloaded (2003)", "The Matrix Revolutions (2003)"} <= set(found[:3])


async def test_accents_are_folded_both_ways(store):
    assert (await labels(store, "amelie"))[0] == "Amélie (2001)"
    assert (await labels(store, "Amélie"))[0] == "Amélie (2001)"
    assert (await labels(store, "les miserables"))[0].startswith("Les Misérables (")
    # The alternative (original-language) title is searchable too.
    assert (await labels(store, "cite des enfants perdus"))[0] == \
        "The City of Lost Children (1995)"


async def test_typos_are_tolerated(store):
    assert (await labels(store, "godfater"))[0] == "The Godfather (1972)"
    assert (await labels(store, "lord of the rigns"))[0].startswith("The Lord of the Rings")
    assert (await labels(store, "matirx"))[0] == "The Matrix (1999)"


async def test_lord_of_the_rings_finds_all_the_films(store):
    found = await labels(store, "lord of the rings", limit=4)
    assert set(found) == {
        "The Lord of the Rings (1978)",
        "The Lord of the Rings: The Fellowship of the Ring (2001)",
        "The Lord of the Rings: The Two Towers (2002)",
        "The Lord of the Rings: The Return of the King (2003)",
    }


async def test_words_in_any_form_find_both_harold_and_kumar_films(store):
    found = await labels(store, "Harold Kumar", limit=3)
    assert "Harold and Kumar Go to White Castle (2004)" in found
    assert "Harold & Kumar Escape from Guantanamo Bay (2008)" in found


@pytest.mark.parametrize("query", ["dune 1984", "Dune (1984)", "dune, 1984"])
async def test_a_year_in_the_query_prefers_that_year(store, query):
    found = await labels(store, query)
    assert found[0] == "Dune (1984)"
    assert "Dune (2000)" in found[:3]


async def test_dune_2000_with_year(store):
    assert (await labels(store, "dune 2000"))[0] == "Dune (2000)"


async def test_prefix_while_typing_and_short_queries(store):
    assert (await labels(store, "the godf"))[0] == "The Godfather (1972)"
    assert (await labels(store, "godfather part i"))[0].startswith("The Godfather: Part II")
    short = await labels(store, "ma")
    assert short and all(label.lower().startswith(("ma", "the ma", "a ma")) for label in short)
    assert await labels(store, "") == []
    assert await labels(store, "   ") == []
    assert await labels(store, "!!!") == []


async def test_nonsense_finds_nothing_much(store):
    assert await labels(store, "qzxjvw") == []


async def test_limit_and_offset_page_through_the_ranking(store):
    everything = await labels(store, "the", limit=50)
    first = await labels(store, "the", limit=5)
    second = [m.label for m in await store.search_movies(GUILD, "the", limit=5, offset=5)]
    assert first == everything[:5]
    assert second == everything[5:10]


async def test_guild_titles_are_searchable_only_in_their_guild(store):
    await store.add_movie("Matrix Fan Edit", 2020, (), guild_id=GUILD)
    assert "Matrix Fan Edit (2020)" in await labels(store, "matrix")
    assert "Matrix Fan Edit (2020)" not in await labels(store, "matrix", guild=222)
    assert "Matrix Fan Edit (2020)" not in await labels(store, "matrix", guild=None)
