"""click's own words (help, usage, errors) in Danish.

click marks its strings for gettext (``from gettext import gettext as _``) but ships no Danish
catalogue, and a compiled ``.mo`` file would be a generated binary in the repository. So the click
modules' ``_``/``ngettext`` are pointed at this table instead; a string without a Danish entry is
shown in English, as before.
"""

from __future__ import annotations

from typing import Any

import click

DANISH = {
    "Usage:": "Brug:",
    "Options": "Tilvalg",
    "Commands": "Kommandoer",
    "Positional arguments": "Argumenter",
    "Show this message and exit.": "Vis denne hjælp og afslut.",
    "Show the version and exit.": "Vis versionen og afslut.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Aborted!": "Afbrudt!",
    "Missing command.": "Der mangler en kommando.",
    "Error: {message}": "Fejl: {message}",
    "Try '{command} {option}' for help.": "Skriv '{command} {option}' for at få hjælp.",
    "Missing argument": "Der mangler et argument",
    "Missing option": "Der mangler et tilvalg",
    "Missing parameter": "Der mangler en parameter",
    "Missing parameter: {param_name}": "Der mangler en parameter: {param_name}",
    "Missing {param_type}": "Der mangler {param_type}",
    "Invalid value for {param_hint}: {message}": "Ugyldig værdi for {param_hint}: {message}",
    "Invalid value: {message}": "Ugyldig værdi: {message}",
    "No such option {name!r}.": "Tilvalget {name!r} findes ikke.",
    "No such command {name!r}.": "Kommandoen {name!r} findes ikke.",
    "Option {name!r} does not take a value.": "Tilvalget {name!r} tager ingen værdi.",
    "Argument {name!r} takes {nargs} values.": "Argumentet {name!r} tager {nargs} værdier.",
    "Could not open file {filename!r}: {message}": "Kunne ikke åbne filen {filename!r}: {message}",
    "unknown error": "ukendt fejl",
    "default: {default}": "standard: {default}",
    "env var: {var}": "miljøvariabel: {var}",
    "required": "påkrævet",
    "deprecated": "forældet",
    "(dynamic)": "(dynamisk)",
    "Do you want to continue?": "Vil du fortsætte?",
    "Confirm the action without prompting.": "Bekræft uden at spørge.",
    "Press any key to continue...": "Tryk på en tast for at fortsætte …",
    "Repeat for confirmation": "Gentag for at bekræfte",
    "Error: The two entered values do not match.": "Fejl: De to værdier er ikke ens.",
    "Error: invalid input": "Fejl: ugyldigt input",
    "Choose from:\n\t{choices}": "Vælg mellem:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} er ikke et gyldigt {number_type}.",
    "{value} is not in the range {range}.": "{value} ligger ikke i intervallet {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} er ikke en gyldig sandhedsværdi. Mulige værdier: {states}",
    "file": "fil",
    "directory": "mappe",
    "path": "sti",
    "{name} {filename!r} does not exist.": "{name} {filename!r} findes ikke.",
    "{name} {filename!r} is a file.": "{name} {filename!r} er en fil.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} er en mappe.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} kan ikke læses.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} kan ikke skrives.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} kan ikke køres.",
}
# (singular, plural) -> (Danish singular, Danish plural)
DANISH_PLURAL = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Uventet ekstra argument ({args})", "Uventede ekstra argumenter ({args})"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Mente du {possibility}?", "(Mente du en af: {possibilities}?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("Tilvalget {name!r} kræver en værdi.", "Tilvalget {name!r} kræver {nargs} værdier."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} er ikke {choice}.", "{value!r} er ikke en af {choices}."),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Tager {nargs} værdier, men fik 1.", "Tager {nargs} værdier, men fik {len}."),
}


def gettext(message: str) -> str:
    return DANISH.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    one, many = DANISH_PLURAL.get((singular, plural), (singular, plural))
    return one if n == 1 else many


def install() -> None:
    """Point click's gettext calls at the Danish table and name its value types in Danish (idempotent)."""
    from click import core, decorators, exceptions, formatting, parser, termui, types

    for module in (core, decorators, exceptions, formatting, parser, termui, types):
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    # Type names are shown as metavars (TEXT) and in errors ("is not a valid integer"); not gettext'ed.
    types.STRING.name = "tekst"
    types.INT.name = "heltal"
    types.FLOAT.name = "decimaltal"
    types.IntRange.name = "heltal"
    types.FloatRange.name = "decimaltal"


class Command(click.Command):
    """A command whose usage line says [TILVALG] instead of [OPTIONS]."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[TILVALG]")
        super().__init__(*args, **kwargs)


class Group(click.Group):
    """A group of Danish commands (and groups): "KOMMANDO [ARGUMENTER]..." in its usage line."""

    command_class = Command
    group_class = type  # subgroups are of this class too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[TILVALG]")
        kwargs.setdefault("subcommand_metavar", "KOMMANDO [ARGUMENTER]...")
        super().__init__(*args, **kwargs)
