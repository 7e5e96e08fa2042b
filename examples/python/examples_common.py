"""What every Python example shares, as examples/common.hpp does for the C++ ones: the one error
format of every program of axon (docs/cli.md, "Exit status and errors"),

    <program>: error: <what>: <why>

one line on stderr, with <program> the script's file name (`wait.py: error: cannot create node:
InsufficientResources`), and the checks that produce the same lines as the C++ examples.

The examples sit one directory below this file; each finds it with
`sys.path.insert(0, str(Path(__file__).resolve().parent.parent))`."""

import argparse
import os
import sys

import axon

USAGE_STATUS = 2  # argparse's, and that of every program of axon for a usage error
MAX_SHOWN_BYTES = 300  # of an argument repeated in a message; the rest is counted
MAX_INTERVAL_MS = 3_600_000  # an --interval-ms or --pause-ms: an hour at most

# The name every error line starts with: the parser's `prog` once parse_arguments() ran, the
# script's file name until then.
_program = os.path.basename(sys.argv[0])


def program() -> str:
    return _program


def escaped(text: str, quotes: bool = False) -> str:
    """`text` with every byte that is not printable ASCII written `\\n`, `\\r`, `\\t` or `\\xHH`
    and `\\` doubled (`"` too with `quotes`), so that it stays on one line and sends the terminal
    nothing but what is shown; cut after MAX_SHOWN_BYTES, marked by `...`. The bytes are those
    of the command line (os.fsencode undoes Python's decoding of argv)."""
    data = os.fsencode(text)
    out = []
    for byte in data[:MAX_SHOWN_BYTES]:
        char = chr(byte)
        if char == "\\" or (quotes and char == '"'):
            out.append("\\" + char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif byte < 0x20 or byte > 0x7E:
            out.append(f"\\x{byte:02x}")
        else:
            out.append(char)
    if len(data) > MAX_SHOWN_BYTES:
        out.append("...")
    return "".join(out)


def quoted(text: str) -> str:
    """`"text"`, escaped as by escaped() and with `"` escaped too; a text cut at MAX_SHOWN_BYTES
    is followed by its length. The form for any argument a message repeats back."""
    out = '"' + escaped(text, quotes=True) + '"'
    length = len(os.fsencode(text))
    return out + (f" ({length} bytes)" if length > MAX_SHOWN_BYTES else "")


def complain(what: str) -> None:
    """Prints `<program>: error: <what>` as one line on stderr; a line break in `what` becomes a
    space. Arguments repeated in `what` must be quoted() or escaped() already."""
    line = f"{_program}: error: {what}".replace("\n", " ").replace("\r", " ")
    print(line, file=sys.stderr, flush=True)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with a usage error as one error line of the common format, the usage after the
    problem: `wait.py: error: the following arguments are required: SERVICE (usage: wait.py [-h]
    SERVICE [SERVICE ...])`, status 2 (argparse's own would be the usage line, then the error)."""

    def error(self, message):
        usage = " ".join(self.format_usage().split())  # argparse wraps a long usage
        # argparse repeats arguments raw ("unrecognized arguments: ..."): escape them all.
        complain(f"{escaped(message)} ({usage})")
        sys.exit(USAGE_STATUS)


_RULES = {"Empty": "the name is empty",
          "TooLong": f"longer than {axon.MAX_SERVICE_NAME_LENGTH} bytes",
          "InvalidCharacter": "only printable ASCII without space is allowed",
          "EmptySegment": "an empty segment: '//', or a leading or trailing '/'",
          "DotSegment": "'.' and '..' are not allowed as segments"}


def explain(error: axon.ServiceNameError) -> str:
    """Why a name was refused: the error's name, then in words, as the C++ programs say it
    (`EmptySegment (an empty segment: '//', or a leading or trailing '/')`)."""
    rule = _RULES.get(error.name)
    return f"{error.name} ({rule})" if rule else error.name


def config_problem():
    """What is wrong with AXON_PREFIX or AXON_ROOT, in the words of the C++ programs; None when
    the configuration is valid. Said before anything is created, rather than letting node
    creation fail with a bare InvalidConfig (or a SystemEvent with InvalidName)."""
    config = axon.Config.from_environment()
    try:
        config.validate()
    except axon.ConfigError as error:
        if error.name == "InvalidPrefix":
            return (f"invalid AXON_PREFIX {quoted(config.prefix)}: 1..64 bytes of "
                    "[A-Za-z0-9_.-], without \"..\", not starting with '.'")
        if error.name == "InvalidRoot":
            return (f"invalid AXON_ROOT {quoted(config.root)}: an absolute path without empty, "
                    "\".\" or \"..\" components, not \"/\"")
        return f"invalid configuration: {error.name}"
    return None


def parse_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The arguments, then a check of the environment: an invalid AXON_PREFIX or AXON_ROOT is
    one error line and exit status 2, as for every program of axon. Error lines from here on
    start with the parser's `prog`."""
    global _program
    _program = parser.prog
    args = parser.parse_args()
    problem = config_problem()
    if problem is not None:
        complain(problem)
        sys.exit(USAGE_STATUS)
    return args


def name_or_complain(text: str, what: str = "service name"):
    """`text` as an axon.ServiceName; otherwise the error line
    `invalid service name "<text>": <why>` and None."""
    try:
        return axon.ServiceName(text)
    except axon.ServiceNameError as error:
        complain(f"invalid {what} {quoted(text)}: {explain(error)}")
        return None


def number_or_complain(what: str, text: str, maximum: int = 2**64 - 1):
    """A whole decimal number in 0..maximum, digits only (no sign, space, `_` or prefix);
    otherwise the error line `<what> "<text>" is negative` (or is not a whole non-negative decimal
    number, or is too large) and None."""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        complain(f"{what} {quoted(text)} is not a whole non-negative decimal number")
        return None
    if text.startswith("-"):
        complain(f"{what} {quoted(text)} is negative")
        return None
    if int(text) > maximum:
        complain(f"{what} {quoted(text)} is too large (at most {maximum})")
        return None
    return int(text)


def node_or_complain(name: str):
    """A node named `name` (every example names its node, so `axon node list` tells them
    apart); otherwise the error line `cannot create node: <why>` and None."""
    try:
        return axon.NodeBuilder().name(name).create()
    except axon.AxonError as error:
        complain(f"cannot create node: {error.name}")
        return None


def run(main) -> int:
    """main()'s exit status; a failure it does not name itself (an exception) is one error line,
    `<ExceptionType>: <why>`, and status 1, as the C++ examples' died_of. KeyboardInterrupt is
    the examples' own to handle."""
    try:
        return main()
    except Exception as error:  # noqa: BLE001  (every failure ends as one line, not a traceback)
        why = error.name if isinstance(error, axon.AxonError) else escaped(str(error))
        complain(f"{type(error).__name__}: {why}" if why else type(error).__name__)
        return 1
