"""Imported lazily by the /report view, never at start-up."""


def summary(notes):
    authors = sorted({note["author"] for note in notes})
    return f"{len(notes)} notes by {', '.join(authors) or 'nobody'}"
